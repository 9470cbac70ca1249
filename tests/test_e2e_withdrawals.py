"""End to end: a withdrawn story's channel post is deleted, readers are told, editors too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from content.models import DeliveryState
from tests.support.articles import write
from tests.support.ingest import story
from tests.support.outbox import posts_titled
from tests.support.push import PUSH_SETTINGS, Pusher, article
from tests.support.reader import say
from tests.support.stack import ADMIN, CHANNEL, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

REMOVAL = {**PUSH_SETTINGS, "withdraw_on_file_removed": True}


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return dict(PUSH_SETTINGS)


async def posted(stack: Stack, article_id: str, title: str) -> int:
    """Wait until the story's channel post is out and recorded; its message id."""
    (post,) = await wait_for(lambda: posts_titled(stack, title), what=f"the post of {title}")

    async def recorded() -> bool:
        rows = await deliveries_of(stack.newswire.repo, article_id)
        return any(d.state is DeliveryState.SENT for d in rows)

    await wait_for(recorded, what="the post recorded as sent")
    return int(post["message_id"])


async def channel_state(stack: Stack, article_id: str) -> DeliveryState:
    (row,) = await deliveries_of(stack.newswire.repo, article_id)
    return row.state


async def test_push_delete_removes_the_post_and_readers_are_told(
    stack: Stack, pusher: Pusher
) -> None:
    data = article(1)
    assert (await pusher.push(data)).status == 202
    await posted(stack, "push-1", data["title"])
    assert data["title"] in (await say(stack, "/latest"))["text"]

    answer = await pusher.push({"id": "push-1", "action": "delete"})
    assert answer.status == 202
    await wait_for(lambda: not posts_titled(stack, data["title"]), what="the post deleted")

    async def withdrawn() -> bool:
        return await channel_state(stack, "push-1") is DeliveryState.WITHDRAWN

    await wait_for(withdrawn, what="the delivery withdrawn")
    notice = "⚠️ Withdrawn at the source: 1 story (push-1); 1 channel post is being deleted."
    assert notice in [m["text"] for m in stack.sandbox.bot_messages(ADMIN)]
    assert "withdrawn" in (await say(stack, "/read push-1"))["text"]
    assert data["title"] not in (await say(stack, "/latest"))["text"]
    assert data["title"] not in (await say(stack, "/search MRT line"))["text"]
    assert "No article" in (await say(stack, "/read push-404"))["text"]  # unknown: as before


async def test_a_post_too_old_to_delete_is_left_to_the_editors(
    stack: Stack, pusher: Pusher
) -> None:
    data = article(2)
    assert (await pusher.push(data)).status == 202
    message_id = await posted(stack, "push-2", data["title"])
    stack.sandbox.age_message(CHANNEL, message_id, 49 * 3600)  # past Telegram's 48 hours

    assert (await pusher.push({"id": "push-2", "action": "delete"})).status == 202
    link = f"https://t.me/{CHANNEL[1:]}/{message_id}"
    notices = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if link in m["text"]],
        what="the editors told to remove the post by hand",
    )
    assert "by hand" in notices[0]["text"] and data["title"] in notices[0]["text"]
    assert await channel_state(stack, "push-2") is DeliveryState.DEAD
    assert posts_titled(stack, data["title"])  # still there: Telegram refused


async def test_front_matter_status_withdrawn_deletes_the_post(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "council.md", story("council-1"))
    title = "Story council-1 about the council"
    await posted(stack, "council-1", title)
    write(content_dir, "council.md", story("council-1", front="status: withdrawn\n"))
    await wait_for(lambda: not posts_titled(stack, title), what="the post deleted")
    assert "withdrawn" in (await say(stack, "/read council-1"))["text"]


@pytest.mark.parametrize("stack_settings", [REMOVAL])
async def test_a_removed_file_withdraws_its_story_when_asked(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "removed.md", story("removed-1"))
    title = "Story removed-1 about the council"
    await posted(stack, "removed-1", title)
    (content_dir / "removed.md").unlink()
    await wait_for(lambda: not posts_titled(stack, title), what="the post deleted")
    assert "withdrawn" in (await say(stack, "/read removed-1"))["text"]


async def test_a_removed_file_keeps_its_story_by_default(stack: Stack, content_dir: Path) -> None:
    write(content_dir, "kept.md", story("kept-1"))
    title = "Story kept-1 about the council"
    await posted(stack, "kept-1", title)
    (content_dir / "kept.md").unlink()
    await stack.scans(3)
    assert posts_titled(stack, title)
    # Forgotten: the file's record goes, its story stays.
    assert str((content_dir / "kept.md").resolve()) not in await stack.newswire.repo.sources.files()
    assert title in (await say(stack, "/read kept-1"))["text"]


async def test_an_editor_withdraws_a_story(stack: Stack, pusher: Pusher) -> None:
    data = article(3)
    assert (await pusher.push(data)).status == 202
    await posted(stack, "push-3", data["title"])
    answer = await say(stack, "/withdraw push-3", user=ADMIN)
    assert "Withdrew push-3. Channel posts to delete: 1." in answer["text"]
    await wait_for(lambda: not posts_titled(stack, data["title"]), what="the post deleted")
    assert "already" in (await say(stack, "/withdraw push-3", user=ADMIN))["text"]
    assert "Usage" in (await say(stack, "/withdraw", user=ADMIN))["text"]
