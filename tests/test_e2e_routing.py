"""End to end: topic routes, forum topics, publish options and pins, on the sandbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.jobs import unpin_expired
from bot.sandbox.state import GENERAL_TOPIC
from content.models import DeliveryKind
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import channel_posts
from tests.support.push import PUSH_SETTINGS, Pusher, article
from tests.support.stack import ADMIN, CHANNEL, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

TRANSPORT = "@newswire_transport"
FORUM = "@newswire_forum"
TOPIC = GENERAL_TOPIC + 1  # the forum's first topic made (topic ids are message ids)
ROUTES = f"transport=@newswire_transport;world,war_conflict={FORUM}:{TOPIC}"


@pytest.fixture
def stack_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Routes for every test; `quiet` (a parameter) puts the present hour in quiet hours."""
    asked: dict[str, Any] = dict(getattr(request, "param", {}))
    settings: dict[str, Any] = {"channel_routes": ROUTES, **asked}
    if settings.pop("quiet", False):
        now = datetime.now(tz=settings_zone())
        start, end = now - timedelta(hours=1), now + timedelta(hours=1)
        settings["channel_quiet_hours"] = f"{start:%H:%M}-{end:%H:%M}"
    return settings


def settings_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Singapore")  # TIMEZONE's default, the stack's outlet zone


def story(
    name: str,
    *,
    tags: str = "world",
    front: str = "",
    body: str = "Ministers met on Friday to discuss the ceasefire.",
) -> str:
    """A Markdown story with front matter; `name` makes its id and title."""
    return (
        f"---\nid: {name}\ntitle: Story {name}\ntags: [{tags}]\n{front}\n---\n\n"
        f"{body}\n\nA second paragraph with more of the story.\n"
    )


def posts(stack: Stack, chat: str) -> list[dict[str, Any]]:
    return stack.sandbox.bot_messages(chat)  # type: ignore[no-any-return]


def titled(stack: Stack, chat: str, title: str) -> list[dict[str, Any]]:
    return [m for m in posts(stack, chat) if (m.get("text") or "").startswith(title)]


async def test_a_story_reaches_every_channel_and_its_route_once_each(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    routed = await wait_for(lambda: posts(stack, TRANSPORT), what="the routed post")
    assert routed[0]["text"].startswith("Bus captain praised")
    await stack.scans(3)
    assert len(channel_posts(stack)) == 1
    assert len(posts(stack, TRANSPORT)) == 1
    assert posts(stack, FORUM) == []  # not a world story
    # A plain post: sound on, forwardable, no preview.
    assert not routed[0]["silent"] and not routed[0]["protected"]
    assert routed[0]["link_preview_options"] == {"is_disabled": True}


async def test_a_story_routed_to_a_forum_topic_lands_in_it_and_is_edited_there(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "talks.md", story("talks"))
    (post,) = await wait_for(lambda: posts(stack, FORUM), what="the topic post")
    assert post["message_thread_id"] == TOPIC
    assert post["text"].startswith("Story talks")
    assert len(channel_posts(stack)) == 1

    write(content_dir, "talks.md", story("talks", body="Ministers agreed on a ceasefire."))
    edited = await wait_for(
        lambda: [m for m in posts(stack, FORUM) if m["edited"]], what="the topic post edited"
    )
    assert "agreed on a ceasefire" in edited[0]["text"]
    assert edited[0]["message_id"] == post["message_id"]
    assert edited[0]["message_thread_id"] == TOPIC
    assert len(posts(stack, FORUM)) == 1


@pytest.mark.parametrize("stack_settings", [{"quiet": True}], indirect=True)
async def test_posts_in_channel_quiet_hours_are_silent_but_breaking_ones_are_not(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "bus.txt", NEW_ARTICLE)
    (quiet,) = await wait_for(lambda: channel_posts(stack), what="the quiet post")
    assert quiet["silent"]
    (routed,) = await wait_for(lambda: posts(stack, TRANSPORT), what="the routed quiet post")
    assert routed["silent"]
    write(content_dir, "alert.md", story("alert", front="breaking: true"))
    (loud,) = await wait_for(
        lambda: titled(stack, CHANNEL, "Story alert"), what="the breaking post"
    )
    assert not loud["silent"]


@pytest.mark.parametrize(
    "stack_settings",
    [{"channel_options": f"{TRANSPORT}=protect_content,link_preview:above"}],
    indirect=True,
)
async def test_protect_content_and_link_previews_reach_the_sandbox(
    stack: Stack, content_dir: Path
) -> None:
    url = "front: 1\nurl: https://news.example.com/stories/{}"
    write(content_dir, "a.md", story("fares", tags="transport", front=url.format("fares")))
    (channel,) = await wait_for(lambda: titled(stack, CHANNEL, "Story fares"), what="a post")
    (routed,) = await wait_for(lambda: titled(stack, TRANSPORT, "Story fares"), what="a route")
    assert not channel["protected"]
    assert channel["link_preview_options"] == {"is_disabled": True}
    assert routed["protected"]
    assert routed["link_preview_options"] == {
        "url": "https://news.example.com/stories/fares",
        "show_above_text": True,
    }

    # The story's own fields win over the channel's.
    front = url.format("trains") + "\nlink_preview: below\nprotect_content: false"
    write(content_dir, "b.md", story("trains", tags="transport", front=front))
    (channel,) = await wait_for(lambda: titled(stack, CHANNEL, "Story trains"), what="a post")
    (routed,) = await wait_for(lambda: titled(stack, TRANSPORT, "Story trains"), what="a route")
    below = {"url": "https://news.example.com/stories/trains", "show_above_text": False}
    assert channel["link_preview_options"] == below == routed["link_preview_options"]
    assert not routed["protected"]


async def test_a_breaking_story_is_pinned_silently_and_unpinned_after_pin_hours(
    stack: Stack, content_dir: Path
) -> None:
    services = stack.newswire.services
    bot = stack.newswire.application.bot
    before = services.clock()
    write(content_dir, "alert.md", story("alert", front="breaking: true"))
    (post,) = await wait_for(lambda: channel_posts(stack), what="the breaking post")
    pins: list[dict[str, Any]] = await wait_for(
        lambda: stack.sandbox.pins(CHANNEL)["log"], what="the post pinned"
    )
    assert stack.sandbox.pins(CHANNEL)["pinned_message_id"] == post["message_id"]
    assert pins == [
        {
            "action": "pin",
            "message_id": post["message_id"],
            "disable_notification": True,
            "date": pins[0]["date"],
        }
    ]
    assert not post["silent"]  # the post makes its sound; the pin makes none of its own
    # The forum post of the same story is pinned in its forum too.
    (topic_post,) = await wait_for(lambda: posts(stack, FORUM), what="the topic post")
    await wait_for(lambda: stack.sandbox.pins(FORUM)["pinned"] or None, what="the topic pin")
    assert stack.sandbox.pins(FORUM)["pinned"] == [topic_post["message_id"]]
    await wait_for(pins_recorded(stack, 2), what="both pins recorded")
    after = services.clock()

    hours = timedelta(hours=stack.settings.pin_hours)
    assert await unpin_expired(services, bot, now=before + hours - timedelta(seconds=1)) == 0
    assert stack.sandbox.pins(CHANNEL)["pinned_message_id"] == post["message_id"]

    assert await unpin_expired(services, bot, now=after + hours) == 2
    assert stack.sandbox.pins(CHANNEL)["pinned"] == []
    assert stack.sandbox.pins(FORUM)["pinned"] == []
    assert stack.sandbox.pins(CHANNEL)["log"][-1]["action"] == "unpin"
    # Settled: the next run has nothing to do.
    assert await unpin_expired(services, bot, now=after + 2 * hours) == 0
    assert len(channel_posts(stack)) == 1


async def test_an_unpin_telegram_refuses_is_settled_once(
    stack: Stack, content_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = stack.newswire.services
    write(content_dir, "alert.md", story("alert", tags="local", front="breaking: true"))
    (post,) = await wait_for(lambda: channel_posts(stack), what="the breaking post")
    await wait_for(pins_recorded(stack, 1), what="the pin recorded")
    stack.sandbox.delete_message(CHANNEL, post["message_id"])  # an admin removed the post
    later = services.clock() + timedelta(hours=stack.settings.pin_hours, minutes=1)
    bot = stack.newswire.application.bot
    assert await unpin_expired(services, bot, now=later) == 1
    assert await unpin_expired(services, bot, now=later) == 0
    refused = [r for r in caplog.records if "could not unpin" in r.getMessage()]
    assert len(refused) == 1


async def test_a_pin_without_rights_leaves_the_post_and_tells_the_editors_once(
    stack: Stack, content_dir: Path
) -> None:
    stack.sandbox.set_rights(CHANNEL, "administrator", can_edit_messages=False)
    write(content_dir, "one.md", story("one", tags="local", front="breaking: true"))
    await wait_for(lambda: titled(stack, CHANNEL, "Story one"), what="the first post")
    write(content_dir, "two.md", story("two", tags="local", front="breaking: true"))
    await wait_for(lambda: titled(stack, CHANNEL, "Story two"), what="the second post")

    def warnings() -> list[dict[str, Any]]:
        return [m for m in posts(stack, str(ADMIN)) if "Cannot pin" in (m.get("text") or "")]

    await wait_for(warnings, what="the editors told")
    await stack.scans(2)
    assert len(warnings()) == 1
    assert stack.sandbox.pins(CHANNEL)["pinned"] == []
    repo = stack.newswire.repo
    assert await repo.outbox.pins_due(now=services_later(stack), limit=10) == []
    for name in ("one", "two"):
        deliveries = await deliveries_of(repo, name)
        assert [d.kind for d in deliveries if d.message_id] == [DeliveryKind.CHANNEL]


def pins_recorded(stack: Stack, count: int) -> Callable[[], Awaitable[bool]]:
    """A probe: `count` pins are recorded in the outbox (the pin call returns before that)."""

    async def probe() -> bool:
        later = services_later(stack)
        return len(await stack.newswire.repo.outbox.pins_due(now=later, limit=10)) == count

    return probe


def services_later(stack: Stack) -> datetime:
    return stack.newswire.services.clock() + timedelta(days=30)  # type: ignore[no-any-return]


@pytest.mark.parametrize("stack_settings", [dict(PUSH_SETTINGS)], indirect=True)
async def test_pushed_publish_fields_reach_the_post_and_a_bad_one_is_named(
    stack: Stack,
) -> None:
    assert stack.newswire.web is not None
    async with Pusher(stack.newswire.web.url) as pusher:
        bad = await pusher.push(article(8, silent="loud"))
        assert (bad.status, bad.body.get("error")) == (400, "silent: expected true or false")
        fields = {"silent": True, "protect_content": True, "link_preview": "above"}
        answer = await pusher.push(article(9, **fields))
        assert answer.status == 202, answer.body
    title = article(9)["title"]
    (post,) = await wait_for(lambda: titled(stack, CHANNEL, title), what="the pushed post")
    assert post["silent"] and post["protected"]
    assert post["link_preview_options"] == {"url": article(9)["url"], "show_above_text": True}
    story = await stack.newswire.repo.articles.get("push-9")
    assert story is not None and story.options.protect_content
    assert await stack.newswire.repo.articles.get("push-8") is None
