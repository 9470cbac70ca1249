"""End to end as a hostile or hasty reader: embargoes, forged buttons, odd digits, floods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from content.models import SubscriptionKind, chat_id_of
from tests.support.articles import budget_story
from tests.support.inline import ask_inline
from tests.support.reader import READER, buttons, press_forged, say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SECRET_ID = "budget-2099"
EMBARGOED = budget_story(2099, publish_at="2099-07-01 18:00")
UNKNOWN_ID = "no-such-story"


async def embargoed_story(stack: Stack, content_dir: Path) -> None:
    """Store a story under embargo until 2099 (the scanner picks it up)."""
    (content_dir / "budget.md").write_text(EMBARGOED, encoding="utf-8")
    articles = stack.newswire.repo.articles
    await wait_for(lambda: articles.get(SECRET_ID), what="the embargoed story stored")


async def a_message(stack: Stack) -> dict[str, Any]:
    """Any bot message in the reader's chat, to press (forged) buttons on."""
    return await say(stack, "/latest 1")


def sent_after(stack: Stack, before: int, user: int = READER) -> list[dict[str, Any]]:
    return stack.sandbox.bot_messages(user)[before:]  # type: ignore[no-any-return]


async def test_forged_buttons_cannot_open_an_embargoed_story(
    stack: Stack, content_dir: Path
) -> None:
    await embargoed_story(stack, content_dir)
    message = await a_message(stack)
    before = len(stack.sandbox.bot_messages(READER))
    answers = {}
    for data in ("o:{}", "p:{}:0", "p:{}:1", "r:{}"):
        secret = await press_forged(stack, message, data.format(SECRET_ID))
        unknown = await press_forged(stack, message, data.format(UNKNOWN_ID))
        # The same answer whether the id exists under embargo or not at all.
        assert (secret["text"], secret["show_alert"]) == (unknown["text"], unknown["show_alert"])
        answers[data] = secret["text"]
    assert set(answers.values()) == {"That article is no longer available."}
    # Whatever arrived meanwhile (nothing should have), none of it is the story.
    assert all("Budget 2099" not in m["text"] for m in stack.sandbox.bot_messages(READER))
    edited = next(
        m for m in stack.sandbox.bot_messages(READER) if m["message_id"] == message["message_id"]
    )
    assert "Budget 2099" not in edited["text"] and len(sent_after(stack, before)) == 0


async def test_commands_and_links_treat_an_embargoed_story_as_unknown(
    stack: Stack, content_dir: Path
) -> None:
    before_count = (await say(stack, "/start"))["text"]
    await embargoed_story(stack, content_dir)
    for ask in ("/read {}", "/start a_{}"):
        secret = (await say(stack, ask.format(SECRET_ID)))["text"]
        unknown = (await say(stack, ask.format(UNKNOWN_ID)))["text"]
        assert secret.replace(SECRET_ID, "ID") == unknown.replace(UNKNOWN_ID, "ID")
    assert "Budget 2099" not in (await say(stack, "/search budget households"))["text"]
    assert "Budget 2099" not in (await say(stack, "/latest 20"))["text"]
    assert "#economy" not in (await say(stack, "/topics"))["text"]
    # The welcome's "(n in the archive)" does not count the story either.
    assert (await say(stack, "/start"))["text"] == before_count


async def test_forged_topic_button_is_checked_like_subscribe(stack: Stack) -> None:
    message = await a_message(stack)
    for data in ("s:not-a-topic-at-all", "s:<script>", "s:food:extra", "s:"):
        answer = await press_forged(stack, message, data)
        assert answer["text"] == "This button has expired. Try /latest."
    assert await stack.newswire.repo.readers.subscriptions_of(chat_id_of(READER)) == []
    # A real topic still works through a forged press, exactly as /subscribe food would.
    answer = await press_forged(stack, message, "s:food")
    assert answer["text"] == "Subscribed to food"


@pytest.mark.parametrize("data", ["p:{id}:²", "p:{id}:٣", "p:{id}:-1", "p:{id}:01", "o:{id}:0"])
async def test_malformed_button_data_is_a_stale_button_not_an_error(
    stack: Stack, data: str
) -> None:
    message = await a_message(stack)
    article_id = buttons(message)[0]["callback_data"].split(":")[1]
    answer = await press_forged(stack, message, data.format(id=article_id))
    assert answer["text"] == "This button has expired. Try /latest."
    assert all("went wrong" not in m["text"] for m in stack.sandbox.bot_messages(READER))


@pytest.mark.parametrize("argument", ["²", "٣", "1²"])
async def test_latest_with_odd_digits_gets_the_usage_line(stack: Stack, argument: str) -> None:
    reply = await say(stack, f"/latest {argument}")
    assert reply["text"] == "Usage: /latest [n], n from 1 to 20."


async def test_a_flooding_reader_is_told_once_then_dropped_while_others_are_answered(
    stack: Stack,
) -> None:
    stack.newswire.services.monotonic = lambda: 5000.0  # the window never moves on
    # Telegram's own per-chat limit would drop most replies; here we count the bot's choices.
    stack.sandbox.limits.enforce = False
    for _ in range(30):
        stack.sandbox.send_user_message(READER, "/help")

    def flood_answers() -> list[dict[str, Any]]:
        return stack.sandbox.bot_messages(READER)

    def helps() -> list[dict[str, Any]]:
        return [m for m in flood_answers() if "What I can do" in m["text"]]

    await wait_for(lambda: any("very fast" in m["text"] for m in flood_answers()), what="a note")
    await wait_for(lambda: len(helps()) >= 20, what="the 20 answers within the limit")
    other = await say(stack, "/help", user=1002)
    assert "What I can do" in other["text"]
    # The window never moves on, so no later answer can appear: 20 and one note, for good.
    notes = [m for m in flood_answers() if "very fast" in m["text"]]
    assert len(helps()) == 20 and len(notes) == 1


async def test_typing_an_inline_search_does_not_use_up_the_readers_commands(
    stack: Stack,
) -> None:
    stack.newswire.services.monotonic = lambda: 5000.0  # the window never moves on
    stack.sandbox.limits.enforce = False
    for typed in range(1, 31):  # "@bot b", "@bot bu", ...: one inline query a keystroke
        await ask_inline(stack, "bus captain"[: 1 + typed % 11])
    reply = await say(stack, "/help")
    assert "What I can do" in reply["text"]


async def test_subscriptions_are_limited_per_reader(stack: Stack) -> None:
    readers = stack.newswire.repo.readers
    await say(stack, "/start")
    now = stack.newswire.services.clock()
    for number in range(50):
        await readers.subscribe(
            chat_id=chat_id_of(READER), kind=SubscriptionKind.KEYWORD, value=f"w{number}", now=now
        )
    refused = await say(stack, "/subscribe one more")
    assert "50" in refused["text"] and "/subscriptions" in refused["text"]
    again = await say(stack, "/subscribe w7")  # already followed: still says so
    assert "already follow" in again["text"]
    message = await a_message(stack)
    answer = await press_forged(stack, message, "s:food")
    assert answer["show_alert"] and "50" in answer["text"]
    assert len(await readers.subscriptions_of(chat_id_of(READER))) == 50


async def test_keywords_up_to_64_characters(stack: Stack) -> None:
    keyword = "k" * 64
    accepted = await say(stack, f"/subscribe {keyword}")
    assert "Subscribed" in accepted["text"] and keyword in accepted["text"]
    refused = await say(stack, f"/subscribe {keyword}x")
    assert refused["text"] == "A keyword needs a letter or digit and at most 64 characters."
