"""End to end: a reader pastes a link; the outlet's story gets its card, other sites one line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.http import LocalServer
from tests.support.outbox import channel_posts
from tests.support.reader import buttons, say
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html><head>
<title>Otters spotted raising pups at Bishan park | The Outlet</title>
<meta property="og:title" content="Otters spotted raising pups at Bishan park">
<meta name="author" content="Lee Mei Ling">
<meta property="article:published_time" content="2026-06-30T08:00:00+08:00">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Otters spotted raising pups at Bishan park</h1>
<p>A family of smooth-coated otters has been seen raising five pups in Bishan-Ang Mo Kio Park,
wildlife watchers said on Tuesday, drawing crowds to the river bank every morning.</p>
<p>The otters, first spotted in the park in 2014, have become a familiar sight for joggers and
photographers, who are asked to keep their distance and never feed the animals.</p>
<p>National Parks Board officers said they were monitoring the family and reminded visitors
that dogs must be kept on a leash near the water.</p>
</article>
<footer>Follow us on Telegram for more news.</footer>
</body></html>
"""


@pytest.fixture
async def site() -> AsyncIterator[LocalServer]:
    async with LocalServer() as server:
        server.serve("/2026/06/otters", PAGE, content_type="text/html; charset=utf-8")
        yield server


@pytest.fixture
def stack_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The outlet is the local server (127.0.0.1); private addresses as the test asks."""
    allow = getattr(request, "param", True)
    return {"site_domains": "127.0.0.1", "allow_private_urls": allow}


async def test_outlet_page_is_fetched_stored_and_never_posted(
    stack: Stack, site: LocalServer
) -> None:
    link = site.url("/2026/06/otters") + "?utm_source=telegram"
    card = await say(stack, f"have you seen this? {link}")
    assert card["text"].startswith("Otters spotted raising pups at Bishan park")
    assert "Lee Mei Ling" in card["text"]
    assert any("Read full article" in b["text"] for b in buttons(card))
    assert len(site.hits("/2026/06/otters")) == 1

    # Known now: the same story, from storage, without fetching again.
    again = await say(stack, site.url("/2026/06/otters"))
    assert again["text"] == card["text"]
    assert len(site.hits("/2026/06/otters")) == 1

    await stack.scans(2)  # planning ran since: the story is archive, not news
    assert channel_posts(stack) == []


async def test_link_to_another_site_gets_one_line(stack: Stack, site: LocalServer) -> None:
    answer = await say(stack, "https://elsewhere.example.org/story/1")
    assert answer["text"] == "I only open links to stories on 127.0.0.1."
    assert site.requests == []


async def test_outlet_page_without_a_story(stack: Stack, site: LocalServer) -> None:
    site.serve("/empty", "<html><body></body></html>", content_type="text/html")
    answer = await say(stack, site.url("/empty"))
    assert answer["text"] == "I found no story on that page. Try /search words."


@pytest.mark.parametrize("stack_settings", [False], indirect=True)
async def test_link_to_a_private_address_is_refused(stack: Stack, site: LocalServer) -> None:
    answer = await say(stack, site.url("/2026/06/otters"))
    assert answer["text"] == "That link leads to a private or local address: I don't open it."
    assert site.requests == []
