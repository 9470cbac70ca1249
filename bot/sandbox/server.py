"""The sandbox over HTTP: the Bot API for PTB, the chat page, and the control sub-app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.control import ControlApi
from bot.sandbox.core import Sandbox
from bot.sandbox.errors import UploadedFile

_LOG = logging.getLogger(__name__)
_STATIC = Path(__file__).with_name("static")
_CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_MAX_WAIT = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SandboxServer:
    """Serves a Sandbox on loopback for PTB, tests and a person with a browser."""

    def __init__(self, sandbox: Sandbox, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    @property
    def port(self) -> int:
        """The bound port (known after start)."""
        if self._port is None:
            raise RuntimeError("SandboxServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """The chat page."""
        return f"http://{self.host}:{self.port}/"

    @property
    def api_base_url(self) -> str:
        """PTB's base_url: it appends the token and then /method."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        """PTB's base_file_url."""
        return f"http://{self.host}:{self.port}/file/bot"

    def build_app(self) -> web.Application:
        """The aiohttp application with every route."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.add_subapp("/control", ControlApi(self.sandbox, lambda: self._closing).build_app())
        return app

    async def start(self) -> None:
        """Bind and serve."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        # access_log=None: aiohttp's access log would print request paths, and those hold the
        # bot token.
        runner = web.AppRunner(
            self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        # A webhook set by a synchronous caller (no loop then) starts delivering now.
        self.sandbox.webhook.resume()
        _LOG.info("sandbox listening on http://%s:%s/", self.host, self._port)

    async def stop(self) -> None:
        """Answer pending long polls, then close every connection."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        self.sandbox.wake_waiters()
        await self.sandbox.webhook.stop()
        await runner.cleanup()
        _LOG.info("sandbox stopped")

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ plumbing

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Bot API parameters from the query string and a form, multipart or JSON body."""
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    params[part.name] = UploadedFile(
                        part.filename,
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(await part.read()),
                    )
                else:
                    params[part.name] = await part.text()
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    # ------------------------------------------------------------------ Bot API

    async def _bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.sandbox.bot_token:
            self.sandbox.counters["401"] += 1
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params = await self._read_params(request)
        except (ValueError, UnicodeDecodeError):
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid request"},
                status=400,
            )
        _LOG.debug("bot api call %s", method)
        delay = 0.0
        try:
            if method.lower() == "getupdates":
                status, body = await self.sandbox.get_updates(params, abort=self._closing)
            else:
                status, body, delay = self.sandbox.dispatch(method, params)
        except Exception:
            # A sandbox bug must still look like a Bot API answer, and the log names the
            # method, never the URL (which holds the token).
            _LOG.exception("bot api %s failed inside the sandbox", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if status != 200:
            _LOG.debug("bot api %s -> %s %s", method, status, body.get("description"))
        if delay > 0:
            # An injected slow answer: the work is done, the reply comes late (or, when the
            # server stops, never).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        return web.json_response(body, status=status)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.sandbox.bot_token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        name = request.match_info["path"].rsplit("/", 1)[-1]
        data = self.sandbox.file_content(name.rsplit(".", 1)[0])
        if data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ page

    async def _index(self, request: web.Request) -> web.Response:
        return self._static_file("index.html")

    async def _static(self, request: web.Request) -> web.Response:
        return self._static_file(request.match_info["name"])

    def _static_file(self, name: str) -> web.Response:
        allowed = {p.name: p for p in _STATIC.iterdir() if p.is_file()}
        path = allowed.get(name)
        if path is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=path.read_bytes(),
            content_type=_CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )


async def serve_forever(server: SandboxServer) -> None:
    """Run until cancelled, then stop cleanly (for a CLI entry point)."""
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
