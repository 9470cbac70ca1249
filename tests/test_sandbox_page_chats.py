"""The sandbox page shows forum topics as tabs, silent and protected posts, pins and deletions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import Sandbox, SandboxServer
from tests.support.browser import CDP, chromium_path, sandbox_page
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser]


def send(sandbox: Sandbox, **params: Any) -> int:
    status, body = sandbox.call("sendMessage", params)
    assert status == 200, body
    return int(body["result"]["message_id"])


async def texts(page: CDP, selector: str) -> list[str]:
    """The visible text of each element matching `selector` that is not hidden."""
    found: list[str] = await page.evaluate(
        f"[...document.querySelectorAll({json.dumps(selector)})]"
        ".filter(e => e.offsetParent !== null).map(e => e.textContent)"
    )
    return found


async def test_the_page_shows_topics_flags_pins_and_deletions(
    server: SandboxServer, sandbox: Sandbox, tmp_path: Path
) -> None:
    chromium_path()
    forum = sandbox.add_forum("Newsroom")
    transport = sandbox.add_topic(forum, "Transport")
    sandbox.add_topic(forum, "World")
    send(sandbox, chat_id=forum, text="Trains late", message_thread_id=transport)
    send(sandbox, chat_id=forum, text="Hello all")
    channel = sandbox.add_channel("@wire", "Wire")
    quiet = send(sandbox, chat_id=channel, text="Night post", disable_notification=True)
    send(sandbox, chat_id=channel, text="Locked post", protect_content=True)

    async with sandbox_page(server.url, tmp_path / "profile") as page:
        section = f"#channel-{forum}"
        tabs = await wait_for(
            lambda: texts(page, f"{section} .topic-tabs button"), what="the forum's topic tabs"
        )
        assert tabs == ["All topics", "General", "# Transport", "# World"]
        await wait_for(lambda: _has(page, f"{section} .posts .msg", 2), what="both forum posts")
        await page.click(f'{section} .topic-tabs button[data-topic="{transport}"]')
        shown = await texts(page, f"{section} .posts .msg .bubble")
        assert len(shown) == 1 and "Trains late" in shown[0]
        await page.click(f'{section} .topic-tabs button[data-topic="1"]')
        shown = await texts(page, f"{section} .posts .msg .bubble")
        assert len(shown) == 1 and "Hello all" in shown[0]

        wire = f"#channel-{channel}"
        await wait_for(lambda: _has(page, f"{wire} .posts .msg", 2), what="the channel posts")
        assert await texts(page, f"{wire} .flag.silent") == ["🔕 silent"]
        assert await texts(page, f"{wire} .flag.protected") == ["🔒 protected"]

        assert sandbox.call("pinChatMessage", {"chat_id": channel, "message_id": quiet})[0] == 200
        pinned = await wait_for(
            lambda: texts(page, f"{wire} .pinned-bar .pinned-text"), what="the pinned bar"
        )
        assert pinned == ["Night post"]

        assert sandbox.call("deleteMessage", {"chat_id": channel, "message_id": quiet})[0] == 200
        await wait_for(lambda: _has(page, f"{wire} .posts .msg", 1), what="the post to go")
        assert await texts(page, f"{wire} .pinned-bar") == []
        remaining = await texts(page, f"{wire} .posts .msg .bubble")
        assert "Locked post" in remaining[0]


async def _has(page: CDP, selector: str, count: int) -> bool:
    return len(await texts(page, selector)) == count
