"""Polling feeds and WordPress sites over local HTTP: validators, redirects, backoff, notices."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from content.fetching import Fetcher
from content.ingest import FullText
from content.models import IngestReport
from content.sources import feeds
from content.sources.polling import (
    MAX_BACKOFF,
    SourceSpecError,
    backoff,
    parse_spec,
    register_sources,
)
from content.storage import PolledSource, Repository, SourceKind, SourceState
from tests.support.commits import commits
from tests.support.feeds import Item, at, fetcher, poll, rss
from tests.support.http import LocalServer
from tests.support.ingest import T0

RSS = "application/rss+xml; charset=utf-8"
WORDPRESS = Path(__file__).parent / "fixtures" / "wordpress"
PAGE = (Path(__file__).parent / "fixtures" / "pages" / "wordpress-article.html").read_bytes()
FIRST = [
    Item("Budget 2026 unveiled", link="https://h.example/budget", published=at(1)),
    Item("MRT line opens", link="https://h.example/mrt", published=at(2)),
]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def client() -> AsyncIterator[Fetcher]:
    async with fetcher() as made:
        yield made


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs of the feed bodies parsed."""
    seen: list[str] = []
    real = feeds.parse_feed

    def counting(body: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append(str(kwargs["url"]))
        return real(body, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("content.sources.polling.parse_feed", counting)
    return seen


async def only_source(repo: Repository) -> PolledSource:
    [source] = await repo.sources.all()
    return source


def test_spec_kinds() -> None:
    assert parse_spec("https://h.example/feed") == (SourceKind.FEED, "https://h.example/feed")
    assert parse_spec("wordpress:https://wp.example/news") == (
        SourceKind.WORDPRESS,
        "https://wp.example/news/",
    )
    with pytest.raises(SourceSpecError):
        parse_spec("h.example/feed")


async def test_registering_is_idempotent(repo: Repository) -> None:
    await register_sources(repo, ["https://h.example/feed"], now=T0, interval=300)
    await register_sources(repo, ["https://h.example/feed"], now=T0 + timedelta(1), interval=300)
    assert len(await repo.sources.all()) == 1


async def test_first_poll_archives_and_later_items_post_oldest_first(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/feed.xml", rss(FIRST), content_type=RSS)
    await register_sources(repo, [url], now=T0, interval=300)
    first = await poll(repo, client, T0)
    assert len(first.new) == 2
    assert await repo.articles.due_for_planning(now=T0) == []  # the archive: never posted
    source = await only_source(repo)
    assert source.last_success_at == T0 and source.title == "Harbour Times"
    assert source.next_poll_at == T0 + timedelta(seconds=300)
    assert await poll(repo, client, T0 + timedelta(seconds=299)) == IngestReport()  # not due
    newer = [
        Item("Evening story", link="https://h.example/evening", published=at(18)),
        Item("Noon story", link="https://h.example/noon", published=at(12)),
        *FIRST,
    ]
    server.serve("/feed.xml", rss(newer), content_type=RSS)
    later = T0 + timedelta(seconds=300)
    second = await poll(repo, client, later)
    assert len(second.new) == 2 and second.unchanged == 2
    due = await repo.articles.due_for_planning(now=later + timedelta(seconds=1))
    assert [a.title for a in due] == ["Noon story", "Evening story"]
    assert (await only_source(repo)).items_seen == 4


async def test_etag_is_sent_and_a_304_is_not_parsed(
    repo: Repository, server: LocalServer, client: Fetcher, parses: list[str]
) -> None:
    url = server.serve("/feed.xml", rss(FIRST), content_type=RSS, etag='"v1"')
    await register_sources(repo, [url], now=T0, interval=300)
    await poll(repo, client, T0)
    assert (await only_source(repo)).etag == '"v1"'
    report = await poll(repo, client, T0 + timedelta(seconds=300))
    assert report == IngestReport()
    assert server.hits("/feed.xml")[-1].headers.get("If-None-Match") == '"v1"'
    assert len(parses) == 1
    source = await only_source(repo)
    assert source.etag == '"v1"' and source.last_success_at == T0 + timedelta(seconds=300)


async def test_a_cycle_of_unchanged_sources_is_stored_in_one_commit(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    urls = [
        server.serve(f"/feed{n}.xml", rss(FIRST), content_type=RSS, etag=f'"v{n}"')
        for n in range(5)
    ]
    await register_sources(repo, urls, now=T0, interval=300)
    await poll(repo, client, T0)
    later = T0 + timedelta(seconds=300)
    with commits(repo) as made:
        report = await poll(repo, client, later)
    assert report == IngestReport()
    assert len(made) == 1  # not one per source: the bot's replies wait behind each commit
    for source in await repo.sources.all():
        assert source.last_success_at == later and source.etag is not None
        assert source.next_poll_at == later + timedelta(seconds=300)


async def test_an_unchanged_body_without_validators_is_not_parsed(
    repo: Repository, server: LocalServer, client: Fetcher, parses: list[str]
) -> None:
    url = server.serve("/feed.xml", rss(FIRST), content_type=RSS)
    await register_sources(repo, [url], now=T0, interval=300)
    await poll(repo, client, T0)
    await poll(repo, client, T0 + timedelta(seconds=300))
    assert len(parses) == 1


async def test_a_permanent_redirect_moves_the_source(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    server.serve("/new.xml", rss(FIRST), content_type=RSS)
    old = server.redirect("/old.xml", "/new.xml", status=301)
    await register_sources(repo, [old], now=T0, interval=300)
    await poll(repo, client, T0)
    source = await only_source(repo)
    assert source.url == server.url("/new.xml")
    assert source.spec == old  # items stay remembered under what was registered
    await poll(repo, client, T0 + timedelta(seconds=300))
    assert len(server.hits("/old.xml")) == 1


async def test_a_temporary_redirect_keeps_the_source(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    server.serve("/new.xml", rss(FIRST), content_type=RSS)
    old = server.redirect("/old.xml", "/new.xml", status=302)
    await register_sources(repo, [old], now=T0, interval=300)
    await poll(repo, client, T0)
    assert (await only_source(repo)).url == old


async def test_gone_disables_the_source_with_one_notice(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/gone.xml", b"", status=410)
    await register_sources(repo, [url], now=T0, interval=300)
    report = await poll(repo, client, T0)
    [change] = report.status_changes
    assert not change.available and "410" in (change.reason or "")
    assert (await only_source(repo)).state is SourceState.DISABLED
    assert await poll(repo, client, T0 + timedelta(days=3)) == IngestReport()
    assert len(server.hits("/gone.xml")) == 1


def test_backoff_doubles_and_caps_at_a_day() -> None:
    delays = [backoff(300, failures) for failures in range(1, 14)]
    assert delays[:4] == [300, 600, 1200, 2400]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-1] == MAX_BACKOFF == 86400
    assert backoff(300, 1, retry_after=7200) == 7200
    assert backoff(300, 1, retry_after=10 * 86400) == MAX_BACKOFF


async def test_failures_back_off_then_a_day_of_them_notifies_once_and_recovery_once(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/feed.xml", b"oops", status=500)
    await register_sources(repo, [url], now=T0, interval=300)
    now = T0
    delays: list[float] = []
    notices: list[tuple[datetime, bool]] = []
    while now < T0 + timedelta(days=3):
        report = await poll(repo, client, now)
        notices += [(now, c.available) for c in report.status_changes]
        source = await only_source(repo)
        delays.append((source.next_poll_at - now).total_seconds())
        now = source.next_poll_at
    assert delays[:4] == [300, 600, 1200, 2400]
    assert max(delays) == 86400
    [(noticed_at, available)] = notices
    assert not available and noticed_at - T0 >= timedelta(hours=24)
    assert (await only_source(repo)).last_error is not None
    server.serve("/feed.xml", rss(FIRST), content_type=RSS)
    back = await poll(repo, client, now)
    assert [c.available for c in back.status_changes] == [True]
    assert len(back.new) == 2  # the first success imports the archive
    source = await only_source(repo)
    assert source.failures == 0 and source.failing_since is None and source.last_error is None
    assert (await poll(repo, client, source.next_poll_at)).status_changes == []


async def test_the_day_of_failures_is_noticed_between_polls(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/feed.xml", b"oops", status=500)
    await register_sources(repo, [url], now=T0, interval=300)
    for _ in range(9):  # the 9th, at 21 h, waits 21 h more
        await poll(repo, client, (await only_source(repo)).next_poll_at)
    source = await only_source(repo)
    assert source.failing_since == T0 and source.next_poll_at > T0 + timedelta(hours=24, minutes=1)
    hits = len(server.hits("/feed.xml"))
    report = await poll(repo, client, T0 + timedelta(hours=24, minutes=1))
    assert [c.available for c in report.status_changes] == [False]
    assert len(server.hits("/feed.xml")) == hits  # noticed without polling early


async def test_retry_after_is_honoured(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/feed.xml", b"busy", status=503, headers={"Retry-After": "7200"})
    await register_sources(repo, [url], now=T0, interval=300)
    await poll(repo, client, T0)
    assert (await only_source(repo)).next_poll_at == T0 + timedelta(seconds=7200)


async def test_max_age_and_ttl_lengthen_the_interval_within_six_hours(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    cached = server.serve(
        "/cached.xml", rss(FIRST), content_type=RSS, headers={"Cache-Control": "max-age=1800"}
    )
    lazy = server.serve("/ttl.xml", rss(FIRST, ttl=24 * 60), content_type=RSS)
    eager = server.serve(
        "/eager.xml", rss(FIRST), content_type=RSS, headers={"Cache-Control": "max-age=10"}
    )
    await register_sources(repo, [cached, lazy, eager], now=T0, interval=300)
    await poll(repo, client, T0)
    waits = {s.spec: (s.next_poll_at - T0).total_seconds() for s in await repo.sources.all()}
    assert waits == {cached: 1800, lazy: 6 * 3600, eager: 300}


async def test_a_page_is_followed_to_its_feed(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    feed = server.serve("/feed/", rss(FIRST), content_type=RSS)
    page = server.serve(
        "/news/",
        f'<!doctype html><html><head><link rel="alternate" type="application/rss+xml"'
        f' href="{feed}"></head><body>News</body></html>',
        content_type="text/html; charset=utf-8",
    )
    await register_sources(repo, [page], now=T0, interval=300)
    report = await poll(repo, client, T0)
    assert len(report.new) == 2
    assert (await only_source(repo)).url == feed


async def test_a_body_that_is_no_feed_is_a_failure(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    url = server.serve("/feed.xml", "just text", content_type="text/plain")
    await register_sources(repo, [url], now=T0, interval=300)
    report = await poll(repo, client, T0)
    assert report.new == []
    source = await only_source(repo)
    assert source.failures == 1 and source.last_error


async def test_one_failing_source_does_not_stop_the_others(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    bad = server.serve("/bad.xml", b"", status=500)
    good = server.serve("/good.xml", rss(FIRST), content_type=RSS)
    await register_sources(repo, [bad, good], now=T0, interval=300)
    report = await poll(repo, client, T0)
    assert len(report.new) == 2


async def test_wordpress_pages_posts_and_follows_corrections(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    queries: list[dict[str, list[str]]] = []

    async def posts(request: web.Request) -> web.Response:
        query = parse_qs(request.query_string)
        queries.append(query)
        name = "posts_after_changes.json" if "modified_after" in query else "posts_page1.json"
        data = json.loads((WORDPRESS / name).read_text())
        return web.json_response(data, headers={"X-WP-TotalPages": "1"})

    server.handle("/wp-json/wp/v2/posts", posts)
    await register_sources(repo, [f"wordpress:{server.url('/')}"], now=T0, interval=300)
    first = await poll(repo, client, T0)
    assert len(first.new) == 2  # archive
    assert "modified_after" not in queries[0] and queries[0]["_embed"] == ["1"]
    source = await only_source(repo)
    assert source.cursor is not None and source.cursor.startswith("2026-07-02T07:20:00")
    second = await poll(repo, client, T0 + timedelta(seconds=300))
    assert queries[1]["modified_after"] == ["2026-07-02T07:20:00+00:00"]
    assert len(second.withdrawn) == 1  # post 101 went back to draft
    assert len(second.updated) == 1  # post 102 was corrected


async def test_an_excerpt_only_feed_gets_the_full_text_of_its_pages(
    repo: Repository, server: LocalServer, client: Fetcher
) -> None:
    page = server.serve("/news/tampines", PAGE, content_type="text/html; charset=utf-8")
    item = Item(
        "Hawker centre in Tampines to reopen",
        link=page,
        published=at(1),
        description="The hawker centre will reopen on Monday.",
        content=None,
    )
    url = server.serve("/feed.xml", rss([item]), content_type=RSS)
    await register_sources(repo, [url], now=T0, interval=300)
    report = await poll(repo, client, T0, full_text=FullText.AUTO)
    stored = await repo.articles.get(report.new[0])
    assert stored is not None and len(stored.paragraphs) >= 3
    assert stored.image == "https://cdn.harbourtimes.example/uploads/2024/03/tampines-hawker.jpg"
    assert len(server.hits("/news/tampines")) == 1


def test_private_addresses_are_fetched_only_in_sandbox_mode_by_default() -> None:
    from bot.config import SettingsError, load_settings

    token = "123456:" + "A" * 30
    assert load_settings(_env_file=None).private_urls_allowed
    assert not load_settings(telegram_bot_token=token, _env_file=None).private_urls_allowed
    assert load_settings(
        telegram_bot_token=token, allow_private_urls=True, _env_file=None
    ).private_urls_allowed
    settings = load_settings(sources="https://a.example/feed, wordpress:https://b", _env_file=None)
    assert settings.sources == ["https://a.example/feed", "wordpress:https://b"]
    assert settings.feed_interval == 300 and settings.full_text == "auto"
    with pytest.raises(SettingsError, match="SOURCES"):
        load_settings(sources="feed.example/rss", _env_file=None)
