"""End to end: editors' /stats and /retry; everyone else gets the normal hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.models import DeliveryState
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import alerts, channel_posts, dead_to, subscribe
from tests.support.reader import say
from tests.support.stack import ADMIN, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


async def test_non_admin_gets_the_hint(stack: Stack) -> None:
    for command in ("/stats", "/retry abc"):
        reply = await say(stack, command)
        assert "don't know" in reply["text"] and "Delivery" not in reply["text"]


async def test_stats_and_retry_bring_back_a_dead_delivery(stack: Stack, content_dir: Path) -> None:
    await subscribe(stack, 3500)  # unknown to Telegram for now: its delivery dies
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    dead = await wait_for(lambda: dead_to(stack, "3500"), what="the dead delivery")
    article_id = dead[0].article_id
    # The editors' notice of the dead delivery comes first: /stats's reply is the next message.
    await wait_for(
        lambda: any("Gave up" in m["text"] for m in stack.sandbox.bot_messages(ADMIN)),
        what="the editors' notice",
    )

    stats = await say(stack, "/stats", user=ADMIN)
    assert "dead: 1" in stats["text"]
    assert "Active subscribers: 1" in stats["text"]
    assert f"{article_id} → 3500" in stats["text"] and "not found" in stats["text"]

    stack.sandbox.add_user(3500, "Late reader")  # the chat exists now
    retried = await say(stack, f"/retry {article_id}", user=ADMIN)
    assert "Re-queued 1" in retried["text"]
    await wait_for(lambda: alerts(stack, 3500), what="the re-queued message")
    nothing = await say(stack, f"/retry {article_id}", user=ADMIN)
    assert "No dead deliveries" in nothing["text"]
    states = {d.state for d in await deliveries_of(stack.newswire.repo, article_id)}
    assert DeliveryState.DEAD not in states
