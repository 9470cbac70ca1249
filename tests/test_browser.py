"""The sandbox page in headless Chromium, driven over the Chrome DevTools Protocol."""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp
import pytest

from tests.support.browser import CDP, PNG_SIGNATURE, chromium, chromium_path
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_chat_page_sends_latest_and_shows_the_reply(stack: Stack, tmp_path: Path) -> None:
    chromium_path()  # skip early, before anything starts, when there is no browser
    async with (
        chromium(tmp_path / "profile") as ws_url,
        aiohttp.ClientSession() as http,
        http.ws_connect(ws_url, max_msg_size=64 * 1024 * 1024) as ws,
    ):
        page = CDP(ws)
        try:
            await page.open_page(stack.server.url)

            async def ready() -> bool:
                return bool(
                    await page.evaluate(
                        "document.readyState === 'complete' && !!document.getElementById"
                        "('composer') && location.href.startsWith('http')"
                    )
                )

            await wait_for(ready, timeout=20, what="the sandbox page to load")
            await page.evaluate("document.getElementById('composer').focus()")
            await page.send("Input.insertText", text="/latest")
            typed = await page.evaluate("document.getElementById('composer').value")
            assert typed == "/latest"
            await page.click("#send")

            async def reply() -> str | None:
                texts = await page.evaluate(
                    "[...document.querySelectorAll('#chat .msg.bot')].map(e => e.textContent)"
                )
                return next((t for t in texts if "Latest stories" in t), None)

            shown = await wait_for(reply, timeout=20, what="the bot's /latest reply on the page")
            assert "Ukraine tells Russian mothers" in shown
            # What the page shows is what the bot sent through the Bot API.
            sent = stack.sandbox.bot_messages(1001)
            assert any("Latest stories" in m["text"] for m in sent)
            # The user's own message is on the page too, and the composer was cleared.
            mine = await page.evaluate(
                "[...document.querySelectorAll('#chat .msg.user')].map(e => e.textContent)"
            )
            assert any("/latest" in t for t in mine)
            assert await page.evaluate("document.getElementById('composer').value") == ""

            shot = await page.send("Page.captureScreenshot", format="png")
            png = base64.b64decode(shot["data"])
            path = tmp_path / "sandbox.png"
            path.write_bytes(png)
            assert path.stat().st_size > 1000
            assert path.read_bytes()[:8] == PNG_SIGNATURE
        finally:
            await page.close()
