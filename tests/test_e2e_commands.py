"""End to end: the real PTB application over HTTP against the sandbox, driven as a reader."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.reader import READER, buttons, press, say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


async def test_start_welcomes_and_registers_commands(stack: Stack) -> None:
    reply = await say(stack, "/start")
    assert "Hello" in reply["text"] and "/latest" in reply["text"]
    names = [c["command"] for c in stack.sandbox.commands]
    assert {"latest", "search", "subscribe", "help"} <= set(names)


async def test_help_lists_every_command(stack: Stack) -> None:
    reply = await say(stack, "/help")
    for command in ("/latest", "/read", "/search", "/topics", "/subscribe", "/unsubscribe"):
        assert command in reply["text"]


async def test_latest_lists_archive_newest_first_with_buttons(stack: Stack) -> None:
    reply = await say(stack, "/latest")
    text = reply["text"]
    assert text.index("e-scooter") < text.index("Ukraine tells Russian mothers")  # 2026 before 2022
    assert len(buttons(reply)) == 3
    limited = await say(stack, "/latest 1")
    assert len(buttons(limited)) == 1
    bad = await say(stack, "/latest lots")
    assert "Usage" in bad["text"]


async def test_read_card_then_pages_through_full_article(stack: Stack) -> None:
    latest = await say(stack, "/latest")
    before = len(stack.sandbox.bot_messages(READER))
    await press(stack, latest, "Ukraine")
    card = (await wait_for(lambda: stack.sandbox.bot_messages(READER)[before:], what="card"))[0]
    assert "Belmont Lay" in card["text"]
    assert "Follow us" not in card["text"]
    await press(stack, card, "Read full article")

    def edited() -> dict[str, Any] | None:
        current = next(
            m for m in stack.sandbox.bot_messages(READER) if m["message_id"] == card["message_id"]
        )
        return current if "What online flyer said" in current["text"] else None

    page = await wait_for(edited, what="the full article in place of the card")
    assert "podcast" not in page["text"]
    assert any("Summary" in b["text"] for b in buttons(page))


async def test_read_unknown_id_says_so(stack: Stack) -> None:
    reply = await say(stack, "/read nope<b>")
    assert "No article" in reply["text"]
    usage = await say(stack, "/read")
    assert "Usage" in usage["text"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "*",
        "-",
        "NEAR(",
        "a AND (b OR",
        "🇸🇬 hawker 🍜",
        "x" * 300,
        "'; DROP TABLE articles;--",
    ],
)
async def test_search_survives_any_input(stack: Stack, query: str) -> None:
    reply = await say(stack, f"/search {query}")
    assert reply["text"]
    assert "went wrong" not in reply["text"]


async def test_search_finds_best_match_first(stack: Stack) -> None:
    reply = await say(stack, "/search hawker stalls")
    assert "Results" in reply["text"]
    first_button = buttons(reply)[0]["text"]
    assert "hawker" in first_button.lower()


async def test_topics_and_subscriptions_round_trip(stack: Stack) -> None:
    topics = await say(stack, "/topics")
    assert "#food" in topics["text"]
    reply = await say(stack, "/subscribe food")
    assert "Subscribed" in reply["text"] and "#food" in reply["text"]
    again = await say(stack, "/subscribe food")
    assert "already" in again["text"]
    keyword = await say(stack, "/subscribe Void Deck")
    assert "void deck" in keyword["text"]
    listing = await say(stack, "/subscriptions")
    assert "#food" in listing["text"] and "void deck" in listing["text"]
    gone = await say(stack, "/unsubscribe food")
    assert "no more" in gone["text"]
    listing = await say(stack, "/subscriptions")
    assert "#food" not in listing["text"]


async def test_unknown_command_and_plain_text_get_a_hint(stack: Stack) -> None:
    unknown = await say(stack, "/frobnicate")
    assert "/frobnicate" in unknown["text"] and "/help" in unknown["text"]
    text = await say(stack, "hello there")
    assert "/latest" in text["text"]


async def test_deep_link_opens_the_article(stack: Stack) -> None:
    latest = await stack.newswire.repo.articles.latest(limit=1, now=stack.newswire.services.clock())
    reply = await say(stack, f"/start a_{latest[0].id}")
    assert latest[0].title in reply["text"]
