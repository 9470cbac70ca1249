"""End to end on the sandbox: a feed item is posted, sent, corrected; its failures are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.context import utc_now
from tests.support.feeds import Item, at, rss
from tests.support.http import LocalServer
from tests.support.outbox import alerts, channel_posts
from tests.support.reader import READER, say
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

RSS = "application/rss+xml; charset=utf-8"
OLD = Item("Budget 2026 unveiled", link="https://h.example/budget", published=at(1))
NEW = Item(
    "Bus captain returns lost wallet in Bedok",
    link="https://h.example/bus-captain",
    published=at(3),
)


@pytest.fixture
async def feed_server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as server:
        server.serve("/feed.xml", rss([OLD]), content_type=RSS)
        yield server


@pytest.fixture
def stack_settings(feed_server: LocalServer) -> dict[str, Any]:
    """The stack reads the local feed, polling it every 0.3 s (its links lead nowhere)."""
    return {"sources": feed_server.url("/feed.xml"), "feed_interval": 0.3, "full_text": "never"}


async def polls(stack: Stack, count: int = 2) -> None:
    """Wait until the poll job has run `count` more times."""
    services = stack.newswire.services
    target = services.poll_count + count
    await wait_for(lambda: services.poll_count >= target, what=f"{count} polls")


async def test_new_feed_item_is_posted_sent_and_its_correction_edits_the_post(
    stack: Stack, feed_server: LocalServer
) -> None:
    await wait_for(
        lambda: feed_server.hits("/feed.xml"), what="the first poll of the feed (the archive)"
    )
    await polls(stack)
    assert channel_posts(stack) == []  # what the feed held at first is the archive
    await say(stack, "/subscribe wallet")
    feed_server.serve("/feed.xml", rss([NEW, OLD]), content_type=RSS)
    posts = await wait_for(lambda: channel_posts(stack), what="the channel post")
    assert posts[0]["text"].startswith("Bus captain returns lost wallet in Bedok")
    sent = await wait_for(lambda: alerts(stack, READER), what="the subscriber's message")
    assert "Bus captain returns lost wallet" in sent[0]["text"]

    corrected = Item(
        "Bus captain returns lost wallet in Bedok, gets award",
        link=NEW.link,
        published=NEW.published,
    )
    feed_server.serve("/feed.xml", rss([corrected, OLD]), content_type=RSS)

    def edited() -> list[dict[str, Any]]:
        return [m for m in channel_posts(stack) if m["edited"] and "gets award" in m["text"]]

    await wait_for(edited, what="the channel post edited")
    await polls(stack)
    assert len(channel_posts(stack)) == 1
    assert len(alerts(stack, READER)) == 1


async def test_a_feed_failing_for_a_day_tells_the_editors_once_and_its_recovery_once(
    stack: Stack, feed_server: LocalServer
) -> None:
    await polls(stack)
    feed_server.serve("/feed.xml", b"down", status=503)
    failures = len(feed_server.hits("/feed.xml"))
    await wait_for(lambda: len(feed_server.hits("/feed.xml")) > failures, what="a failed poll")
    # A day passes for the poller (the services' clock), not for the test.
    skew = timedelta(hours=25)
    stack.newswire.services.clock = lambda: utc_now() + skew

    def notices(word: str) -> list[dict[str, Any]]:
        return [m for m in stack.sandbox.bot_messages(ADMIN) if word in m["text"]]

    failing = await wait_for(lambda: notices("has failed for 24 h"), what="the failure notice")
    assert "/feed.xml" in failing[0]["text"]
    await polls(stack, 3)
    assert len(notices("has failed for 24 h")) == 1

    feed_server.serve("/feed.xml", rss([OLD]), content_type=RSS)
    skew += timedelta(days=1)  # past any backoff
    await wait_for(lambda: notices("working again"), what="the recovery notice")
    await polls(stack, 3)
    assert len(notices("working again")) == 1
    assert len(notices("has failed for 24 h")) == 1
