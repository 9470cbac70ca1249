"""The fetcher against a local server: conditional GET, redirects, errors, limits, address guard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from content.fetching import (
    BlockedAddress,
    Fetcher,
    FetchError,
    address_allowed,
    default_user_agent,
    parse_max_age,
    parse_retry_after,
)
from tests.support.http import LocalServer, StubResolver, reroute

UA = "Newswire/test (+https://news.example/bot)"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = Fetcher(allow_private=True, user_agent=UA, timeout=5)
    yield client
    await client.close()


async def test_fetches_body_headers_and_sends_user_agent(
    server: LocalServer, fetcher: Fetcher
) -> None:
    url = server.serve(
        "/feed.xml",
        "<rss/>",
        content_type='application/rss+xml; charset="KOI8-R"',
        headers={"Cache-Control": "public, max-age=600"},
        etag='"v1"',
        last_modified="Wed, 01 Jul 2026 10:00:00 GMT",
    )
    result = await fetcher.fetch(url)
    assert (result.status, result.body, result.url) == (200, b"<rss/>", url)
    assert (result.content_type, result.charset) == ("application/rss+xml", "koi8-r")
    assert (result.etag, result.last_modified) == ('"v1"', "Wed, 01 Jul 2026 10:00:00 GMT")
    assert result.max_age == 600
    assert not result.not_modified and result.permanent_redirect is None
    assert server.hits("/feed.xml")[0].headers["User-Agent"] == UA


async def test_conditional_get_gets_304_without_body(server: LocalServer, fetcher: Fetcher) -> None:
    url = server.serve("/feed.xml", "<rss/>", etag='"v1"', last_modified="Wed, 01 Jul 2026")
    first = await fetcher.fetch(url)
    again = await fetcher.fetch(url, etag=first.etag)
    assert again.not_modified and again.status == 304 and again.body == b""
    by_date = await fetcher.fetch(url, last_modified=first.last_modified)
    assert by_date.not_modified
    sent = server.hits("/feed.xml")
    assert sent[1].headers["If-None-Match"] == '"v1"'
    assert sent[2].headers["If-Modified-Since"] == "Wed, 01 Jul 2026"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_compressed_answers_are_decoded(
    server: LocalServer, fetcher: Fetcher, encoding: str
) -> None:
    body = b"<rss>" + b"news " * 1000 + b"</rss>"
    url = server.serve("/feed.xml", body, encoding=encoding)
    assert (await fetcher.fetch(url)).body == body
    assert encoding in server.hits("/feed.xml")[0].headers["Accept-Encoding"]


async def test_permanent_redirect_is_reported_and_temporary_is_not(
    server: LocalServer, fetcher: Fetcher
) -> None:
    final = server.serve("/new.xml", "<rss/>")
    server.redirect("/moved", "/new.xml", status=301)
    server.redirect("/moved308", server.url("/new.xml"), status=308)
    server.redirect("/temp", "/new.xml", status=302)
    server.redirect("/perm-then-temp", "/temp", status=301)
    moved = await fetcher.fetch(server.url("/moved"))
    assert (moved.url, moved.permanent_redirect) == (final, final)
    assert (await fetcher.fetch(server.url("/moved308"))).permanent_redirect == final
    temp = await fetcher.fetch(server.url("/temp"))
    assert (temp.url, temp.permanent_redirect) == (final, None)
    # The stored URL moves only as far as the permanent part of the chain.
    mixed = await fetcher.fetch(server.url("/perm-then-temp"))
    assert (mixed.url, mixed.permanent_redirect) == (final, server.url("/temp"))


async def test_redirect_loop_gives_up(server: LocalServer, fetcher: Fetcher) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetcher.fetch(server.url("/a"))
    assert len(server.requests) == 6


async def test_redirect_to_another_scheme_is_refused(server: LocalServer, fetcher: Fetcher) -> None:
    server.redirect("/a", "file:///etc/passwd")
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.fetch(server.url("/a"))
    server.redirect("/b", "http://[broken")
    with pytest.raises(FetchError, match="to a bad Location"):
        await fetcher.fetch(server.url("/b"))


@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [(410, {}, None), (500, {}, None), (503, {"Retry-After": "120"}, 120.0), (404, {}, None)],
)
async def test_http_errors_raise_with_status(
    server: LocalServer,
    fetcher: Fetcher,
    status: int,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    url = server.serve("/x", "nope", status=status, headers=headers)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert caught.value.status == status
    assert caught.value.retry_after == retry_after
    assert caught.value.reason.startswith(f"HTTP {status}")
    assert "\n" not in caught.value.reason


async def test_body_over_the_cap_is_refused(server: LocalServer) -> None:
    small = Fetcher(allow_private=True, user_agent=UA, max_bytes=1000)
    try:
        url = server.serve("/big", b"x" * 5000)
        with pytest.raises(FetchError, match="over 1,000 bytes"):
            await small.fetch(url)

        async def chunked(request: object) -> object:
            from aiohttp import web

            assert isinstance(request, web.Request)
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(10):
                await response.write(b"y" * 500)  # no Content-Length: counted while read
            await response.write_eof()
            return response

        server.handle("/chunked", chunked)  # type: ignore[arg-type]
        with pytest.raises(FetchError, match="over 1,000 bytes"):
            await small.fetch(server.url("/chunked"))
        # A gzip bomb is counted after decompression.
        bomb = server.serve("/bomb", b"\0" * 100_000, encoding="gzip")
        with pytest.raises(FetchError, match="over 1,000 bytes"):
            await small.fetch(bomb)
    finally:
        await small.close()


async def test_slow_answer_times_out(server: LocalServer) -> None:
    impatient = Fetcher(allow_private=True, user_agent=UA, timeout=0.3)
    try:
        url = server.serve("/slow", "late", stall=True)
        with pytest.raises(FetchError, match=re.escape("no answer from 127.0.0.1 within 0.3 s")):
            await impatient.fetch(url)
    finally:
        await impatient.close()


async def test_nothing_listening_is_a_one_line_error(fetcher: Fetcher) -> None:
    server = LocalServer()
    await server.start()
    url = server.url("/")
    await server.stop()
    with pytest.raises(FetchError, match=re.escape("cannot connect to 127.0.0.1")):
        await fetcher.fetch(url)


async def test_per_host_limit_holds_requests_back(server: LocalServer) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def held(request: object) -> object:
        from aiohttp import web

        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            arrived.set()
        await release.wait()
        running -= 1
        return web.Response(text="ok")

    url = server.handle("/held", held)  # type: ignore[arg-type]
    client = Fetcher(allow_private=True, user_agent=UA, per_host=2)
    try:
        tasks = [asyncio.create_task(client.fetch(url)) for _ in range(5)]
        await arrived.wait()
        release.set()
        results = await asyncio.gather(*tasks)
    finally:
        await client.close()
    assert [r.body for r in results] == [b"ok"] * 5
    assert peak == 2


# The address guard.


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "203.0.113.5",
    ],
)
def test_private_and_special_addresses_are_not_allowed(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


async def test_loopback_is_refused_without_allow_private(server: LocalServer) -> None:
    url = server.serve("/feed.xml", "<rss/>")
    guarded = Fetcher(allow_private=False, user_agent=UA)
    try:
        with pytest.raises(
            BlockedAddress, match=re.escape("127.0.0.1 is a private or local address")
        ):
            await guarded.fetch(url)
        with pytest.raises(BlockedAddress):
            await guarded.fetch(f"http://[::ffff:127.0.0.1]:{server.port}/feed.xml")
    finally:
        await guarded.close()
    assert server.requests == []


async def test_a_name_resolving_to_loopback_is_refused_after_resolution(
    server: LocalServer,
) -> None:
    server.serve("/feed.xml", "<rss/>")
    resolver = StubResolver({"news.example": ["127.0.0.1"], "mixed.example": ["10.0.0.1"]})
    guarded = Fetcher(allow_private=False, user_agent=UA, resolver=resolver)
    try:
        with pytest.raises(BlockedAddress, match=re.escape("news.example resolves to a private")):
            await guarded.fetch(f"http://news.example:{server.port}/feed.xml")
    finally:
        await guarded.close()
    assert resolver.asked == ["news.example"]
    assert server.requests == []


async def test_a_redirect_from_a_public_host_to_loopback_is_refused(server: LocalServer) -> None:
    server.serve("/secret", "internal")
    server.redirect("/to-literal", server.url("/secret"))
    server.redirect("/to-name", f"http://intranet.example:{server.port}/secret")
    server.serve("/public", "fine")
    resolver = StubResolver({"news.example": ["8.8.8.8"], "intranet.example": ["127.0.0.1"]})
    guarded = Fetcher(allow_private=False, user_agent=UA, resolver=resolver)
    try:
        # news.example looks public (8.8.8.8); the test's loop carries that connection home.
        with reroute({("8.8.8.8", 80): ("127.0.0.1", server.port)}):
            ok = await guarded.fetch("http://news.example/public")
            assert ok.body == b"fine"
            with pytest.raises(BlockedAddress, match=r"127.0.0.1 .*redirected from"):
                await guarded.fetch("http://news.example/to-literal")
            with pytest.raises(
                BlockedAddress, match=re.escape("intranet.example resolves to a private")
            ):
                await guarded.fetch("http://news.example/to-name")
    finally:
        await guarded.close()
    assert server.hits("/secret") == []


async def test_only_public_addresses_of_a_name_are_used(server: LocalServer) -> None:
    server.serve("/public", "fine")
    # A name with a private and a public address: only the public one is connected to.
    resolver = StubResolver({"news.example": ["127.0.0.1", "8.8.8.8"]})
    guarded = Fetcher(allow_private=False, user_agent=UA, resolver=resolver)
    connected: list[str] = []
    try:
        with reroute({("8.8.8.8", 80): ("127.0.0.1", server.port)}):
            loop = asyncio.get_running_loop()
            inner = loop.sock_connect

            async def spy(sock: object, address: tuple[str, int]) -> None:
                connected.append(address[0])
                await inner(sock, address)  # type: ignore[arg-type]

            loop.sock_connect = spy  # type: ignore[method-assign,assignment]
            assert (await guarded.fetch("http://news.example/public")).body == b"fine"
    finally:
        await guarded.close()
    assert connected == ["8.8.8.8"]


async def test_only_http_and_https(fetcher: Fetcher) -> None:
    for url in ("file:///etc/passwd", "ftp://news.example/feed", "gopher://x/", "not a url"):
        with pytest.raises(FetchError, match=r"only http and https|not a valid URL"):
            await fetcher.fetch(url)


def test_header_parsers() -> None:
    assert parse_max_age("public, max-age=300") == 300
    assert parse_max_age("no-cache") == 0
    assert parse_max_age("max-age=abc") is None
    assert parse_max_age(None) is None
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Wed, 01 Jul 2026 10:05:00 GMT", now) == 300
    assert parse_retry_after("soon", now) is None
    assert default_user_agent("https://news.example").startswith("Newswire/")
    assert default_user_agent("https://news.example").endswith("(+https://news.example)")
