"""Reader rules below the handlers: the one visibility rule (Python and SQL) and update windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handlers.throttle import ReaderWindows, Verdict
from content.models import Article
from content.storage import Repository
from content.visibility import is_embargoed, is_visible
from tests.support.articles import make_article

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def story(article_id: str, publish_at: datetime | None) -> Article:
    return make_article(
        article_id, published=NOW - timedelta(days=1), topics=("food",), publish_at=publish_at
    )


STORIES = [
    story("none", None),
    story("past", NOW - timedelta(hours=1)),
    story("now", NOW),
    story("soon", NOW + timedelta(seconds=1)),
    story("later", NOW + timedelta(days=365)),
]


def test_visible_unless_its_time_has_not_come() -> None:
    assert [s.id for s in STORIES if is_visible(s, now=NOW)] == ["none", "past", "now"]
    assert [s.id for s in STORIES if is_embargoed(s, now=NOW)] == ["soon", "later"]


async def test_storage_filters_with_the_same_rule(repo: Repository) -> None:
    for item in STORIES:
        await repo.articles.upsert(item, now=NOW - timedelta(days=1))
    expected = {s.id for s in STORIES if is_visible(s, now=NOW)}
    assert {a.id for a in await repo.articles.latest(limit=10, now=NOW)} == expected
    hits = await repo.articles.search("story", limit=10, now=NOW)
    assert {h.article.id for h in hits} == expected
    counts = await repo.articles.topic_counts(now=NOW)
    assert [(c.topic, c.count) for c in counts] == [("food", len(expected))]
    assert await repo.articles.count(now=NOW) == len(expected)
    assert await repo.articles.count() == len(STORIES)


def test_a_reader_gets_the_limit_then_one_warning_then_silence() -> None:
    windows = ReaderWindows(limit=3, window=10.0)
    verdicts = [windows.check(1, 100.0 + i * 0.1) for i in range(6)]
    assert verdicts == [Verdict.ADMIT] * 3 + [Verdict.WARN] + [Verdict.DROP] * 2
    assert windows.check(2, 100.6) is Verdict.ADMIT  # another reader is not affected


def test_the_window_slides_and_the_warning_rearms() -> None:
    windows = ReaderWindows(limit=2, window=10.0)
    assert [windows.check(1, t) for t in (0.0, 1.0, 2.0, 3.0)] == [
        Verdict.ADMIT,
        Verdict.ADMIT,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert windows.check(1, 10.0) is Verdict.ADMIT  # the update at 0.0 left the window
    assert windows.check(1, 10.5) is Verdict.WARN  # over again: told again, once
    assert windows.check(1, 11.0) is Verdict.ADMIT


def test_memory_is_bounded_by_the_readers_it_remembers() -> None:
    windows = ReaderWindows(limit=1, window=10.0, max_readers=100)
    for reader in range(10_000):
        windows.check(reader, 0.0)
    assert len(windows) == 100
    assert windows.check(9_999, 1.0) is Verdict.WARN  # recent readers are still limited
