"""Editors' sources as a service: /addsource checks before adding, /removesource, the views."""

from __future__ import annotations

import gettext
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.rendering import MESSAGE_LIMIT, plain_text, using, utf16_len
from bot.rendering.sources import (
    SOURCES_PER_PAGE,
    source_added,
    source_list,
    source_removed,
    usage_addsource,
    usage_removesource,
)
from content.fetching import Fetcher
from content.sources.registry import (
    AddOutcome,
    AddStatus,
    RemoveOutcome,
    RemoveStatus,
    add_source,
    import_specs,
    remove_source,
)
from content.storage import Repository, SourceKind, SourceState
from tests.support.feeds import Item, at, rss
from tests.support.http import LocalServer
from tests.support.ingest import SGT, T0

RSS = "application/rss+xml; charset=utf-8"
FEED = rss(
    [Item("Budget 2026 unveiled", link="https://h.example/a", published=at(1))],
    title="Harbour Times",
)
WORDPRESS = Path(__file__).parent / "fixtures" / "wordpress" / "posts_page1.json"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = Fetcher(allow_private=True, user_agent="newswire-test", timeout=5)
    yield client
    await client.close()


async def test_a_feed_is_checked_and_added_with_its_title(
    repo: Repository, fetcher: Fetcher, server: LocalServer
) -> None:
    url = server.serve("/feed.xml", FEED, content_type=RSS)
    outcome = await add_source(repo, fetcher, url, now=T0, interval=300, default_tz=SGT)
    assert outcome.status is AddStatus.ADDED
    assert (outcome.title, outcome.entries, outcome.discovered) == ("Harbour Times", 1, False)
    [source] = await repo.sources.all()
    assert (source.kind, source.spec, source.url, source.title) == (
        SourceKind.FEED,
        url,
        url,
        "Harbour Times",
    )
    assert source.last_success_at is None  # its first poll imports the archive
    assert "Added the feed Harbour Times (1 item)" in source_added(outcome).html

    again = await add_source(repo, fetcher, url + "/", now=T0, interval=300, default_tz=SGT)
    assert again.status is AddStatus.ALREADY
    assert "already" in source_added(again).html
    assert len(await repo.sources.all()) == 1


async def test_a_page_registers_the_feed_it_names(
    repo: Repository, fetcher: Fetcher, server: LocalServer
) -> None:
    feed = server.serve("/feed.xml", FEED, content_type=RSS)
    page = server.serve(
        "/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        "</head><body>Home</body></html>",
        content_type="text/html",
    )
    outcome = await add_source(repo, fetcher, page, now=T0, interval=300, default_tz=SGT)
    assert outcome.status is AddStatus.ADDED and outcome.discovered
    [source] = await repo.sources.all()
    assert source.spec == feed == source.url
    assert "found on that page" in source_added(outcome).html
    # The page again, or the feed itself: already there.
    for text in (page, feed):
        repeat = await add_source(repo, fetcher, text, now=T0, interval=300, default_tz=SGT)
        assert repeat.status is AddStatus.ALREADY


async def test_a_wordpress_site_is_probed_through_its_api(
    repo: Repository, fetcher: Fetcher, server: LocalServer
) -> None:
    server.serve(
        "/wp-json/wp/v2/posts",
        WORDPRESS.read_bytes(),
        content_type="application/json",
        headers={"X-WP-Total": "57"},
    )
    outcome = await add_source(
        repo, fetcher, f"wordpress:{server.url('')}", now=T0, interval=300, default_tz=SGT
    )
    assert outcome.status is AddStatus.ADDED
    [source] = await repo.sources.all()
    assert (source.kind, source.url) == (SourceKind.WORDPRESS, server.url("/"))
    assert source.spec == f"wordpress:{server.url('/')}"
    assert (
        "WordPress site" in source_added(outcome).html and "57 posts" in source_added(outcome).html
    )
    [hit] = server.hits("/wp-json/wp/v2/posts")
    assert "per_page=1" in hit.query

    server.serve("/other/wp-json/wp/v2/posts", b"<html>no</html>", content_type="text/html")
    other = await add_source(
        repo, fetcher, f"wordpress:{server.url('/other')}", now=T0, interval=300, default_tz=SGT
    )
    assert other.status is AddStatus.NOT_WORDPRESS


@pytest.mark.parametrize(
    ("path", "answer", "status", "words"),
    [
        ("/missing", None, AddStatus.NOT_FOUND, "nothing there (HTTP 404"),
        (
            "/page",
            (b"<html><body>No feed</body></html>", "text/html"),
            AddStatus.NOT_A_FEED,
            "not a feed",
        ),
        ("/broken", (b"oops", "text/plain", 500), AddStatus.UNREACHABLE, "HTTP 500"),
    ],
)
async def test_what_cannot_be_added_gets_one_clear_line(
    repo: Repository,
    fetcher: Fetcher,
    server: LocalServer,
    path: str,
    answer: tuple[bytes, str] | tuple[bytes, str, int] | None,
    status: AddStatus,
    words: str,
) -> None:
    if answer is not None:
        body, content_type, *code = answer
        server.serve(path, body, content_type=content_type, status=code[0] if code else 200)
    outcome = await add_source(
        repo, fetcher, server.url(path), now=T0, interval=300, default_tz=SGT
    )
    assert outcome.status is status
    html = source_added(outcome).html
    assert words in html and "\n" not in html
    assert await repo.sources.all() == []


async def test_a_silent_site_times_out(repo: Repository, server: LocalServer) -> None:
    url = server.serve("/slow", b"", stall=True)
    impatient = Fetcher(allow_private=True, user_agent="newswire-test", timeout=0.2)
    try:
        outcome = await add_source(repo, impatient, url, now=T0, interval=300, default_tz=SGT)
    finally:
        await impatient.close()
    assert outcome.status is AddStatus.TIMEOUT
    assert "did not answer in time" in source_added(outcome).html


@pytest.mark.parametrize("text", ["not a url", "ftp://h.example/feed", "wordpress:nowhere"])
async def test_an_invalid_address_is_refused_without_fetching(
    repo: Repository, fetcher: Fetcher, text: str
) -> None:
    outcome = await add_source(repo, fetcher, text, now=T0, interval=300, default_tz=SGT)
    assert outcome.status is AddStatus.INVALID
    assert "Not added" in source_added(outcome).html


async def test_a_private_address_is_refused_when_private_urls_are_not_allowed(
    repo: Repository, server: LocalServer
) -> None:
    url = server.serve("/feed.xml", FEED, content_type=RSS)
    guarded = Fetcher(allow_private=False, user_agent="newswire-test", timeout=5)
    try:
        outcome = await add_source(repo, guarded, url, now=T0, interval=300, default_tz=SGT)
    finally:
        await guarded.close()
    assert outcome.status is AddStatus.BLOCKED
    assert "private or local address" in source_added(outcome).html
    assert server.hits("/feed.xml") == [] and await repo.sources.all() == []


async def test_the_limit_of_sources(
    repo: Repository, fetcher: Fetcher, server: LocalServer
) -> None:
    await import_specs(
        repo, ["https://a.example/feed", "https://b.example/feed"], now=T0, interval=300
    )
    url = server.serve("/feed.xml", FEED, content_type=RSS)
    outcome = await add_source(repo, fetcher, url, now=T0, interval=300, default_tz=SGT, limit=2)
    assert outcome.status is AddStatus.LIMIT
    assert "2 sources already" in source_added(outcome).html
    assert server.hits("/feed.xml") == []  # refused before any fetch


async def test_remove_deletes_an_added_source_and_disables_a_configured_one(
    repo: Repository, fetcher: Fetcher, server: LocalServer
) -> None:
    configured = "https://configured.example/feed"
    await import_specs(repo, [configured, "https://added.example/feed"], now=T0, interval=300)

    gone = await remove_source(repo, 2, configured=[configured])
    assert gone.status is RemoveStatus.REMOVED
    assert "Removed" in source_removed(gone).html
    disabled = await remove_source(repo, 1, configured=[configured])
    assert disabled.status is RemoveStatus.DISABLED
    assert "SOURCES" in source_removed(disabled).html
    [left] = await repo.sources.all()
    assert (left.spec, left.state) == (configured, SourceState.DISABLED)
    assert await repo.sources.due(now=T0 + timedelta(days=1)) == []

    for number in (0, 2):
        missing = await remove_source(repo, number, configured=[configured])
        assert missing.status is RemoveStatus.NO_SUCH
        assert "from 1 to 1" in source_removed(missing).html

    # Added again in the chat: the disabled one is polled again, at once.
    url = server.serve("/feed.xml", FEED, content_type=RSS)
    await repo.sources.update(left.id, url=url)
    back = await add_source(repo, fetcher, url, now=T0, interval=300, default_tz=SGT)
    assert back.status is AddStatus.ENABLED
    assert [s.id for s in await repo.sources.due(now=T0)] == [left.id]


async def test_the_list_shows_each_state_in_the_time_zone(repo: Repository) -> None:
    await import_specs(
        repo,
        ["https://ok.example/feed", "wordpress:https://wp.example", "https://bad.example/f"],
        now=T0,
        interval=300,
    )
    ok, wp, bad = await repo.sources.all()
    await repo.sources.update(
        ok.id,
        title="Harbour <Times>",
        last_success_at=T0,
        items_seen=12,
        next_poll_at=T0 + timedelta(minutes=5),
    )
    await repo.sources.update(
        bad.id, failures=3, last_error="HTTP 503 Service Unavailable from bad.example"
    )
    await repo.sources.update(wp.id, state=SourceState.DISABLED)
    html = source_list(await repo.sources.all(), zone=SGT).html
    assert "3 sources" in html and "Asia/Singapore" in html
    assert "<b>1.</b> Harbour &lt;Times&gt; · feed · active" in html
    assert "last success 1 Jul 2026, 12:00 PM" in html  # T0 is 04:00 UTC, noon in Singapore
    assert "12 items seen" in html and "next poll 1 Jul 2026, 12:05 PM" in html
    assert "<b>2.</b> <i>no title yet</i> · WordPress · disabled" in html
    assert "<b>3.</b>" in html and "failing (3× in a row)" in html
    assert "last error: HTTP 503 Service Unavailable from bad.example" in html
    assert "never polled successfully" in html


async def test_a_long_list_comes_in_pages(repo: Repository) -> None:
    specs = [f"https://s{n}.example/feed" for n in range(SOURCES_PER_PAGE + 3)]
    await import_specs(repo, specs, now=T0, interval=300)
    sources = await repo.sources.all()
    first = source_list(sources, zone=SGT).html
    second = source_list(sources, zone=SGT, page=2).html
    assert f"<b>{SOURCES_PER_PAGE}.</b>" in first and f"<b>{SOURCES_PER_PAGE + 1}.</b>" not in first
    assert f"<b>{SOURCES_PER_PAGE + 1}.</b>" in second and "Page 2 of 2" in second
    assert "No sources yet" in source_list([], zone=SGT).html


class _Pseudo(gettext.NullTranslations):
    """Brackets every catalog string, so text that bypasses the catalog stands out."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"«{msgid1 if n == 1 else msgid2}»"


def test_every_fixed_string_of_the_views_goes_through_the_catalog() -> None:
    with using(_Pseudo()):
        texts = [
            source_list([], zone=SGT).html,
            usage_addsource().html,
            usage_removesource().html,
            source_removed(RemoveOutcome(RemoveStatus.NO_SUCH)).html,
            source_removed(RemoveOutcome(RemoveStatus.NO_SUCH, count=3)).html,
            *(
                source_added(AddOutcome(status)).html
                for status in AddStatus
                if status not in (AddStatus.ADDED, AddStatus.ALREADY, AddStatus.ENABLED)
            ),
        ]
    for text in texts:
        outside = re.sub(r"«[^»]*»", "", plain_text(text))
        outside = re.sub(r"/[a-z]+", "", outside)  # command names stay
        assert not re.search(r"[A-Za-z]{2,}", outside), text


async def test_a_page_of_the_longest_sources_fits_in_one_message(repo: Repository) -> None:
    long = "https://a-very-long-host-name.example/" + "path/" * 60
    specs = [f"wordpress:{long}{n}" for n in range(SOURCES_PER_PAGE)]
    await import_specs(repo, specs, now=T0, interval=300)
    for source in await repo.sources.all():
        await repo.sources.update(
            source.id,
            title="Ŧ" * 300,
            failures=999,
            last_error="É" * 500,
            last_success_at=T0,
            items_seen=10**9,
        )
    html = source_list(await repo.sources.all(), zone=SGT).html
    assert f"<b>{SOURCES_PER_PAGE}.</b>" in html
    assert utf16_len(plain_text(html)) <= MESSAGE_LIMIT
