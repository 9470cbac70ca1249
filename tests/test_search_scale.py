"""Search over a whole archive: the full-text index ranks every match, and stays in step."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

import content.pipeline
from content.models import Article
from content.pipeline import plan_due
from content.storage import Repository
from content.storage.repository import alembic_config
from tests.support.articles import make_article
from tests.support.ingest import scan, story

T0 = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)


def ids(hits: list[Any]) -> list[str]:
    return [h.article.id for h in hits]


async def store_archive(repo: Repository, size: int) -> None:
    """`size` stories, each with "harbour" once in its text, stored oldest first."""
    for n in range(size):
        story = make_article(
            f"s{n:05d}",
            title=f"Report number {n}",
            body=f"The harbour was quiet on day {n}.",
            published=T0 - timedelta(hours=size - n),
        )
        await repo.articles.upsert(story, now=T0)
        await repo.articles.mark_archived(story.id, now=T0)


async def test_newest_of_equal_matches_on_the_first_page(repo: Repository) -> None:
    # The bug: ranking only the first 1,000 rows in table order lost the newest stories.
    await store_archive(repo, 2000)
    first = await repo.articles.search("harbour", limit=5, now=T0)
    assert ids(first) == ["s01999", "s01998", "s01997", "s01996", "s01995"]
    second = await repo.articles.search("harbour", limit=5, offset=5, now=T0)
    assert ids(second) == ["s01994", "s01993", "s01992", "s01991", "s01990"]
    last = await repo.articles.search("harbour", limit=5, offset=1998, now=T0)
    assert ids(last) == ["s00001", "s00000"]


async def test_words_matched_then_title_then_newest(any_repo: Repository) -> None:
    async def put(article_id: str, title: str, body: str, hours_ago: int) -> None:
        story = make_article(
            article_id, title=title, body=body, published=T0 - timedelta(hours=hours_ago)
        )
        await any_repo.articles.upsert(story, now=T0)

    await put("all-old", "Weekly notes", "Ferry fares rise at the harbour.", 90)
    await put("two-title", "Ferry fares", "Nothing else.", 50)
    await put("two-body-new", "Update", "Ferry fares today.", 1)
    await put("one-title", "Harbour lights", "A show.", 2)
    await put("one-body-new", "Evening", "By the harbour.", 0)
    await put("none", "Bus rides", "Buses only.", 0)
    hits = await any_repo.articles.search("ferry fares harbour", limit=10, now=T0)
    assert ids(hits) == ["all-old", "two-title", "two-body-new", "one-title", "one-body-new"]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # More words than the tiers enumerate: one scored query, the same order.
    many = await any_repo.articles.search("ferry fares harbour lights show", limit=10, now=T0)
    assert ids(many) == ["one-title", "all-old", "two-title", "two-body-new", "one-body-new"]


async def test_pages_follow_on_across_tiers(any_repo: Repository) -> None:
    # Each tier is cut at offset + limit rows: pages must still join up into the full order.
    rows = [
        ("t-both", "Ferry harbour", "Calm.", 9),
        ("b-both-1", "Monday", "A ferry left the harbour.", 3),
        ("b-both-2", "Tuesday", "The harbour ferry.", 7),
        ("t-ferry-1", "Ferry news", "Calm.", 1),
        ("t-ferry-2", "Ferry again", "Calm.", 5),
        ("b-ferry-1", "Wednesday", "A ferry.", 0),
        ("b-ferry-2", "Thursday", "Another ferry.", 2),
        ("b-ferry-3", "Friday", "Last ferry.", 6),
        ("b-harbour", "Saturday", "The harbour.", 4),
    ]
    for article_id, title, body, hours_ago in rows:
        published = T0 - timedelta(hours=hours_ago)
        story = make_article(article_id, title=title, body=body, published=published)
        await any_repo.articles.upsert(story, now=T0)
    whole = ids(await any_repo.articles.search("ferry harbour", limit=20, now=T0))
    assert whole == [
        "t-both",
        "b-both-1",
        "b-both-2",
        "t-ferry-1",
        "t-ferry-2",
        "b-ferry-1",
        "b-ferry-2",
        "b-harbour",
        "b-ferry-3",
    ]
    paged: list[str] = []
    for offset in range(0, len(whole), 2):
        page = await any_repo.articles.search("ferry harbour", limit=2, offset=offset, now=T0)
        paged += ids(page)
    assert paged == whole


async def test_index_follows_updates_and_dates(repo: Repository) -> None:
    def otters(article_id: str, title: str, days_ago: int) -> Article:
        return make_article(article_id, title=title, published=T0 - timedelta(days=days_ago))

    await repo.articles.upsert(otters("a1", "Otters at Bishan", 3), now=T0)
    await repo.articles.upsert(otters("a2", "Otters at Punggol", 1), now=T0)
    assert ids(await repo.articles.search("otters", limit=5, now=T0)) == ["a2", "a1"]
    # A corrected title leaves the old words behind and brings the new ones.
    await repo.articles.upsert(otters("a1", "Herons at Bishan", 3), now=T0)
    assert ids(await repo.articles.search("otters", limit=5, now=T0)) == ["a2"]
    assert ids(await repo.articles.search("herons", limit=5, now=T0)) == ["a1"]
    # A new date moves the story in the order, and each story is indexed once only.
    await repo.articles.upsert(otters("a1", "Otters and herons", 3), now=T0)
    await repo.articles.upsert(otters("a2", "Otters at Punggol", 9), now=T0)
    assert ids(await repo.articles.search("otters", limit=5, now=T0)) == ["a1", "a2"]
    async with repo.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM articles_fts")) == 2


async def test_embargoed_story_is_not_found_until_due(any_repo: Repository) -> None:
    embargo = T0 + timedelta(hours=1)
    await any_repo.articles.upsert(
        make_article("e1", title="Otters secret", published=T0, publish_at=embargo), now=T0
    )
    # Not on the same instant: backends break date ties differently (insertion order, id).
    older = T0 - timedelta(minutes=1)
    await any_repo.articles.upsert(make_article("o1", title="Otters old", published=older), now=T0)
    assert ids(await any_repo.articles.search("otters", limit=5, now=T0)) == ["o1"]
    assert ids(await any_repo.articles.search("otters", limit=5, now=embargo)) == ["e1", "o1"]


async def test_same_instant_stories_all_indexed(repo: Repository) -> None:
    # More stories on one instant than it has index keys: they borrow the next instant's.
    for n in range(1030):
        await repo.articles.upsert(make_article(f"d{n}", title=f"Daily brief {n}"), now=T0)
    await repo.articles.upsert(make_article("d1029", title="Daily memo"), now=T0)
    assert len(await repo.articles.search("brief", limit=2000, now=T0)) == 1029
    assert ids(await repo.articles.search("memo", limit=5, now=T0)) == ["d1029"]
    async with repo.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM articles_fts")) == 1030


HOSTILE = [
    '"otters',
    "otters*",
    "-otters",
    "otters NEAR bishan",
    "NEAR(otters bishan, 2)",
    "otters OR",
    "AND otters",
    "NOT otters",
    "^otters",
    "title:otters",
    "{title}: otters",
    "otters)",
    "(otters",
    "🦦 otters 🎉",
    "otters'; DROP TABLE articles_fts;--",
    "otters " + "x" * 300,
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_query_syntax_is_never_exposed(any_repo: Repository, query: str) -> None:
    await any_repo.articles.upsert(make_article("o", title="Otters near Bishan"), now=T0)
    await any_repo.articles.upsert(make_article("b", title="Bus rides"), now=T0)
    assert ids(await any_repo.articles.search(query, limit=5, now=T0)) == ["o"]


@pytest.mark.parametrize("query", ["*", "NEAR", "OR", "AND NOT", "^", ":", "🦦", '"', "x" * 300])
async def test_operators_alone_find_nothing(any_repo: Repository, query: str) -> None:
    await any_repo.articles.upsert(make_article("o", title="Otters near Bishan"), now=T0)
    hits = await any_repo.articles.search(query, limit=5, now=T0)
    assert ids(hits) == (["o"] if query == "NEAR" else [])


async def test_words_with_marks_and_scripts(any_repo: Repository) -> None:
    await any_repo.articles.upsert(make_article("ta", title="சிங்கப்பூர் செய்திகள்"), now=T0)
    await any_repo.articles.upsert(make_article("zh", title="新加坡 新闻"), now=T0)
    assert ids(await any_repo.articles.search("சிங்கப்பூர்", limit=5, now=T0)) == ["ta"]
    assert ids(await any_repo.articles.search("新闻", limit=5, now=T0)) == ["zh"]


async def test_latest_pages_with_offset(repo: Repository) -> None:
    for n in range(5):
        published = T0 - timedelta(hours=n)
        await repo.articles.upsert(make_article(f"l{n}", published=published), now=T0)
    page = await repo.articles.latest(limit=2, offset=2, now=T0)
    assert [a.id for a in page] == ["l2", "l3"]


def _to(connection: Connection, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(connection)
    (command.downgrade if down else command.upgrade)(cfg, revision)


async def test_migration_indexes_existing_stories_and_reverses(tmp_path: Path) -> None:
    repo = Repository.open(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        async with repo.engine.begin() as conn:
            await conn.run_sync(_to, "0006")
            await conn.execute(
                text(
                    "INSERT INTO articles (id, title, blocks, tags, topics, summary, "
                    "search_text, first_seen_at, updated_at, archived, published) VALUES "
                    "('old', 'Otters', '[]', '[]', '[]', '', 'otters\nswim', "
                    "'2026-07-01 00:00:00', '2026-07-01 00:00:00', 1, NULL), "
                    "('new', 'Otters again', '[]', '[]', '[]', '', 'otters again', "
                    "'2026-07-01 00:00:00', '2026-07-01 00:00:00', 1, '2026-07-02 00:00:00')"
                )
            )
        await repo.migrate()
        assert ids(await repo.articles.search("otters", limit=5, now=T0)) == ["new", "old"]
        assert ids(await repo.articles.search("swim", limit=5, now=T0)) == ["old"]
        async with repo.engine.begin() as conn:
            await conn.run_sync(_to, "0006", down=True)
            tables = await conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'articles_fts%'")
            )
            assert tables == 0
        await repo.migrate()
        assert ids(await repo.articles.search("otters", limit=5, now=T0)) == ["new", "old"]
    finally:
        await repo.close()


@pytest.mark.postgres
async def test_postgresql_ranks_the_same(pg_url: str) -> None:
    repo = Repository.open(pg_url)
    try:
        await repo.migrate()
        await store_archive(repo, 300)
        first = await repo.articles.search("harbour", limit=3, now=T0)
        assert ids(first) == ["s00299", "s00298", "s00297"]
        await repo.articles.upsert(
            make_article(
                "t", title="Harbour day", body="Ferry.", published=T0 - timedelta(days=99)
            ),
            now=T0,
        )
        hits = await repo.articles.search("harbour ferry", limit=3, offset=0, now=T0)
        assert ids(hits) == ["t", "s00299", "s00298"]
        for query in HOSTILE:
            await repo.articles.search(query, limit=3, now=T0)
        async with repo.engine.begin() as conn:
            await conn.run_sync(_to, "0006", down=True)
        await repo.migrate()
        assert ids(await repo.articles.search("harbour", limit=1, now=T0)) == ["t"]
    finally:
        await repo.close()


async def test_first_start_imports_the_archive_in_batches(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    for n in range(7):
        (folder / f"a{n}.md").write_text(story(f"arch-{n}"), encoding="utf-8")
    (folder / "odd.md").write_text(story("unstorable"), encoding="utf-8")
    (folder / "empty.md").write_text("", encoding="utf-8")
    monkeypatch.setattr(content.pipeline, "ARCHIVE_BATCH", 3)
    batches: list[list[str]] = []
    real_many, real_one = repo.articles.upsert_many, repo.articles.upsert

    async def upsert_many(batch: list[tuple[Article, bool]], **kwargs: Any) -> Any:
        batches.append([a.id for a, _ in batch])
        if any(a.id == "unstorable" for a, _ in batch):
            raise OverflowError("date value out of range")
        return await real_many(batch, **kwargs)

    async def upsert(article: Article, **kwargs: Any) -> Any:
        if article.id == "unstorable":
            raise OverflowError("date value out of range")
        return await real_one(article, **kwargs)

    monkeypatch.setattr(repo.articles, "upsert_many", upsert_many)
    monkeypatch.setattr(repo.articles, "upsert", upsert)
    with caplog.at_level(logging.INFO, logger="content.pipeline"):
        report = await scan(repo, folder, T0)
    # Eight parsed files in batches of three (the empty one fails before storing).
    assert [len(b) for b in batches] == [3, 3, 2]
    assert sorted(report.new) == [f"arch-{n}" for n in range(7)]
    assert sorted(Path(e.source).name for e in report.errors) == ["empty.md", "odd.md"]
    assert await repo.articles.count() == 7
    assert (await plan_due(repo, channels=["@c"], now=T0)).articles == ()  # archived, not posted
    assert "archive imported: 7 stories from 9 files" in caplog.text
    again = await scan(repo, folder, T0 + timedelta(minutes=1))
    assert (again.new, again.errors) == ([], [])
