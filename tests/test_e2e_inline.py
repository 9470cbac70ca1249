"""End to end: inline mode (`@bot words` in any chat) through the real PTB stack and the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.inline import ask_inline, write_story
from tests.support.reader import READER, buttons, say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

HARBOUR = 23  # more than one page of 20
EMBARGOED = "harbour-secret"
PICTURED = "harbour-01"
IMAGE = "https://img.example/harbour.jpg"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """23 visible harbour stories (01 oldest), one under embargo (the newest), one other."""
    folder = tmp_path / "content"
    folder.mkdir()
    for n in range(1, HARBOUR + 1):
        write_story(
            folder,
            f"harbour-{n:02d}",
            title=f"Harbour notice {n}",
            published=f"2026-06-01 {n:02d}:00",
            body=(
                f"The harbour master issued notice number {n} to ships this morning. "
                "Pilots were told to expect delays near the eastern anchorage."
            ),
            image=IMAGE if n == 1 else None,
            url=f"https://news.example/harbour-{n}",
            tags=("Transport",),
        )
    write_story(
        folder,
        EMBARGOED,
        title="Harbour sale agreed in secret",
        published="2026-06-02 09:00",
        publish_at="2099-01-01 00:00",
        body="The harbour will be sold, an embargoed statement says. Unicornword appears here.",
    )
    write_story(
        folder,
        "bakery",
        title="Bakery wins a prize",
        published="2026-05-01 08:00",
        body="A bakery in Tiong Bahru won a national prize for its sourdough loaves.",
    )
    return folder


def ids(answer: dict[str, Any]) -> list[str]:
    return [r["id"] for r in answer["results"]]


async def test_search_pages_by_next_offset_and_never_shows_the_embargoed_story(
    stack: Stack,
) -> None:
    _, first = await ask_inline(stack, "harbour")
    assert len(first["results"]) == 20 and first["next_offset"] == "20"
    assert first["is_personal"] is False and first["cache_time"] <= 60
    _, second = await ask_inline(stack, "harbour", offset=first["next_offset"])
    assert second["next_offset"] == ""  # the last page
    seen = ids(first) + ids(second)
    assert len(seen) == len(set(seen)) == HARBOUR
    assert set(seen) == {f"harbour-{n:02d}" for n in range(1, HARBOUR + 1)}
    assert EMBARGOED not in seen
    _, secret = await ask_inline(stack, "unicornword")
    assert secret["results"] == []


async def test_empty_query_lists_the_latest_visible_stories(stack: Stack) -> None:
    _, answer = await ask_inline(stack, "")
    # Newest first; the embargoed story (newer still) does not exist for readers.
    assert ids(answer)[:3] == ["harbour-23", "harbour-22", "harbour-21"]
    assert EMBARGOED not in ids(answer)
    assert answer["next_offset"] == "20"
    _, rest = await ask_inline(stack, "   ", offset="20")
    assert ids(rest) == ["harbour-03", "harbour-02", "harbour-01", "bakery"]
    assert rest["next_offset"] == ""


async def test_a_result_has_a_title_a_one_line_description_and_the_thumbnail(
    stack: Stack,
) -> None:
    _, answer = await ask_inline(stack, "notice 1")
    result = next(r for r in answer["results"] if r["id"] == PICTURED)
    assert result["type"] == "article"
    assert result["title"] == "Harbour notice 1"
    assert result["thumbnail_url"] == IMAGE
    description = result["description"]
    assert "\n" not in description and len(description) <= 100
    assert "Pilots" not in description  # the first sentence only
    others = [r for r in answer["results"] if r["id"] != PICTURED]
    assert others and all("thumbnail_url" not in r for r in others)


async def test_a_chosen_result_lands_in_the_chat_as_the_card_with_both_buttons(
    stack: Stack,
) -> None:
    await say(stack, "/help")  # the chat exists and the bot has spoken once
    query_id, answer = await ask_inline(stack, "harbour notice 7")
    chosen = answer["results"][0]
    assert chosen["id"] == "harbour-07"
    before = len(stack.sandbox.bot_messages(READER))
    sent = stack.sandbox.choose_inline_result(query_id, chosen["id"])
    assert sent["via_bot"] == stack.sandbox.bot_username and not sent["from_bot"]
    assert sent["text"].startswith("Harbour notice 7")
    assert any(e["type"] == "bold" for e in sent["entities"])  # the title
    assert "#transport" in sent["text"].lower()
    labels = {b["text"]: b["url"] for b in buttons(sent)}
    bot = stack.newswire.application.bot.username
    assert labels == {
        next(k for k in labels if "Read in the bot" in k): f"https://t.me/{bot}?start=a_harbour-07",
        next(k for k in labels if "Open on site" in k): "https://news.example/harbour-7",
    }
    # The bot sees the shared card in its chat and says nothing to it (no "try /help" hint).
    await wait_for(lambda: not stack.sandbox.pending_updates(), what="the update taken")
    reply = await say(stack, "/help")
    assert stack.sandbox.bot_messages(READER)[before:] == [reply]
    # Its deep link opens the story in the bot.
    card = await say(stack, "/start a_harbour-07")
    assert "Harbour notice 7" in card["text"]


async def test_a_result_chosen_in_a_group_is_sent_there(stack: Stack) -> None:
    group = stack.sandbox.add_group("Family")
    query_id, answer = await ask_inline(stack, "bakery", chat_id=group)
    assert ids(answer) == ["bakery"]
    sent = stack.sandbox.choose_inline_result(query_id, "bakery")
    assert sent["chat_id"] == group
    assert [m["message_id"] for m in stack.sandbox.messages(group)] == [sent["message_id"]]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "*",
        "-",
        "NEAR(harbour",
        "harbour OR",
        "🇸🇬 harbour 🍜",
        "<b>harbour</b> & co",
        "'; DROP TABLE articles;--",
        "\\",
        "%_%",
        "x" * 256,
    ],
)
async def test_any_query_text_is_safe(stack: Stack, query: str) -> None:
    _, answer = await ask_inline(stack, query)
    assert len(answer["results"]) <= 20
    assert EMBARGOED not in ids(answer)
    # The bot still answers afterwards.
    _, again = await ask_inline(stack, "bakery")
    assert ids(again) == ["bakery"]


@pytest.mark.parametrize("offset", ["abc", "-20", "1e3", "٣", "20; DROP", "9999"])
async def test_a_forged_offset_is_safe(stack: Stack, offset: str) -> None:
    _, answer = await ask_inline(stack, "harbour", offset=offset)
    assert len(answer["results"]) <= 20
    assert answer["next_offset"] in ("", "20")
