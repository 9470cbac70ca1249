"""content.ingest: Entries from any source become one story each, updated in place, in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from content.ingest import FullText, entry_digest
from content.storage import Repository
from tests.support.commits import commits
from tests.support.feeds import at, entry, ingest
from tests.support.ingest import T0
from tests.support.storage import deliveries_of, mark_sent

PAGE = (Path(__file__).parent / "fixtures" / "pages" / "wordpress-article.html").read_bytes()
CHANNELS = ("@harbour",)


async def test_the_same_story_through_two_sources_is_one_story(repo: Repository) -> None:
    url = "https://harbourtimes.example/news/tampines?utm_source=rss"
    feed = entry("Tampines hawker centre reopens", url=url, key="guid-1")
    push = entry(
        "Tampines hawker centre reopens",
        source="push",
        key="cms-77",
        url="https://harbourtimes.example/news/tampines",
    )
    first = await ingest(repo, [feed])
    second = await ingest(repo, [push])
    assert len(first.new) == 1
    assert second.new == [] and second.updated == []
    assert await repo.articles.count() == 1
    assert feed.article_id == push.article_id


async def test_a_guid_only_item_keeps_its_story_when_its_title_changes(
    repo: Repository,
) -> None:
    item = entry("Tampines hawker centre reopens", key="urn:uuid:1234", url=None)
    first = await ingest(repo, [item])
    corrected = replace(item, title="Tampines hawker centre reopens on Monday")
    second = await ingest(repo, [corrected], now=T0 + timedelta(minutes=5))
    assert second.new == [] and second.updated == first.new
    stored = await repo.articles.get(first.new[0])
    assert stored is not None and stored.title == "Tampines hawker centre reopens on Monday"
    assert await repo.articles.count() == 1


async def test_an_item_whose_link_changed_keeps_its_story(repo: Repository) -> None:
    item = entry("Budget 2026", key="guid-9", url="https://harbourtimes.example/budget-2026")
    first = await ingest(repo, [item])
    moved = replace(item, url="https://harbourtimes.example/news/budget-2026")
    second = await ingest(repo, [moved], now=T0 + timedelta(minutes=5))
    assert second.updated == first.new and second.new == []
    stored = await repo.articles.get(first.new[0])
    assert stored is not None and stored.url == "https://harbourtimes.example/news/budget-2026"


async def test_an_unchanged_item_costs_nothing(repo: Repository) -> None:
    item = entry("Tampines hawker centre reopens", url="https://harbourtimes.example/t")
    await ingest(repo, [item])
    fetched: list[str] = []

    async def fetch_page(url: str) -> bytes | None:
        fetched.append(url)
        return PAGE

    again = await ingest(repo, [item], fetch_page=fetch_page, full_text=FullText.ALWAYS)
    assert again.unchanged == 1 and again.new == [] and again.updated == []
    assert fetched == []


async def test_a_changed_item_updates_its_story_and_edits_the_sent_post(
    repo: Repository,
) -> None:
    item = entry("Tampines hawker centre reopens", url="https://harbourtimes.example/t")
    report = await ingest(repo, [item])
    [article_id] = report.new
    from content.pipeline import plan_due

    await plan_due(repo, channels=CHANNELS, now=T0)
    [post] = await deliveries_of(repo, article_id)
    await mark_sent(repo, delivery_id=post.id, message_id=11, now=T0)
    corrected = replace(item, title="Tampines hawker centre reopens on Monday")
    later = T0 + timedelta(minutes=5)
    second = await ingest(repo, [corrected], now=later)
    assert second.updated == [article_id] and second.edits == 1
    [edit] = await deliveries_of(repo, article_id)
    assert edit.state.value == "pending" and edit.message_id == 11


async def test_an_excerpt_only_item_gets_its_page_text_and_image(repo: Repository) -> None:
    url = "https://harbourtimes.example/news/tampines"
    item = entry(
        "Hawker centre in Tampines to reopen",
        url=url,
        body_html=None,
        summary_html="<p>The hawker centre will reopen on Monday [&#8230;]</p>",
        image=None,
    )
    asked: list[str] = []

    async def fetch_page(page_url: str) -> bytes | None:
        asked.append(page_url)
        return PAGE

    report = await ingest(repo, [item], fetch_page=fetch_page)
    assert asked == [url]
    stored = await repo.articles.get(report.new[0])
    assert stored is not None
    assert stored.paragraphs[0].startswith("The hawker centre at Tampines Street 11")
    assert len(stored.paragraphs) >= 3
    assert stored.image is not None and stored.image.startswith("https://cdn.harbourtimes.example/")


async def test_full_text_never_keeps_the_excerpt(repo: Repository) -> None:
    item = entry(
        "Hawker centre in Tampines to reopen",
        url="https://harbourtimes.example/news/tampines",
        body_html=None,
        summary_html="<p>The hawker centre will reopen on Monday.</p>",
    )

    async def fetch_page(page_url: str) -> bytes | None:
        raise AssertionError("no page is fetched with FULL_TEXT=never")

    report = await ingest(repo, [item], fetch_page=fetch_page, full_text=FullText.NEVER)
    stored = await repo.articles.get(report.new[0])
    assert stored is not None and stored.paragraphs == ("The hawker centre will reopen on Monday.",)


async def test_a_page_that_cannot_be_fetched_leaves_the_excerpt(repo: Repository) -> None:
    item = entry(
        "Hawker centre in Tampines to reopen",
        url="https://harbourtimes.example/news/tampines",
        body_html=None,
        summary_html="<p>The hawker centre will reopen on Monday.</p>",
    )

    async def fetch_page(page_url: str) -> bytes | None:
        return None

    report = await ingest(repo, [item], fetch_page=fetch_page)
    stored = await repo.articles.get(report.new[0])
    assert stored is not None and stored.paragraphs == ("The hawker centre will reopen on Monday.",)


async def test_one_broken_item_does_not_stop_the_others(repo: Repository) -> None:
    good = entry("Budget 2026", url="https://harbourtimes.example/budget")
    broken = entry("", url="https://harbourtimes.example/nothing", body_html=None)
    other = entry("MRT line opens", url="https://harbourtimes.example/mrt")
    report = await ingest(repo, [good, broken, other])
    assert len(report.new) == 2
    [error] = report.errors
    assert "harbourtimes.example/nothing" in error.source
    # Reported once per version of the item, not at every poll.
    again = await ingest(repo, [good, broken, other], now=T0 + timedelta(minutes=5))
    assert again.errors == [] and again.unchanged == 3


async def test_an_item_that_raises_anything_is_only_its_own_error(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from content.topics import derive_topics as real

    def flaky(article):  # type: ignore[no-untyped-def]
        if article.title == "Boom":
            raise RuntimeError("topic model fell over")
        return real(article)

    monkeypatch.setattr("content.ingest.derive_topics", flaky)
    report = await ingest(
        repo,
        [
            entry("Boom", url="https://harbourtimes.example/boom"),
            entry("Budget 2026", url="https://harbourtimes.example/budget"),
        ],
    )
    assert len(report.new) == 1
    [error] = report.errors
    assert "RuntimeError" in error.reason


async def test_archive_stores_but_never_plans(repo: Repository) -> None:
    report = await ingest(
        repo, [entry("Old story", url="https://harbourtimes.example/old")], archive=True
    )
    assert len(report.new) == 1
    assert await repo.articles.get(report.new[0]) is not None
    assert await repo.articles.due_for_planning(now=T0) == []


async def test_stories_are_planned_in_publication_order(repo: Repository) -> None:
    late = entry("Evening story", url="https://harbourtimes.example/c", published=at(18))
    early = entry("Morning story", url="https://harbourtimes.example/a", published=at(8))
    noon = entry("Noon story", url="https://harbourtimes.example/b", published=at(12))
    await ingest(repo, [late, early, noon])  # feeds list the newest first
    due = await repo.articles.due_for_planning(now=T0 + timedelta(seconds=1))
    assert [a.title for a in due] == ["Morning story", "Noon story", "Evening story"]


async def test_a_withdrawn_item_is_recorded_and_never_posted(repo: Repository) -> None:
    item = entry("Retracted story", url="https://harbourtimes.example/r", key="42")
    first = await ingest(repo, [item])
    withdrawn = await ingest(repo, [replace(item, withdrawn=True)], now=T0 + timedelta(minutes=1))
    assert withdrawn.withdrawn == first.new
    assert await repo.articles.due_for_planning(now=T0 + timedelta(minutes=2)) == []
    assert await repo.sources.withdrawn_articles() == set(first.new)


async def test_tags_become_topic_slugs(repo: Repository) -> None:
    report = await ingest(
        repo,
        [entry("Breaking: MRT fault", url="https://h.example/m", tags=("Breaking News", "MRT"))],
    )
    stored = await repo.articles.get(report.new[0])
    assert stored is not None and stored.tags == ("breaking-news", "mrt")


def test_the_digest_changes_with_any_field() -> None:
    item = entry("A", url="https://h.example/a")
    assert entry_digest(item) == entry_digest(replace(item))
    assert entry_digest(item) != entry_digest(replace(item, image="https://h.example/b.jpg"))


async def test_a_first_import_is_one_commit(repo: Repository) -> None:
    items = [entry(f"Story {n}", url=f"https://harbourtimes.example/{n}") for n in range(4)]
    with commits(repo) as made:
        report = await ingest(repo, items, archive=True)
    assert len(report.new) == 4
    assert len(made) == 1  # stories, archive marks and item records together
    assert await repo.articles.due_for_planning(now=T0) == []
    assert (await ingest(repo, items, now=T0 + timedelta(minutes=5))).unchanged == 4


async def test_an_item_that_cannot_be_stored_is_only_its_own_error(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from content.storage import articles

    real = articles._upsert

    async def failing(conn, article, **kwargs):  # type: ignore[no-untyped-def]
        if article.title == "Boom":
            raise ValueError("cannot store this one")
        return await real(conn, article, **kwargs)

    monkeypatch.setattr(articles, "_upsert", failing)
    items = [
        entry("Budget 2026", url="https://harbourtimes.example/budget", published=at(8)),
        entry("Boom", url="https://harbourtimes.example/boom", published=at(9)),
        entry("MRT line opens", url="https://harbourtimes.example/mrt", published=at(10)),
    ]
    report = await ingest(repo, items)
    assert len(report.new) == 2 and await repo.articles.count() == 2
    [error] = report.errors
    assert "harbourtimes.example/boom" in error.source and "ValueError" in error.reason
    monkeypatch.setattr(articles, "_upsert", real)
    again = await ingest(repo, items, now=T0 + timedelta(minutes=5))
    assert again.errors == [] and again.unchanged == 3  # reported once per version
