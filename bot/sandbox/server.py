"""The sandbox over HTTP: the Bot API for PTB, a control API for tests, and the chat page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.core import JSON, Sandbox, UploadedFile

_LOG = logging.getLogger(__name__)
_STATIC = Path(__file__).with_name("static")
_CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_MAX_WAIT = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(ValueError):
    """A bad control request; answered as 400 {"error": ...}."""


def _int(value: Any, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


def _chat_id(value: Any) -> int | str:
    """A chat id from a query or JSON value: an integer or an "@username"."""
    if isinstance(value, str) and value.strip().startswith("@"):
        return value.strip()
    return _int(value, "chat_id")


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
        app = web.Application(middlewares=[self._errors], client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/control/state", self._state)
        app.router.add_post("/control/users", self._add_user)
        app.router.add_post("/control/send", self._send)
        app.router.add_post("/control/press", self._press)
        app.router.add_post("/control/block", self._block)
        app.router.add_post("/control/channels", self._add_channel)
        app.router.add_post("/control/groups", self._add_group)
        app.router.add_get("/control/messages", self._messages)
        app.router.add_get("/control/wait", self._wait)
        app.router.add_get("/control/changes", self._changes)
        app.router.add_get("/control/callback_answers", self._callback_answers)
        app.router.add_get("/control/counters", self._counters)
        app.router.add_get("/control/file/{file_id}", self._control_file)
        # Fault injection and benchmark figures (bot.sandbox.faults).
        app.router.add_get("/control/faults", self._get_faults)
        app.router.add_post("/control/faults", self._set_faults)
        app.router.add_post("/control/faults/reset", self._reset_faults)
        app.router.add_post("/control/block_mid_broadcast", self._block_mid_broadcast)
        app.router.add_post("/control/migrate", self._migrate)
        app.router.add_post("/control/users/bulk", self._add_users_bulk)
        app.router.add_get("/control/stats", self._stats)
        app.router.add_get("/control/received", self._received)
        app.router.add_post("/control/counters/reset", self._reset_counters)
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
        _LOG.info("sandbox listening on http://%s:%s/", self.host, self._port)

    async def stop(self) -> None:
        """Answer pending long polls, then close every connection."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        self.sandbox.wake_waiters()
        await runner.cleanup()
        _LOG.info("sandbox stopped")

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ plumbing

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Control calls answer JSON errors, never a traceback page."""
        is_control = request.path.startswith("/control/")
        try:
            return await handler(request)
        except web.HTTPException as error:
            if not is_control or error.status < 400:
                raise
            return web.json_response({"error": error.reason}, status=error.status)
        except (ControlError, ValueError, KeyError, TypeError) as error:
            if not is_control:
                raise
            message = str(error) or type(error).__name__
            return web.json_response({"error": message}, status=400)
        except Exception:
            if not is_control:
                raise
            _LOG.exception("control call %s failed", request.path)
            return web.json_response({"error": "internal error"}, status=500)

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

    async def _json_body(self, request: web.Request) -> JSON:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ControlError("body must be JSON") from None
        if not isinstance(body, dict):
            raise ControlError("body must be a JSON object")
        return body

    def _timeout(self, request: web.Request, default: float = 25.0) -> float:
        raw = request.query.get("timeout", default)
        try:
            return max(0.0, min(float(raw), _MAX_WAIT))
        except ValueError:
            raise ControlError("timeout must be a number") from None

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

    # ------------------------------------------------------------------ control API

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.state())

    async def _add_user(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        user = self.sandbox.add_user(
            _int(body.get("id"), "id"),
            str(body.get("first_name") or "Reader"),
            body.get("username") or None,
        )
        return web.json_response(user)

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise ControlError("text must be a string")
        user_id = _int(body.get("user_id"), "user_id")
        sent = self.sandbox.send_user_message(user_id, text)
        # The page and tests want the same shape as /control/messages, not the Bot API one.
        return web.json_response(self.sandbox.message_view(user_id, sent["message_id"]))

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        chat = self.sandbox.resolve_chat(_chat_id(body.get("chat_id")))
        if chat is None:
            raise ControlError("chat not found")
        query_id = self.sandbox.press_button(
            _int(body.get("user_id"), "user_id"),
            chat,
            _int(body.get("message_id"), "message_id"),
            str(body.get("callback_data", "")),
        )
        return web.json_response({"callback_query_id": query_id})

    async def _block(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        blocked = body.get("blocked", True)
        self.sandbox.block_bot(_int(body.get("user_id"), "user_id"), bool(blocked))
        return web.json_response({"ok": True})

    async def _add_channel(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        username = body.get("username")
        if not isinstance(username, str) or not username.lstrip("@"):
            raise ControlError("username is required")
        title = body.get("title")
        chat_id = self.sandbox.add_channel(username, str(title) if title else None)
        return web.json_response({"id": chat_id})

    async def _add_group(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        return web.json_response({"id": self.sandbox.add_group(str(body.get("title") or "Group"))})

    def _chat_query(self, request: web.Request) -> int:
        raw = request.query.get("chat_id")
        if raw is None:
            raise ControlError("chat_id is required")
        chat = _chat_id(raw)
        resolved = self.sandbox.resolve_chat(chat)
        if resolved is None:
            if isinstance(chat, str):
                raise ControlError("chat not found")
            return chat  # a user who has not appeared yet simply has no messages
        return resolved

    async def _messages(self, request: web.Request) -> web.Response:
        chat = self._chat_query(request)
        after = _int(request.query.get("after", 0), "after")
        return web.json_response(self.sandbox.messages_after(chat, after))

    async def _wait(self, request: web.Request) -> web.Response:
        chat = self._chat_query(request)
        after = _int(request.query.get("after", 0), "after")
        raw_version = request.query.get("version")
        version = None if raw_version is None else _int(raw_version, "version")
        result = await self.sandbox.wait_chat(
            chat, after, version, self._timeout(request), abort=self._closing
        )
        return web.json_response(result)

    async def _changes(self, request: web.Request) -> web.Response:
        since = _int(request.query.get("since", 0), "since")
        result = await self.sandbox.wait_changes(since, self._timeout(request), abort=self._closing)
        return web.json_response(result)

    async def _callback_answers(self, request: web.Request) -> web.Response:
        answers = self.sandbox.callback_answers
        raw_user = request.query.get("user_id")
        if raw_user is not None:
            user_id = _int(raw_user, "user_id")
            answers = [a for a in answers if a["user_id"] == user_id]
        since = _int(request.query.get("since", 0), "since")
        return web.json_response([a for a in answers if a["seq"] > since][-50:])

    async def _counters(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.counter_view())

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.fault_state())

    async def _set_faults(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        return web.json_response(self.sandbox.update_faults(body))

    async def _reset_faults(self, request: web.Request) -> web.Response:
        self.sandbox.reset_faults()
        return web.json_response(self.sandbox.fault_state())

    async def _block_mid_broadcast(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        user_ids = body.get("user_ids")
        if not isinstance(user_ids, list):
            raise ControlError("user_ids must be a list")
        self.sandbox.block_mid_broadcast(
            [_int(u, "user_ids") for u in user_ids],
            after_sends=_int(body.get("after_sends", 0), "after_sends"),
        )
        return web.json_response(self.sandbox.fault_state())

    async def _migrate(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        chat_id = _int(body.get("chat_id"), "chat_id")
        new_id = self.sandbox.migrate_group(chat_id)
        return web.json_response({"chat_id": chat_id, "new_chat_id": new_id})

    async def _add_users_bulk(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        block = self.sandbox.add_users_bulk(
            _int(body.get("first_id"), "first_id"), _int(body.get("count"), "count")
        )
        return web.json_response({"first_id": block.start, "count": len(block)})

    async def _stats(self, request: web.Request) -> web.Response:
        raw = request.query.get("since")
        try:
            since = float("-inf") if raw is None else float(raw)
        except ValueError:
            raise ControlError("since must be a number (sandbox clock seconds)") from None
        return web.json_response(self.sandbox.delivery_stats(since))

    async def _received(self, request: web.Request) -> web.Response:
        first_id = _int(request.query.get("first_id"), "first_id")
        count = _int(request.query.get("count"), "count")
        return web.json_response(self.sandbox.received_range(first_id, count))

    async def _reset_counters(self, request: web.Request) -> web.Response:
        self.sandbox.reset_counters()
        return web.json_response(self.sandbox.counter_view())

    async def _control_file(self, request: web.Request) -> web.Response:
        data = self.sandbox.file_content(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/jpeg")


async def serve_forever(server: SandboxServer) -> None:
    """Run until cancelled, then stop cleanly (for a CLI entry point)."""
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
