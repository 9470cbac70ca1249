"""Score article-body extraction on the shared benchmark pages, and time it.

Usage: python -m bench.extraction [--methods newswire,trafilatura,readability] [--runs 3]
       [--data DIR] [--worst N]

Metric: per page, token-level precision, recall and F1 of the extracted body against the person-
marked `articleBody`, as multisets. Tokens: runs of Unicode word characters (`\\w+`), lowercased,
with each CJK ideograph, kana or hangul syllable a token of its own. A page where both sides are
empty scores 1; one empty side scores 0. Pages are split by the parity of their hash (even: dev,
odd: test); newswire's settings were chosen looking at dev, and all pages are reported.
Speed: pages per second over all pages (bodies already decompressed in memory), the median of
`--runs` passes, every method in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.extraction import extract

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "extraction"

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens; each CJK character is one token."""
    return _TOKEN_RE.findall(text.lower())


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def score(predicted: str, truth: str) -> Score:
    """Multiset token overlap of a prediction with the ground truth."""
    pred, true = Counter(tokenize(predicted)), Counter(tokenize(truth))
    n_pred, n_true = sum(pred.values()), sum(true.values())
    if n_pred == 0 and n_true == 0:
        return Score(1.0, 1.0, 1.0)
    overlap = sum((pred & true).values())
    precision = overlap / n_pred if n_pred else 0.0
    recall = overlap / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def _newswire(html: bytes) -> str:
    return extract(html).text


def _trafilatura(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def _readability(html: bytes) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html).summary()
    # Space between text nodes, so words of adjacent paragraphs are not glued together.
    return " ".join(lxml.html.fromstring(summary).itertext())


METHODS: dict[str, Callable[[bytes], str]] = {
    "newswire": _newswire,
    "trafilatura": _trafilatura,
    "readability": _readability,
}


def load(data: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """Page bytes and ground-truth bodies by page hash."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {key: gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()) for key in truth}
    return pages, {key: str(value["articleBody"]) for key, value in truth.items()}


def _split(key: str) -> str:
    return "dev" if int(key, 16) % 2 == 0 else "test"


def run(args: argparse.Namespace) -> None:
    pages, truth = load(Path(args.data))
    names = [name.strip() for name in args.methods.split(",") if name.strip()]
    python = sys.version.split()[0]
    print(f"{len(pages)} pages, {args.runs} timed passes per method, python {python}")
    print("method       split pages  meanF1   medF1      P      R  pages/s")
    for name in names:
        method = METHODS[name]
        outputs: dict[str, str] = {}
        rates = []
        for _ in range(args.runs):
            started = time.perf_counter()
            outputs = {key: method(html) for key, html in pages.items()}
            rates.append(len(pages) / (time.perf_counter() - started))
        scores = {key: score(outputs[key], truth[key]) for key in pages}
        rate = statistics.median(rates)
        for split in ("all", "dev", "test"):
            chosen = [s for key, s in scores.items() if split == "all" or _split(key) == split]
            f1s = [s.f1 for s in chosen]
            precision = statistics.mean(s.precision for s in chosen)
            recall = statistics.mean(s.recall for s in chosen)
            line = (
                f"{name:12s} {split:5s} {len(chosen):5d} {statistics.mean(f1s):7.4f} "
                f"{statistics.median(f1s):7.4f} {precision:6.3f} {recall:6.3f}"
            )
            print(line + (f" {rate:8.1f}" if split == "all" else ""), flush=True)
        if args.worst:
            for key, s in sorted(scores.items(), key=lambda item: item[1].f1)[: args.worst]:
                figures = f"F1 {s.f1:.3f} P {s.precision:.3f} R {s.recall:.3f}"
                print(f"    {key[:12]} {_split(key)} {figures}")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--worst", type=int, default=0, help="list the N lowest-F1 pages")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
