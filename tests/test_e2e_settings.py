"""End to end: a reader's settings, mutes, exclusions and onboarding, on the sandbox stack."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest

from content.models import ChatId, SubscriptionKind, chat_id_of
from content.preferences import MAX_MUTES, DigestMode, QuietHours
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import channel_posts
from tests.support.reader import READER, buttons, press, say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ME: ChatId = chat_id_of(READER)


def current(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it is now in the chat (after any edits)."""
    return next(
        m for m in stack.sandbox.bot_messages(READER) if m["message_id"] == message["message_id"]
    )


async def press_and_wait(
    stack: Stack, message: dict[str, Any], label: str, changed: Any
) -> dict[str, Any]:
    """Press a button and wait until `changed(message now)` holds; the message, edited."""
    await press(stack, message, label)

    def edited() -> dict[str, Any] | None:
        now = current(stack, message)
        return now if changed(now) else None

    result: dict[str, Any] = await wait_for(edited, what=f"the message edited after {label!r}")
    return result


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def test_settings_buttons_edit_the_one_message_in_place(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    view = await say(stack, "/settings")
    assert "each story as it is published" in view["text"]
    assert "✓ Instant" in labels(view) and "✓ No quiet hours" in labels(view)
    count = len(stack.sandbox.bot_messages(READER))

    view = await press_and_wait(stack, view, "Hourly", lambda m: "hourly digest" in m["text"])
    assert "✓ Hourly" in labels(view)
    view = await press_and_wait(stack, view, "Daily 18:00", lambda m: "at 18:00" in m["text"])
    assert "✓ Daily 18:00" in labels(view) and "Hourly" in labels(view)
    view = await press_and_wait(
        stack, view, "22:00–07:00", lambda m: "Quiet hours: 22:00–07:00" in m["text"]
    )
    view = await press_and_wait(
        stack, view, "Breaking in quiet hours", lambda m: "quiet hours: no" in m["text"]
    )
    # Every tap edited the same message: nothing new in the chat.
    assert len(stack.sandbox.bot_messages(READER)) == count
    settings = await readers.settings_of(ME)
    assert (settings.digest, settings.digest_at) == (DigestMode.DAILY, time(18))
    assert settings.quiet == QuietHours(time(22), time(7))
    assert settings.breaking_in_quiet is False

    await press(stack, view, "Bahasa Melayu")

    async def malay() -> bool:
        chosen = (await readers.settings_of(ME)).language == "ms"
        return chosen and "✓ Bahasa Melayu" in labels(current(stack, view))

    await wait_for(malay, what="the language chosen and shown")
    assert len(stack.sandbox.bot_messages(READER)) == count


async def test_digest_command(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    assert "Usage: /digest" in (await say(stack, "/digest"))["text"]
    refused = await say(stack, "/digest weekly")
    assert "could not read" in refused["text"]
    assert (await readers.settings_of(ME)).digest is DigestMode.OFF
    daily = await say(stack, "/digest daily 7:30")
    assert "a daily digest at 07:30" in daily["text"] and "The next one" in daily["text"]
    settings = await readers.settings_of(ME)
    assert (settings.digest, settings.digest_at) == (DigestMode.DAILY, time(7, 30))
    assert "hourly" in (await say(stack, "/digest hourly"))["text"]
    assert (await readers.settings_of(ME)).digest_at == time(7, 30)  # kept for next time
    assert "as it is published" in (await say(stack, "/digest off"))["text"]
    assert (await readers.settings_of(ME)).digest is DigestMode.OFF


async def test_timezone_command_and_times_shown_in_the_readers_zone(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    before = (await say(stack, "/latest"))["text"]
    assert "2 Jul 2026, 3:15 PM" in before  # the e-scooter story, in the outlet's Singapore time
    assert "Europe/London" in (await say(stack, "/timezone london"))["text"]
    assert "America/New_York" in (await say(stack, "/timezone New York"))["text"]
    assert (await readers.settings_of(ME)).timezone == "America/New_York"
    after = (await say(stack, "/latest"))["text"]
    assert "2 Jul 2026, 3:15 AM" in after and "3:15 PM" not in after
    assert "UTC+08:00" in (await say(stack, "/timezone UTC+8"))["text"]
    refused = await say(stack, "/timezone Atlantis")
    assert "could not read" in refused["text"]
    assert (await readers.settings_of(ME)).timezone == "UTC+08:00"
    assert "UTC+08:00" in (await say(stack, "/settings"))["text"]


async def test_quiet_command(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    assert "Usage: /quiet" in (await say(stack, "/quiet"))["text"]
    held = await say(stack, "/quiet 23:00-6:30")
    assert "23:00–06:30" in held["text"] and "Breaking news still comes through" in held["text"]
    assert (await readers.settings_of(ME)).quiet == QuietHours(time(23), time(6, 30))
    assert "could not read" in (await say(stack, "/quiet 23:00-23:00"))["text"]
    assert "No quiet hours" in (await say(stack, "/quiet off"))["text"]
    assert (await readers.settings_of(ME)).quiet is None


async def test_language_command(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    assert "Usage: /language" in (await say(stack, "/language"))["text"]
    assert "could not read" in (await say(stack, "/language xx"))["text"]
    await say(stack, "/language ta")
    assert (await readers.settings_of(ME)).language == "ta"
    await say(stack, "/language en")
    assert (await readers.settings_of(ME)).language == "en"


async def test_mute_and_unmute(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    assert "You mute nothing" in (await say(stack, "/mute"))["text"]
    assert "Muted “world cup”" in (await say(stack, '/mute "World  Cup"'))["text"]
    assert "already muted" in (await say(stack, "/mute world cup"))["text"]
    assert await readers.mutes_of(ME) == ["world cup"]
    assert "world cup" in (await say(stack, "/mute"))["text"]
    assert "Unmuted" in (await say(stack, "/unmute World Cup"))["text"]
    assert "was not muted" in (await say(stack, "/unmute world cup"))["text"]
    assert await readers.mutes_of(ME) == []


async def test_limits_each_with_a_clear_reply(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    now = stack.newswire.services.clock()
    await say(stack, "/start")
    for number in range(MAX_MUTES):
        await readers.mute(chat_id=ME, value=f"w{number}", now=now)
    refused = await say(stack, "/mute one more")
    assert "50" in refused["text"] and "/unmute" in refused["text"]
    assert len(await readers.mutes_of(ME)) == MAX_MUTES
    await say(stack, "/unmute w1")
    assert "at most 64 characters" in (await say(stack, "/mute " + "m" * 65))["text"]
    too_long = await say(stack, "/subscribe ukraine -" + "x" * 65)
    assert "64 characters" in too_long["text"]
    assert await readers.subscriptions_of(ME) == []


async def test_exclusions_are_stored_with_the_subscription(stack: Stack) -> None:
    answer = await say(stack, '/subscribe Ukraine -sports -"World Cup"')
    assert "Subscribed" in answer["text"] and "“sports”, “world cup”" in answer["text"]
    (sub,) = await stack.newswire.repo.readers.subscriptions_of(ME)
    assert (sub.value, sub.excludes) == ("ukraine", ("sports", "world cup"))
    # The same subscription again with other exclusions replaces them.
    await say(stack, "/subscribe ukraine -football")
    (sub,) = await stack.newswire.repo.readers.subscriptions_of(ME)
    assert sub.excludes == ("football",)
    listed = await say(stack, "/subscriptions")
    assert "except “football”" in listed["text"]


async def test_onboarding_toggles_topics_then_points_to_settings(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    welcome = await say(stack, "/start")
    assert "Hello" in welcome["text"] and "Pick topics" in welcome["text"]
    toggles = [label for label in labels(welcome) if label.startswith("#")]
    assert toggles and "Done" in labels(welcome)
    topic = toggles[0]
    count = len(stack.sandbox.bot_messages(READER))

    followed = await press_and_wait(stack, welcome, topic, lambda m: f"✓ {topic}" in labels(m))
    assert followed["text"] == welcome["text"]  # only the buttons change
    assert [s.value for s in await readers.subscriptions_of(ME)] == [topic.lstrip("#")]
    await press_and_wait(stack, followed, topic, lambda m: f"✓ {topic}" not in labels(m))
    assert await readers.subscriptions_of(ME) == []
    followed = await press_and_wait(stack, welcome, topic, lambda m: f"✓ {topic}" in labels(m))
    assert len(stack.sandbox.bot_messages(READER)) == count

    await press(stack, followed, "Done")
    done = await wait_for(
        lambda: stack.sandbox.bot_messages(READER)[count:], what="the line after Done"
    )
    assert "/settings" in done[0]["text"] and topic in done[0]["text"]
    assert buttons(current(stack, welcome)) == []
    # A reader who follows something gets the plain welcome.
    assert "Pick topics" not in (await say(stack, "/start"))["text"]


async def test_deep_link_subscribes_to_a_topic_in_one_tap(stack: Stack) -> None:
    welcome = await say(stack, "/start")
    topic = next(label for label in labels(welcome) if label.startswith("#")).lstrip("#")
    answer = await say(stack, f"/start t_{topic}")
    assert "You now follow" in answer["text"] and f"#{topic}" in answer["text"]
    subs = await stack.newswire.repo.readers.subscriptions_of(ME)
    assert [(s.kind, s.value) for s in subs] == [(SubscriptionKind.TOPIC, topic)]
    assert "already follow" in (await say(stack, f"/start t_{topic}"))["text"]
    # An unknown topic: the welcome, nothing followed.
    assert "Hello" in (await say(stack, "/start t_no-such-topic"))["text"]
    assert len(await stack.newswire.repo.readers.subscriptions_of(ME)) == 1


async def test_settings_are_kept_when_the_reader_blocks_and_returns(
    stack: Stack, content_dir: Path
) -> None:
    readers = stack.newswire.repo.readers
    await say(stack, "/subscribe wallet")
    await say(stack, "/timezone London")
    await say(stack, "/quiet 22:00-07:00")
    await say(stack, "/mute football")
    chosen = await readers.settings_of(ME)
    stack.sandbox.block_bot(READER)
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")

    async def unsubscribed() -> bool:
        return await readers.subscriptions_of(ME) == []

    await wait_for(unsubscribed, what="the blocked reader unsubscribed")
    stack.sandbox.block_bot(READER, False)
    await say(stack, "/start")
    assert await readers.settings_of(ME) == chosen
    assert await readers.mutes_of(ME) == ["football"]
    view = await say(stack, "/settings")
    assert "Europe/London" in view["text"] and "22:00–07:00" in view["text"]
