"""End to end on the sandbox: editors add, list and remove sources in the chat; readers cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.feeds import Item, at, rss
from tests.support.http import LocalServer
from tests.support.outbox import channel_posts
from tests.support.reader import say
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

RSS = "application/rss+xml; charset=utf-8"
OLD = Item("Budget 2026 unveiled", link="https://h.example/budget", published=at(1))
NEW = Item("Bus captain returns lost wallet", link="https://h.example/bus", published=at(3))


@pytest.fixture
async def feed_server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as server:
        server.serve("/feed.xml", rss([OLD], title="Harbour Times"), content_type=RSS)
        yield server


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    """Sources are polled every 0.3 s; their items' links lead nowhere, so no page fetching."""
    return {"feed_interval": 0.3, "full_text": "never"}


async def test_an_editor_adds_lists_and_removes_a_feed(
    stack: Stack, feed_server: LocalServer
) -> None:
    assert stack.settings.private_urls_allowed  # the sandbox's default: local feeds are read
    empty = await say(stack, "/sources", user=ADMIN)
    assert "No sources yet" in empty["text"]

    added = await say(stack, f"/addsource {feed_server.url('/feed.xml')}", user=ADMIN)
    assert "Added the feed Harbour Times (1 item)" in added["text"]
    # Its first poll reads what it holds as the archive: nothing is posted.
    await wait_for(lambda: _polled(stack), what="the source's first successful poll")
    assert channel_posts(stack) == []

    # Polled from now on: a new item is posted.
    feed_server.serve("/feed.xml", rss([NEW, OLD], title="Harbour Times"), content_type=RSS)
    posts = await wait_for(lambda: channel_posts(stack), what="the new item's channel post")
    assert posts[0]["text"].startswith("Bus captain returns lost wallet")

    text = (await say(stack, "/sources", user=ADMIN))["text"]
    assert "1. Harbour Times · feed · active" in text
    assert feed_server.url("/feed.xml") in text
    assert "last success" in text and "next poll" in text

    again = await say(stack, f"/addsource {feed_server.url('/feed.xml')}", user=ADMIN)
    assert "already there" in again["text"]

    removed = await say(stack, "/removesource 1", user=ADMIN)
    assert "Removed Harbour Times" in removed["text"]
    assert "No sources yet" in (await say(stack, "/sources", user=ADMIN))["text"]
    assert await stack.newswire.repo.sources.all() == []


async def _polled(stack: Stack) -> bool:
    [source] = await stack.newswire.repo.sources.all()
    return source.last_success_at is not None


async def test_bad_addresses_and_numbers_get_one_line(
    stack: Stack, feed_server: LocalServer
) -> None:
    for command, words in (
        ("/addsource", "Usage: /addsource"),
        ("/addsource not-a-url", "give a feed or page URL"),
        (f"/addsource {feed_server.url('/nothing')}", "nothing there (HTTP 404"),
        ("/removesource", "Usage: /removesource"),
        ("/removesource 3", "no sources to remove"),
    ):
        answer = await say(stack, command, user=ADMIN)
        assert words in answer["text"], command
    assert await stack.newswire.repo.sources.all() == []


async def test_readers_get_the_unknown_command_hint(stack: Stack, feed_server: LocalServer) -> None:
    for command in ("/sources", f"/addsource {feed_server.url('/feed.xml')}", "/removesource 1"):
        answer = await say(stack, command)
        assert "don't know" in answer["text"]
        assert not any(w in answer["text"] for w in ("Added", "No sources", "Usage", "Removed"))
    assert feed_server.hits("/feed.xml") == []
    assert await stack.newswire.repo.sources.all() == []
