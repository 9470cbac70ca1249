"""The sandbox page's language and time-zone selectors, in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.rendering import _, i18n, plain_text
from tests.support.browser import CDP, chromium_path, sandbox_page
from tests.support.sandbox import READER
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _zh(message: str) -> str:
    with i18n.using(i18n.translations_for("zh")):
        return plain_text(_(message))


async def _choose(page: CDP, select: str, value: str) -> None:
    """Pick an option as a person does: the value changes and a change event fires."""
    await page.evaluate(
        f"(() => {{ const s = document.getElementById({json.dumps(select)});"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
    )


async def _bot_line_on_page(page: CDP, start: str) -> str:
    async def shown() -> str | None:
        texts: list[str] = await page.evaluate(
            "[...document.querySelectorAll('#chat .msg.bot')].map(e => e.textContent)"
        )
        return next((t for t in texts if t.startswith(start)), None)

    return await wait_for(shown, timeout=20, what=f"a bot message starting {start!r} on the page")


async def test_the_reader_switches_language_and_zone_from_the_page(
    stack: Stack, tmp_path: Path
) -> None:
    chromium_path()  # skip early when there is no browser
    async with sandbox_page(stack.server.url + f"?user={READER}", tmp_path / "profile") as page:

        def reader() -> dict[str, Any]:
            return next(u for u in stack.sandbox.users() if u["id"] == READER)

        await wait_for(
            lambda: any(u["id"] == READER for u in stack.sandbox.users()), what="the page's user"
        )
        await _choose(page, "reader-language", "zh")
        # The reader's Telegram app now speaks Chinese, and they told the bot with /language.
        await wait_for(lambda: reader()["language_code"] == "zh", what="language_code zh")
        await _bot_line_on_page(page, _zh("✅ Language: {language}.").split("{")[0])
        await _choose(page, "reader-zone", "Europe/London")
        confirmed = await _bot_line_on_page(
            page, _zh("✅ Time zone: {zone}. Your time now: {now}.").split("{")[0]
        )
        assert "London" in confirmed
        sent = [m["text"] for m in stack.sandbox.messages(READER) if not m["from_bot"]]
        assert sent[-2:] == ["/language zh", "/timezone Europe/London"]
