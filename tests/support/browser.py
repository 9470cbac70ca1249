"""Headless Chromium driven over the Chrome DevTools Protocol (for tests of the sandbox page)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.waiting import wait_for

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEVTOOLS_RE = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium not installed: apt-get install chromium")
    return path


class CDP:
    """A minimal DevTools client: one page session over the browser's websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.session: str | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            future = self.pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("DevTools connection closed"))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        await self.ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, timeout=15)
        if "error" in answer:
            raise AssertionError(f"{method} failed: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def open_page(self, url: str) -> None:
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        self.session = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=1200, height=800,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element."""
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[str]:
    """Start headless Chromium; yield its browser DevTools websocket URL; always kill it."""
    process = await asyncio.create_subprocess_exec(
        chromium_path(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr
    seen: list[str] = []
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def drain() -> None:
        # Keep reading so Chromium never blocks on a full pipe.
        while line := await stderr.readline():
            text = line.decode(errors="replace")
            seen.append(text)
            if (match := DEVTOOLS_RE.search(text)) and not found.done():
                found.set_result(match.group(1))
        if not found.done():
            found.set_exception(AssertionError("chromium exited:\n" + "".join(seen[-20:])))

    drainer = asyncio.create_task(drain())
    try:
        yield await asyncio.wait_for(found, timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drainer


@contextlib.asynccontextmanager
async def sandbox_page(url: str, profile: Path) -> AsyncIterator[CDP]:
    """The sandbox page at `url` in a fresh headless Chromium, loaded and ready."""
    async with (
        chromium(profile) as ws_url,
        aiohttp.ClientSession() as http,
        http.ws_connect(ws_url, max_msg_size=64 * 1024 * 1024) as ws,
    ):
        page = CDP(ws)
        try:
            await page.open_page(url)

            async def ready() -> bool:
                return bool(
                    await page.evaluate(
                        "document.readyState === 'complete' && !!document.getElementById"
                        "('composer') && location.href.startsWith('http')"
                    )
                )

            await wait_for(ready, timeout=20, what="the sandbox page to load")
            yield page
        finally:
            await page.close()
