"""Search at archive scale: /search, /latest and inline queries on 100,000 stories.

Usage: python bench/search.py [--stories 100000] [--backends sqlite,postgresql] [--runs 60]
                              [--import-stories 3000] [--sizes 1000,10000,100000]
                              [--plot bench/search-latency.png]

Stories are generated (fixed seed): a Zipf vocabulary of made-up words, eight-word titles,
three paragraphs of 40 words; "singapore" once in every story's text (never in a title),
"zanzibar" in 20 stories, "harbour", "ferry" and "fares" in a few percent each. They are
stored in shuffled date order (as an archive arrives): rows in bulk, the full-text index by the
migration's own code (SQLite) or the generated column (PostgreSQL). Then `--import-stories`
more go through the real path (`repo.articles.upsert(..., archive=True)`, one call per story,
one transaction each) for the import rate. Each query runs `--runs` times after a warm-up,
through the repository as the bot calls it; times are wall clock, median and p95.
With `--sizes`, each size is a fresh archive; the plot shows each query's median and p95
against the archive's size (`--plot`, default bench/search-latency.png; `--plot ''`: none).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import plotting
from content.models import Article, Block, BlockKind
from content.storage import Repository, fulltext
from content.storage.articles import article_row
from content.storage.tables import articles
from tests.support.measure import progress
from tests.support.pgcluster import throwaway_cluster

NOW = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)
RARE, COMMON, THREE = "zanzibar", "singapore", "harbour ferry fares"
GOALS = {"search_p95_ms": 20.0, "latest_p95_ms": 5.0, "import_per_s": 500.0}


class Stories:
    """Deterministic made-up stories: story n is dated n minutes after the oldest."""

    def __init__(self, total: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        syllables = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "pe", "da", "ri", "mo"]
        self.vocab = sorted(
            {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(30000)}
        )
        self.cumulative = list(itertools.accumulate(1 / (i + 1) for i in range(len(self.vocab))))
        self.total = total
        self.rare = set(rng.sample(range(total), 20))
        self.oldest = NOW - timedelta(minutes=total + 1)
        self.rng = rng

    def words(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cumulative, k=k)

    def make(self, n: int) -> Article:
        rng = self.rng
        title = " ".join(self.words(8)).capitalize()
        if rng.random() < 0.01:
            title += " harbour"
        paragraphs = [self.words(40) for _ in range(3)]
        paragraphs[0].insert(rng.randint(0, 40), COMMON)
        for word, share in (("harbour", 0.05), ("ferry", 0.04), ("fares", 0.03)):
            if rng.random() < share:
                paragraphs[rng.randint(0, 2)].insert(rng.randint(0, 40), word)
        if n in self.rare:
            paragraphs[2].append(RARE)
        return Article(
            id=f"s{n:06d}",
            title=title,
            blocks=tuple(Block(BlockKind.PARAGRAPH, " ".join(p) + ".") for p in paragraphs),
            published=self.oldest + timedelta(minutes=n),
            topics=("news",),
        )

    def shuffled(self, numbers: range) -> Iterator[Article]:
        order = list(numbers)
        random.Random(5).shuffle(order)
        for n in order:
            yield self.make(n)


async def seed(repo: Repository, stories: Stories, count: int) -> float:
    """Store `count` stories in bulk (rows, then the index as migration 0007 builds it)."""
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        async with repo.engine.begin() as conn:
            await conn.execute(articles.insert(), batch)
        batch.clear()

    shown = progress(f"seeding {count:,} stories", count)
    for story in stories.shuffled(range(count)):
        shown.advance()
        batch.append(
            {
                "id": story.id,
                "first_seen_at": NOW,
                "updated_at": NOW,
                "archived": True,
                "planned_at": NOW,
                "dated_at": story.published,
                **article_row(story),
            }
        )
        if len(batch) >= 2000:
            await flush()
    if batch:
        await flush()
    shown.close()
    async with repo.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.run_sync(fulltext.populate_sqlite)
        else:
            await conn.exec_driver_sql("ANALYZE articles")
    return time.perf_counter() - started


async def import_rate(
    repo: Repository, stories: Stories, first: int, count: int, *, batch: int
) -> tuple[float, float]:
    """Stories per second (wall, and per CPU second of this process) through the real path.

    batch 1: `upsert` per story (one transaction each); else `upsert_many` per `batch`.
    """
    made = list(stories.shuffled(range(first, first + count)))
    started, cpu = time.perf_counter(), time.process_time()
    if batch == 1:
        for story in made:
            await repo.articles.upsert(story, now=NOW, archive=True)
    else:
        for at in range(0, count, batch):
            await repo.articles.upsert_many([(s, True) for s in made[at : at + batch]], now=NOW)
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, float]:
    """Median and p95 of wall time, median of this process's CPU time, in milliseconds."""
    for _ in range(3):
        await call()
    times, cpu_times = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        await call()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
    p95 = statistics.quantiles(times, n=20)[18]
    return statistics.median(times), p95, statistics.median(cpu_times)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# A query's label -> (median, p95) in milliseconds.
Figures = dict[str, tuple[float, float]]


async def run_backend(name: str, url: str, args: argparse.Namespace) -> tuple[list[str], Figures]:
    repo = Repository.open(url)
    lines: list[str] = []
    figures: Figures = {}
    try:
        await repo.migrate()
        stories = Stories(args.stories + args.import_stories)
        seconds = await seed(repo, stories, args.stories)
        lines.append(f"{name}: seeded {args.stories:,} stories in {seconds:.0f}s (bulk)")
        half = args.import_stories // 2
        single = await import_rate(repo, stories, args.stories, half, batch=1)
        rate, cpu_rate = await import_rate(
            repo, stories, args.stories + half, args.import_stories - half, batch=200
        )
        total = args.stories + args.import_stories
        search = repo.articles.search
        cases: list[tuple[str, Callable[[], Awaitable[Any]], str]] = [
            (f"search rare ({RARE!r})", lambda: search(RARE, limit=10, now=NOW), "search"),
            (f"search common ({COMMON!r})", lambda: search(COMMON, limit=10, now=NOW), "search"),
            (f"search three ({THREE!r})", lambda: search(THREE, limit=10, now=NOW), "search"),
            ("/latest (20)", lambda: repo.articles.latest(limit=20, now=NOW), "latest"),
            (
                "inline 'ferry' page 2",
                lambda: search("ferry", limit=20, offset=20, now=NOW),
                "search",
            ),
            (
                "inline empty page 2",
                lambda: repo.articles.latest(limit=20, offset=20, now=NOW),
                "latest",
            ),
            ("/start count (visible)", lambda: repo.articles.count(now=NOW), "count"),
        ]
        for label, call, kind in cases:
            median, p95, cpu = await timed(call, args.runs)
            figures[label] = (median, p95)
            goal = GOALS.get(f"{kind}_p95_ms")
            mark = (
                f" [p95 ≤ {goal:g} ms: {verdict(p95 <= goal)}]"
                if name == "sqlite" and goal is not None
                else ""
            )
            lines.append(
                f"{name}: {label:36} median {median:6.2f} ms  p95 {p95:6.2f} ms"
                f"  (CPU median {cpu:5.2f} ms){mark}"
            )
        mark = (
            f" [≥ {GOALS['import_per_s']:g}/s: {verdict(rate >= GOALS['import_per_s'])}]"
            if name == "sqlite"
            else ""
        )
        lines.append(
            f"{name}: import {rate:,.0f} stories/s (upsert_many, 200 a transaction;"
            f" {cpu_rate:,.0f} per CPU second of this process){mark}"
        )
        lines.append(
            f"{name}: import {single[0]:,.0f} stories/s (upsert, one transaction each;"
            f" {single[1]:,.0f} per CPU second)"
        )
        # Every story holds the common word once, in its text: the first page is the newest.
        hits = await search(COMMON, limit=20, now=NOW)
        newest = [a.id for a in await repo.articles.latest(limit=20, now=NOW)]
        found = [h.article.id for h in hits]
        lines.append(
            f"{name}: newest of {total:,} equal matches on the first page: "
            f"{verdict(found == newest)} (first {found[:3]})"
        )
    finally:
        await repo.close()
    for line in lines:
        print(line, flush=True)
    return lines, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument(
        "--sizes", default="", help="archive sizes to run in turn, e.g. 1000,10000 (--stories)"
    )
    parser.add_argument("--import-stories", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--plot",
        default=str(Path(__file__).with_name("search-latency.png")),
        help="where to write the latency plot (PNG); '' for none",
    )
    args = parser.parse_args()
    backends = args.backends.split(",")
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()] or [args.stories]
    # Backend, query label -> (median, p95) at each size, in order.
    series: dict[str, list[tuple[float, float]]] = {}
    for size in sizes:
        args.stories = size
        results: list[tuple[str, Figures]] = []
        if "sqlite" in backends:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{folder}/bench.db"
                results.append(("sqlite", asyncio.run(run_backend("sqlite", url, args))[1]))
        if "postgresql" in backends:
            with throwaway_cluster() as url:
                results.append(("postgresql", asyncio.run(run_backend("postgresql", url, args))[1]))
        for name, figures in results:
            for label, figure in figures.items():
                key = label if len(backends) == 1 else f"{name}: {label}"
                series.setdefault(key, []).append(figure)
    if args.plot:
        plotting.latency(Path(args.plot), sizes, series)
        print(f"plot: {args.plot}", flush=True)


if __name__ == "__main__":
    main()
