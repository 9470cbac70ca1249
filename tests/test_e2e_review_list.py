"""End to end: `/post` alone lists what waits for an editor (REVIEW=true, two editors).

Bea has never started the bot, so Telegram refuses her previews ("chat not found"); `/post`
is how she finds the stories and publishes them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import Review
from bot.handlers.review import LIST_LIMIT
from bot.rendering import review as view
from bot.rendering.text import plain_text
from content import review
from content.models import Delivery, DeliveryKind, DeliveryState
from content.storage import Repository
from tests.support.articles import NEW_ARTICLE, PUBLISHED, budget_story, make_article, write
from tests.support.outbox import channel_posts
from tests.support.reader import buttons, press, say
from tests.support.stack import ADMIN, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BEA = 4343  # the second editor; she never started the bot
WALLET = "Bus captain praised for returning lost wallet in Bedok"
BUDGET = "Budget 2026 highlights for households"


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return {"review": True, "admin_ids": f"{ADMIN},{BEA}"}


def publish_targets(message: dict[str, Any]) -> list[str]:
    """The article ids of the message's Publish buttons, top to bottom."""
    found = [Review.decode(b.get("callback_data")) for b in buttons(message)]
    return [d.article_id for d in found if d is not None and d.action == Review.PUBLISH]


def previews_saying(stack: Stack, editor: int, text: str) -> list[dict[str, Any]]:
    """The editor's review previews whose text has `text` (none before they arrive)."""
    return [
        m
        for m in stack.sandbox.bot_messages(editor)
        if publish_targets(m) and text in str(m["text"])
    ]


def refused_to_bea(delivery: Delivery) -> bool:
    """Bea's preview, given up: Telegram said "chat not found"."""
    return (
        delivery.kind is DeliveryKind.REVIEW
        and str(delivery.chat_id) == str(BEA)
        and delivery.state is DeliveryState.DEAD
    )


def text_now(stack: Stack, chat_id: int, message: dict[str, Any]) -> str:
    """The message's text as it reads now (edits included)."""
    shown = stack.sandbox.message_view(chat_id, message["message_id"])
    assert shown is not None
    return str(shown["text"])


async def test_post_alone_lists_what_waits_and_its_button_publishes(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "wallet.txt", NEW_ARTICLE)
    write(content_dir, "budget.md", budget_story(2026, publish_at=None))
    budget = (await wait_for(lambda: previews_saying(stack, ADMIN, BUDGET), what="a preview"))[0]
    wallet = (await wait_for(lambda: previews_saying(stack, ADMIN, WALLET), what="a preview"))[0]
    wallet_id = publish_targets(wallet)[0]

    async def bea_refused() -> bool:
        return any(refused_to_bea(d) for d in await deliveries_of(stack.newswire.repo, wallet_id))

    refused: bool = await wait_for(bea_refused, what="Bea's preview refused (chat not found)")
    assert refused
    await press(stack, budget, "Hold", user=ADMIN)
    await wait_for(lambda: "Held by" in text_now(stack, ADMIN, budget), what="the Budget held")

    listing = await say(stack, "/post", user=BEA)
    text = listing["text"]
    assert "2 stories wait for an editor" in text
    # Newest first: the wallet story (3 July) before the Budget (1 July).
    assert text.index(WALLET) < text.index(BUDGET)
    assert wallet_id in text and "budget-2026" in text
    assert "waiting" in text and "held by Editor" in text
    assert publish_targets(listing) == [wallet_id, "budget-2026"]

    await press(stack, listing, "Publish: Bus captain", user=BEA)
    posts = await wait_for(lambda: channel_posts(stack), what="the channel post")
    assert "lost wallet" in posts[0]["text"]
    # Published exactly as the preview's button does: the previews say so.
    await wait_for(
        lambda: "Published by" in text_now(stack, ADMIN, wallet),
        what="ADMIN's preview saying it was published",
    )
    assert len(channel_posts(stack)) == 1  # the held Budget stays off the channel

    again = await say(stack, "/post", user=BEA)
    assert "1 story waits for an editor" in again["text"]
    assert publish_targets(again) == ["budget-2026"]


async def test_more_than_twenty_waiting_lists_the_newest_twenty_and_the_total(
    repo: Repository,
) -> None:
    # Storage, service and rendering without Telegram: 22 previews would be paced for 20 s.
    for n in range(22):
        article = make_article(f"story-{n:02}", published=PUBLISHED + timedelta(hours=n))
        await repo.articles.upsert(article, now=PUBLISHED)
        await repo.outbox.plan_review(article, editors=[], now=PUBLISHED)
    listing = view.awaiting_list(await review.awaiting(repo, limit=LIST_LIMIT))
    assert "22 stories wait for an editor; the newest 20:" in plain_text(listing.html)
    assert listing.keyboard is not None
    targets = [Review.decode(row[0].callback_data) for row in listing.keyboard.inline_keyboard]
    assert [t.article_id for t in targets if t is not None] == [
        f"story-{n:02}" for n in range(21, 1, -1)
    ]


async def test_post_alone_with_nothing_waiting_says_so(stack: Stack) -> None:
    reply = await say(stack, "/post", user=ADMIN)
    assert reply["text"] == "Nothing is waiting for review or held."
    assert publish_targets(reply) == []
