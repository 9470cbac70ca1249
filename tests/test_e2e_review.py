"""End to end: editorial review (REVIEW=true) with two editors on the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import Review
from content.models import DeliveryKind, ReviewState
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import channel_posts
from tests.support.reader import buttons, press, say
from tests.support.stack import ADMIN, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

BEA = 4343  # the second editor
OUTSIDER = 5151  # a reader, not an editor
NEW_SUMMARY = "An editor's own summary: the bus captain returned the wallet with all S$800."


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return {"review": True, "admin_ids": f"{ADMIN},{BEA}"}


def previews(stack: Stack, editor: int) -> list[dict[str, Any]]:
    """The review previews an editor received (the bot's messages with a Publish button)."""
    return [
        m
        for m in stack.sandbox.bot_messages(editor)
        if any(Review.decode(b.get("callback_data")) for b in buttons(m))
        or "Published by" in m["text"]
        or "Held by" in m["text"]
    ]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for b in buttons(message)]


def current(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it reads now (edits included)."""
    view = stack.sandbox.message_view(message["chat_id"], message["message_id"])
    assert view is not None
    return view  # type: ignore[no-any-return]


def saying(stack: Stack, message: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The message as it reads now, once it says `text` (None before)."""
    now = current(stack, message)
    return now if text in now["text"] else None


def data_of(message: dict[str, Any], action: str) -> str:
    for button in buttons(message):
        decoded = Review.decode(button.get("callback_data"))
        if decoded is not None and decoded.action == action:
            return str(button["callback_data"])
    raise AssertionError(f"no {action!r} button on {message['text'][:60]!r}")


async def answer_to(stack: Stack, query_id: str) -> str:
    answers = await wait_for(
        lambda: [a for a in stack.sandbox.callback_answers if a["callback_query_id"] == query_id],
        what="the button's answer",
    )
    return str(answers[0]["text"])


async def story_for_review(stack: Stack, content_dir: Path) -> tuple[dict[str, Any], ...]:
    """A new story arrives; returns each editor's preview (ADMIN's, then BEA's)."""
    stack.sandbox.add_user(BEA, "Bea")
    write(content_dir, "wallet.txt", NEW_ARTICLE)
    mine = await wait_for(lambda: previews(stack, ADMIN), what="ADMIN's preview")
    hers = await wait_for(lambda: previews(stack, BEA), what="BEA's preview")
    return mine[0], hers[0]


def article_id_of(preview: dict[str, Any]) -> str:
    decoded = Review.decode(data_of(preview, Review.PUBLISH))
    assert decoded is not None
    return decoded.article_id


async def test_a_new_story_is_previewed_to_each_editor_and_not_posted(
    stack: Stack, content_dir: Path
) -> None:
    mine, hers = await story_for_review(stack, content_dir)
    for preview in (mine, hers):
        assert "Bus captain praised for returning lost wallet" in preview["text"]
        assert "For review" in preview["text"]
        assert [label for label in labels(preview) if "Read in the bot" not in label] == [
            "✅ Publish",
            "⏸ Hold",
            "✏️ Edit summary",
        ]
    article_id = article_id_of(mine)
    rows = await deliveries_of(stack.newswire.repo, article_id)
    assert {d.kind for d in rows} == {DeliveryKind.REVIEW}
    assert channel_posts(stack) == []
    stored = await stack.newswire.repo.articles.get(article_id)
    assert stored is not None and stored.review is ReviewState.WAITING
    # Not in readers' lists while it waits.
    latest = await say(stack, "/latest", user=ADMIN)
    assert "lost wallet" not in latest["text"]


async def test_publish_posts_once_and_tells_the_other_editor(
    stack: Stack, content_dir: Path
) -> None:
    mine, hers = await story_for_review(stack, content_dir)
    stale_publish = data_of(hers, Review.PUBLISH)
    await press(stack, mine, "Publish", user=ADMIN)
    posts = await wait_for(lambda: channel_posts(stack), what="the channel post")
    assert "lost wallet" in posts[0]["text"]
    edited = await wait_for(
        lambda: saying(stack, hers, "Published by Editor"),
        what="BEA's preview saying who published",
    )
    assert not any("Publish" in label or "Hold" in label for label in labels(edited))
    # Bea's client had not shown the edit yet: her press is answered, not published twice.
    query = stack.sandbox.press_button(
        BEA, hers["chat_id"], hers["message_id"], stale_publish, forge=True
    )
    assert await answer_to(stack, query) == "Already published by Editor."
    assert len(channel_posts(stack)) == 1


async def test_two_editors_publishing_at_once_publish_once(stack: Stack, content_dir: Path) -> None:
    mine, hers = await story_for_review(stack, content_dir)
    first = stack.sandbox.press_button(
        ADMIN, mine["chat_id"], mine["message_id"], data_of(mine, Review.PUBLISH)
    )
    second = stack.sandbox.press_button(
        BEA, hers["chat_id"], hers["message_id"], data_of(hers, Review.PUBLISH)
    )
    answers = sorted([await answer_to(stack, first), await answer_to(stack, second)])
    assert answers[0].startswith("Already published by ")
    assert answers[1].startswith("Published:")
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    rows = await deliveries_of(stack.newswire.repo, article_id_of(mine))
    assert len([d for d in rows if d.kind is DeliveryKind.CHANNEL]) == 1
    assert len(channel_posts(stack)) == 1


async def test_hold_keeps_it_off_the_channel_until_post(stack: Stack, content_dir: Path) -> None:
    mine, hers = await story_for_review(stack, content_dir)
    article_id = article_id_of(mine)
    await press(stack, mine, "Hold", user=ADMIN)
    held = await wait_for(
        lambda: saying(stack, hers, "Held by Editor"), what="BEA's preview saying who held it"
    )
    assert "✅ Publish" in labels(held) and "⏸ Hold" not in labels(held)
    rows = await deliveries_of(stack.newswire.repo, article_id)
    assert {d.kind for d in rows} == {DeliveryKind.REVIEW}
    assert channel_posts(stack) == []

    reply = await say(stack, f"/post {article_id}", user=BEA)
    assert reply["text"].startswith("Published:")
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    await wait_for(
        lambda: "Published by Bea" in current(stack, mine)["text"],
        what="ADMIN's preview saying Bea published it",
    )
    again = await say(stack, f"/post {article_id}", user=ADMIN)
    assert again["text"] == "Already published by Bea."


async def test_summary_edits_the_channel_post_and_the_previews(
    stack: Stack, content_dir: Path
) -> None:
    mine, hers = await story_for_review(stack, content_dir)
    article_id = article_id_of(mine)
    await press(stack, mine, "Edit summary", user=ADMIN)
    prompt = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if "/summary" in m["text"]],
        what="the prompt to send /summary",
    )
    assert f"/summary {article_id} " in prompt[0]["text"]

    await press(stack, mine, "Publish", user=ADMIN)
    posts = await wait_for(lambda: channel_posts(stack), what="the channel post")
    too_long = await say(stack, f"/summary {article_id} {'word ' * 200}", user=BEA)
    assert "too long" in too_long["text"]
    reply = await say(stack, f"/summary {article_id} {NEW_SUMMARY}", user=BEA)
    assert reply["text"].startswith("Summary replaced")
    await wait_for(
        lambda: NEW_SUMMARY in current(stack, posts[0])["text"], what="the channel post edited"
    )
    await wait_for(lambda: NEW_SUMMARY in current(stack, hers)["text"], what="the preview edited")
    assert len(channel_posts(stack)) == 1


async def test_a_non_editor_cannot_publish(stack: Stack, content_dir: Path) -> None:
    mine, _ = await story_for_review(stack, content_dir)
    article_id = article_id_of(mine)
    stack.sandbox.add_user(OUTSIDER, "Olly")
    hello = await say(stack, "/start", user=OUTSIDER)
    forged = Review(Review.PUBLISH, article_id).encode()
    query = stack.sandbox.press_button(OUTSIDER, OUTSIDER, hello["message_id"], forged, forge=True)
    assert await answer_to(stack, query) == "This button has expired. Try /latest."
    refused = await say(stack, f"/post {article_id}", user=OUTSIDER)
    assert "don't know" in refused["text"]
    stored = await stack.newswire.repo.articles.get(article_id)
    assert stored is not None and stored.review is ReviewState.WAITING
    assert channel_posts(stack) == []
