"""Readers' keywords against new stories: one regex per keyword (before) vs the token index.

Usage: python -m bench.matching [--keywords 20000,100000] [--runs 5] [--old-runs 3]

Stories are the packaged samples. Keywords are drawn (fixed seed) from the samples' own words
plus made-up ones, as readers' keywords are: mostly single words, a fifth two- or three-word
phrases, a few with punctuation ("covid-19"). "old" is what `plan_due` did for all stories (every
keyword's regex on each, plus the topic-name rule); "new" is building the index once, then
matching every story ("per story" is the matching alone, index built). Both give the same
keywords (checked). Medians of wall time on one core.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.matching import KeywordIndex
from content.models import Article
from content.parsing import parse_file
from content.topics import derive_topics, keyword_matches, normalise_topic

SAMPLES = Path(__file__).resolve().parents[1] / "content" / "samples"
ZONE = ZoneInfo("Asia/Singapore")


def stories() -> list[Article]:
    articles = [parse_file(path, default_tz=ZONE) for path in sorted(SAMPLES.iterdir())]
    return [a.__class__(**{**_fields(a), "topics": derive_topics(a)}) for a in articles]


def _fields(article: Article) -> dict[str, object]:
    return {name: getattr(article, name) for name in article.__dataclass_fields__}


def keywords(count: int, articles: list[Article], seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    words = sorted({w for a in articles for w in re.findall(r"[a-z]{3,}", a.body_text.lower())})
    made_up = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(5000)
    ]
    pool = words + made_up
    out: set[str] = set()
    while len(out) < count:
        roll = rng.random()
        if roll < 0.75:
            out.add(rng.choice(pool))
        elif roll < 0.95:
            out.add(" ".join(rng.choice(pool) for _ in range(rng.choice((2, 3)))))
        else:
            out.add(f"{rng.choice(pool)}-{rng.randint(1, 99)}")
    return sorted(out)


def old(keyword_list: list[str], articles: list[Article]) -> list[list[str]]:
    result = []
    for article in articles:
        topics = set(article.topics)
        result.append(
            [
                k
                for k in keyword_list
                if normalise_topic(k) in topics
                or keyword_matches(
                    k, title=article.title, standfirst=article.standfirst, body=article.body_text
                )
            ]
        )
    return result


def new(keyword_list: list[str], articles: list[Article]) -> list[list[str]]:
    index = KeywordIndex(keyword_list)
    return [index.matches(article) for article in articles]


def median_time(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", default="20000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-runs", type=int, default=3)
    args = parser.parse_args()
    articles = stories()
    print(f"{len(articles)} stories, {sum(len(a.body_text) for a in articles)} characters")
    head = ("keywords", "old s", "new s", "of it build", "speed-up", "matched")
    print(
        " ".join(f"{name:>{width}}" for name, width in zip(head, (9, 9, 9, 11, 9, 8), strict=True))
    )
    for count in (int(n) for n in args.keywords.split(",")):
        keyword_list = keywords(count, articles)
        expected, got = old(keyword_list, articles), new(keyword_list, articles)
        assert [sorted(m) for m in expected] == [sorted(m) for m in got], "results differ"
        t_old = median_time(lambda k=keyword_list: old(k, articles), args.old_runs)
        t_new = median_time(lambda k=keyword_list: new(k, articles), args.runs)
        t_build = median_time(lambda k=keyword_list: KeywordIndex(k), args.runs)
        index = KeywordIndex(keyword_list)
        t_story = median_time(lambda i=index: [i.matches(a) for a in articles], args.runs)
        t_story /= len(articles)
        matched = sum(len(m) for m in got)
        print(
            f"{count:>9} {t_old:>9.3f} {t_new:>9.4f} {t_build:>11.4f} {t_story * 1000:>12.2f} "
            f"{t_old / t_new:>8.0f}x {matched:>8}"
        )


if __name__ == "__main__":
    main()
