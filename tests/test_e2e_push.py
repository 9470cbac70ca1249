"""End to end: a signed CMS push becomes a channel post at once; replays and forgeries do not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.outbox import channel_posts, posts_titled
from tests.support.push import PUSH_SETTINGS, Pusher, article, encode, ghost_post
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return dict(PUSH_SETTINGS)


async def pushed_and_posted(stack: Stack, pusher: Pusher, data: dict[str, Any]) -> None:
    """Push `data` and wait for its channel post (a barrier for what was sent before)."""
    answer = await pusher.push(data)
    assert answer.status == 202, answer.body
    await wait_for(lambda: posts_titled(stack, data["title"]), what="the pushed story's post")


async def test_signed_push_is_posted_and_a_replay_posts_nothing_new(
    stack: Stack, pusher: Pusher
) -> None:
    data = article(1)
    body = encode(data)
    headers = pusher.signed_headers(body)
    answer = await pusher.post("/push/articles", body, headers)
    assert (answer.status, answer.body) == (202, {"id": "push-1", "status": "queued"})
    await wait_for(lambda: posts_titled(stack, data["title"]), what="the channel post")

    replay = await pusher.post("/push/articles", body, headers)  # the very same request
    assert (replay.status, replay.body["id"]) == (202, "push-1")
    again = await pusher.push(data)  # the same story, signed anew
    assert again.status == 202
    await pushed_and_posted(stack, pusher, article(2))  # barrier: everything before is done
    assert len(posts_titled(stack, data["title"])) == 1
    story = await stack.newswire.repo.articles.get("push-1")
    assert story is not None and story.author == "Jane Tan" and "transport" in story.topics


async def test_forged_push_is_refused_and_posts_nothing(stack: Stack, pusher: Pusher) -> None:
    forged = article(3)
    answer = await pusher.push(forged, secret="guessed-secret")
    assert answer.status == 401
    await pushed_and_posted(stack, pusher, article(4))
    assert posts_titled(stack, forged["title"]) == []
    assert await stack.newswire.repo.articles.get("push-3") is None


async def test_update_edits_the_channel_post(stack: Stack, pusher: Pusher) -> None:
    # No wait for the post's result to be recorded: a correction that lands while the post is
    # on the wire is applied once it is (deliveries.edit_due).
    await pushed_and_posted(stack, pusher, article(5))
    corrected = article(
        5, title="Corrected: pushed story 5 about the new MRT line", action="update"
    )
    answer = await pusher.push(corrected)
    assert (answer.status, answer.body["id"]) == (202, "push-5")

    def edited() -> list[dict[str, Any]]:
        return [p for p in posts_titled(stack, corrected["title"]) if p["edited"]]

    # An edit waits for the channel's next slot (one post every 3 s): a roomier ceiling.
    await wait_for(edited, timeout=20, what="the channel post edited")
    assert len(channel_posts(stack)) == 1  # edited in place, not posted again


async def test_delete_is_accepted_and_recorded(stack: Stack, pusher: Pusher) -> None:
    await pushed_and_posted(stack, pusher, article(6))
    answer = await pusher.push({"id": "push-6", "action": "delete"})
    assert (answer.status, answer.body) == (202, {"id": "push-6", "status": "queued"})
    items = await stack.newswire.repo.sources.items("push", ["push-6"])
    assert items["push-6"].withdrawn is True
    assert "push-6" in await stack.newswire.repo.sources.withdrawn_articles()


async def test_delete_before_the_post_keeps_it_from_going_out(stack: Stack, pusher: Pusher) -> None:
    """An embargoed story withdrawn before its time is never posted."""
    data = article(7, publish_at="2100-01-01T00:00:00Z")
    answer = await pusher.push(data)
    assert answer.status == 202
    assert (await pusher.push({"id": "push-7", "action": "delete"})).status == 202
    await pushed_and_posted(stack, pusher, article(8))
    assert posts_titled(stack, data["title"]) == []


async def test_ghost_publish_edit_and_unpublish(stack: Stack, pusher: Pusher) -> None:
    post = ghost_post(1)
    answer = await pusher.ghost_hook(post)
    assert answer.status == 202, answer.body
    await wait_for(lambda: posts_titled(stack, post["title"]), what="the Ghost story's post")
    story_id = answer.body["id"]

    edited = ghost_post(1, title="Ghost story 1, corrected", updated_at="2026-07-01T02:00:00Z")
    answer = await pusher.ghost_hook(edited, {"title": post["title"]})
    assert (answer.status, answer.body["id"]) == (202, story_id)
    await wait_for(
        lambda: [p for p in posts_titled(stack, edited["title"]) if p["edited"]],
        timeout=20,
        what="the Ghost story's post edited",
    )

    draft = ghost_post(1, status="draft", url="https://ghost.example.com/p/0f0c8f2e/")
    answer = await pusher.ghost_hook(draft, {"status": "published", "url": post["url"]})
    assert (answer.status, answer.body["id"]) == (202, story_id)
    assert story_id in await stack.newswire.repo.sources.withdrawn_articles()
    assert len(channel_posts(stack)) == 1
