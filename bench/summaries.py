"""Score summarizers with ROUGE on the shared CNN/DailyMail and XSum sets, and time them.

Usage: python -m bench.summaries [--methods lead,default] [--split dev|test|both] [--limit N]
       [--runs 5] [--data DIR] [--splitters] [--tune]

Lead-N is always scored in the same run as the reference point. Tune on dev only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.summarizing import (
    ExtractiveSummarizer,
    LeadSummarizer,
    RankerParams,
    Summarizer,
    split_sentences,
)
from content.summarizing.extractive import article_sentences

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "summaries"
# Dataset -> summary length in sentences, as the issue asks (CNN/DM highlights vs XSum one-liners).
DATASETS = {"cnndm": 3, "xsum": 1}


def _methods() -> dict[str, Callable[[], Summarizer]]:
    """Every summarizer the bench knows, by name; "lead" is always run."""
    no_position = {"position_weight": 0.0, "title_weight": 0.0, "length_penalty": 0.0}
    return {
        "lead": LeadSummarizer,
        # Plain undirected centrality (TextRank/LexRank degree style) on cleaned sentences.
        "textrank": lambda: ExtractiveSummarizer(
            replace(
                RankerParams(),
                **no_position,
                centrality_weight=1.0,
                backward_weight=1.0,
                forward_weight=1.0,
            )
        ),
        # PACSUM's directed centrality without an explicit position prior.
        "pacsum": lambda: ExtractiveSummarizer(
            replace(
                RankerParams(),
                **no_position,
                centrality_weight=1.0,
                backward_weight=-0.3,
                forward_weight=1.0,
                edge_threshold=0.1,
            )
        ),
        # Lead-N after cleaning and filtering, no centrality: what cleaning alone is worth.
        "lead-clean": lambda: ExtractiveSummarizer(
            replace(RankerParams(), centrality_weight=0.0, title_weight=0.0, length_penalty=0.0)
        ),
        "default-noclean": lambda: ExtractiveSummarizer(clean=False),
        "default": ExtractiveSummarizer,
    }


@dataclass
class Row:
    id: str
    article: str
    reference: str
    split: str


def load(data: Path, name: str, split: str, limit: int | None) -> list[Row]:
    """Rows of one dataset for the split ("both" keeps all), at most `limit` per split."""
    rows = [json.loads(line) for line in (data / f"{name}.jsonl").read_text().splitlines() if line]
    out: list[Row] = []
    for wanted in ("dev", "test") if split == "both" else (split,):
        sel = [r for r in rows if r["split"] == wanted][:limit]
        out += [Row(r["id"], r["article"], r["reference"], r["split"]) for r in sel]
    return out


def paragraphs_of(article: str) -> list[str]:
    """The eval articles are one line each; split on newlines if a row ever has them."""
    parts = [p for p in article.split("\n") if p.strip()]
    return parts or [article]


_SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)


def rouge(rows: Sequence[Row], summaries: Sequence[list[str]]) -> tuple[float, float, float]:
    """Mean ROUGE-1/2/Lsum F1 x100; rougeLsum gets one sentence a line, as the package expects."""
    totals = [0.0, 0.0, 0.0]
    for row, summary in zip(rows, summaries, strict=True):
        s = _SCORER.score(row.reference, "\n".join(summary))
        for i, key in enumerate(("rouge1", "rouge2", "rougeLsum")):
            totals[i] += s[key].fmeasure
    n = max(len(rows), 1)
    return totals[0] * 100 / n, totals[1] * 100 / n, totals[2] * 100 / n


def run_all(summarizer: Summarizer, rows: Sequence[Row], k: int) -> list[list[str]]:
    """Summarize every row with `k` sentences."""
    return [summarizer.summarize(paragraphs_of(r.article), max_sentences=k) for r in rows]


def speed(summarizer: Summarizer, rows: Sequence[Row], k: int, runs: int) -> float:
    """Articles per second: median over `runs` timed passes (after one warm-up pass)."""
    run_all(summarizer, rows, k)
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run_all(summarizer, rows, k)
        rates.append(len(rows) / (time.perf_counter() - t0))
    return statistics.median(rates)


def pin_one_core() -> str:
    """Pin this process to one CPU so "one core" means one core; returns a note for the table."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def evaluate(args: argparse.Namespace) -> None:
    """Print the ROUGE and speed table for the chosen methods, datasets and splits."""
    methods = _methods()
    names = ["lead"] + [m for m in args.methods.split(",") if m and m != "lead"]
    unknown = [m for m in names if m not in methods]
    if unknown:
        sys.exit(f"unknown method(s): {', '.join(unknown)}; known: {', '.join(methods)}")
    note = pin_one_core()
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    print(f"data: {args.data}  ({note}; speed = median of {args.runs} runs over all rows)")
    header = f"| dataset | method | {' | '.join(f'{s} R-1 / R-2 / R-Lsum' for s in splits)} |"
    print(header + " articles/s |")
    print("|" + "---|" * (len(splits) + 3))
    for name, k in DATASETS.items():
        if args.datasets and name not in args.datasets.split(","):
            continue
        rows = load(args.data, name, args.split, args.limit)
        for method in names:
            summarizer = methods[method]()
            cells = []
            for split in splits:
                part = [r for r in rows if r.split == split]
                r1, r2, rl = rouge(part, run_all(summarizer, part, k))
                cells.append(f"{r1:.1f} / {r2:.1f} / {rl:.1f}")
            rate = speed(summarizer, rows, k, args.runs)
            label = f"Lead-{k}" if method == "lead" else method
            print(f"| {name} ({k} sent.) | {label} | {' | '.join(cells)} | {rate:,.0f} |")


# --- sentence splitters -------------------------------------------------------------------------

_NAIVE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“‘])")
# Hand-made cases from news copy: each text with its correct sentences.
SPLIT_CASES: list[list[str]] = [
    [
        "A 34-year-old man was fined S$3,000 on Jul. 2 after he kicked an e-scooter.",
        "Repairs cost about S$450.",
    ],
    ["Mr. Smith flew to the U.S. on Monday.", "He said the trip cost $2.5 million."],
    ['"We are waiting for you in Kyiv!" the ministry said.', "It gave no details."],
    ["Dr. Jane Doe of Acme Inc. said sales rose 3.5 per cent.", "Shares fell."],
    ["The incident took place at about 10pm on Mar. 14, 2026.", "Nobody was hurt."],
    ["He joined No. 10 in 2019.", "'I am proud,' he said.", "'It is an honour.'"],
    ["Gen. Mark Milley met Sen. John McCain at 3 p.m. on Friday.", "They spoke for an hour."],
    ["J. K. Rowling lives in Edinburgh.", "She was born in 1965."],
    ["Is it over?", "Not yet, officials said."],
    ["The firm employs 1,200 people in the U.K.", "The company said it would appeal."],
]


def _pysbd_splitter() -> Callable[[str], list[str]] | None:
    try:
        import pysbd
    except ImportError:
        return None
    seg = pysbd.Segmenter(language="en", clean=False)
    return lambda text: [s.strip() for s in seg.segment(text) if s.strip()]


def compare_splitters(args: argparse.Namespace) -> None:
    """Accuracy on hand-made news cases, Lead-3 ROUGE on CNN/DM dev and speed, per splitter."""
    splitters: dict[str, Callable[[str], list[str]]] = {
        "newswire (regex + rules)": split_sentences,
        "naive regex": lambda t: [s for s in _NAIVE.split(t) if s.strip()],
    }
    pysbd_split = _pysbd_splitter()
    if pysbd_split is not None:
        splitters["pysbd 0.3"] = pysbd_split
    rows = load(args.data, "cnndm", "dev", args.limit)
    pin_one_core()
    print("| splitter | hand cases exact | CNN/DM dev Lead-3 R-1 / R-2 / R-Lsum | articles/s |")
    print("|---|---|---|---|")
    for name, split in splitters.items():
        exact = sum(split(" ".join(case)) == case for case in SPLIT_CASES)
        leads = [split(r.article)[:3] for r in rows]
        r1, r2, rl = rouge(rows, leads)
        rates = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for r in rows:
                split(r.article)
            rates.append(len(rows) / (time.perf_counter() - t0))
        print(
            f"| {name} | {exact}/{len(SPLIT_CASES)} | {r1:.1f} / {r2:.1f} / {rl:.1f} |"
            f" {statistics.median(rates):,.0f} |"
        )


# --- tuning (dev only) ----------------------------------------------------------------------------

GRID: dict[str, Sequence[float]] = {
    "position_decay": (0.2, 0.3, 0.5, 0.8),
    "centrality_weight": (0.0, 0.4, 0.8, 1.5),
    "keyword_weight": (0.0, 1.0, 2.0, 4.0),
    "length_penalty": (0.2, 0.4, 0.8),
    "quote_penalty": (0.0, 0.2),
    "bare_quote_penalty": (0.0, 0.3, 1.0),
}


def tune(args: argparse.Namespace) -> None:
    """Grid-search the ranker's weights on the dev split (never test); print the best settings."""
    data = {name: load(args.data, name, "dev", args.limit) for name in DATASETS}
    # Splitting and cleaning do not depend on the weights: do them once.
    cands = {
        name: [article_sentences(paragraphs_of(r.article)) for r in rows]
        for name, rows in data.items()
    }
    cache: dict[tuple[str, tuple[str, ...]], float] = {}

    def r1(row: Row, summary: list[str]) -> float:
        key = (row.id, tuple(summary))
        if key not in cache:
            cache[key] = _SCORER.score(row.reference, "\n".join(summary))["rouge1"].fmeasure
        return cache[key]

    grid = {k: v for k, v in GRID.items() if not args.tune_only or k in args.tune_only}
    keys = list(grid)
    results = []
    for values in itertools.product(*(grid[k] for k in keys)):
        params = replace(RankerParams(), **dict(zip(keys, values, strict=True)))
        summarizer = ExtractiveSummarizer(params)
        score = {}
        for name, rows in data.items():
            k = DATASETS[name]
            picks = [summarizer.pick(c, None, k) for c in cands[name]]
            score[name] = 100 * statistics.fmean(r1(r, p) for r, p in zip(rows, picks, strict=True))
        results.append(
            (score["cnndm"] + score["xsum"], score, dict(zip(keys, values, strict=True)))
        )
    # Each dataset tunes its own summary length: 3 sentences (multi) and 1 sentence (single).
    for name in DATASETS:
        print(f"best on {name} dev:")
        results.sort(key=lambda r: -r[1][name])
        for _, sc, params in results[:8]:
            print(f"  cnndm {sc['cnndm']:.2f} xsum {sc['xsum']:.2f} {params}")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and run the evaluation, the splitter comparison or the tuning."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--methods", default="textrank,pacsum,lead-clean,default")
    parser.add_argument("--datasets", default="", help="comma list; default all")
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--limit", type=int, default=None, help="rows per split")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median)")
    parser.add_argument("--splitters", action="store_true", help="compare sentence splitters")
    parser.add_argument("--tune", action="store_true", help="grid search on dev")
    parser.add_argument("--tune-only", default="", help="comma list of parameters to search")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        sys.exit(f"no evaluation data at {args.data} (use --data DIR)")
    if args.tune:
        tune(args)
    elif args.splitters:
        compare_splitters(args)
    else:
        evaluate(args)


if __name__ == "__main__":
    main()
