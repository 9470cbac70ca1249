"""The control API (/control/...): an aiohttp sub-application for tests, benches and the page.

It drives the sandbox as people would and reads its state. Only local callers may use it: the
Host must be a loopback name with the server's port, an Origin (when sent) must be that same
loopback origin, and a POST must be `application/json` (a cross-site form or `text/plain` POST,
or a DNS-rebound page, is refused before anything happens).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.core import Sandbox
from bot.sandbox.errors import JSON, Refused

_LOG = logging.getLogger(__name__)
_MAX_WAIT = 60.0
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _int(value: Any, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise Refused(f"{name} must be an integer") from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Refused(f"{name} must be a string")
    return value


def _chat_id(value: Any) -> int | str:
    """A chat id from a query or JSON value: an integer or an "@username"."""
    if isinstance(value, str) and value.strip().startswith("@"):
        return value.strip()
    return _int(value, "chat_id")


def _local_port(request: web.Request) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse callers that are not local (Host, Origin) and POSTs that are not JSON."""
    port = _local_port(request)
    allowed = {f"{name}:{port}" for name in _LOOPBACK_NAMES}
    if request.host.lower() not in allowed:
        return _error(403, "the control API answers loopback hosts only")
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() not in {f"http://{host}" for host in allowed}:
        return _error(403, "cross-origin control requests are refused")
    if request.method == "POST" and request.content_type != "application/json":
        return _error(415, "control POSTs must be Content-Type: application/json")
    return await handler(request)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals are 400 with a JSON reason; a sandbox bug is a logged 500, never a 400."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _error(error.status, error.reason)
    except Refused as error:
        return _error(400, str(error))
    except Exception:
        _LOG.exception("control call %s failed inside the sandbox", request.path)
        return _error(500, "internal error")


class ControlApi:
    """The control routes over one Sandbox."""

    def __init__(self, sandbox: Sandbox, closing: Callable[[], asyncio.Event]) -> None:
        self.sandbox = sandbox
        self._closing = closing

    def build_app(self) -> web.Application:
        """The sub-application, to mount at /control."""
        app = web.Application(middlewares=[errors, guard])
        get, post = app.router.add_get, app.router.add_post
        get("/state", self._state)
        post("/users", self._add_user)
        post("/users/bulk", self._add_users_bulk)
        post("/users/language", self._set_language)
        get("/commands", self._commands)
        post("/send", self._send)
        post("/press", self._press)
        # Inline mode: type a query, wait for the bot's answer, choose a result.
        post("/inline", self._inline_query)
        get("/inline/answer", self._inline_answer)
        post("/inline/choose", self._choose_inline)
        post("/inline/feedback", self._inline_feedback)
        post("/block", self._block)
        post("/delete", self._delete)
        post("/channels", self._add_channel)
        post("/groups", self._add_group)
        # Forums, the bot's rights, pins, message ages and the webhook (issue 13).
        post("/forums", self._add_forum)
        post("/topics", self._add_topic)
        get("/rights", self._rights)
        post("/rights", self._set_rights)
        get("/pins", self._pins)
        post("/messages/age", self._age_message)
        get("/webhook", self._webhook)
        get("/messages", self._messages)
        get("/wait", self._wait)
        get("/changes", self._changes)
        get("/callback_answers", self._callback_answers)
        get("/counters", self._counters)
        post("/counters/reset", self._reset_counters)
        get("/unknown_parameters", self._unknown_parameters)
        get("/file/{file_id}", self._file)
        # Fault injection and benchmark figures (bot.sandbox.faults).
        get("/faults", self._get_faults)
        post("/faults", self._set_faults)
        post("/faults/reset", self._reset_faults)
        post("/block_mid_broadcast", self._block_mid_broadcast)
        post("/migrate", self._migrate)
        get("/stats", self._stats)
        get("/received", self._received)
        return app

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    async def _body(request: web.Request) -> JSON:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Refused("body must be JSON") from None
        if not isinstance(body, dict):
            raise Refused("body must be a JSON object")
        return body

    @staticmethod
    def _timeout(request: web.Request, default: float = 25.0) -> float:
        raw = request.query.get("timeout", default)
        try:
            return max(0.0, min(float(raw), _MAX_WAIT))
        except ValueError:
            raise Refused("timeout must be a number") from None

    def _chat_query(self, request: web.Request) -> int:
        raw = request.query.get("chat_id")
        if raw is None:
            raise Refused("chat_id is required")
        chat = _chat_id(raw)
        resolved = self.sandbox.resolve_chat(chat)
        if resolved is None:
            if isinstance(chat, str):
                raise Refused("chat not found")
            return chat  # a user who has not appeared yet simply has no messages
        return resolved

    def _resolved(self, value: Any) -> int:
        chat = self.sandbox.resolve_chat(_chat_id(value))
        if chat is None:
            raise Refused("chat not found")
        return chat

    # ------------------------------------------------------------------ people

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.state_view())

    async def _add_user(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user = self.sandbox.add_user(
            _int(body.get("id"), "id"),
            str(body.get("first_name") or "Reader"),
            body.get("username") or None,
            _text(body.get("language_code", "en"), "language_code"),
        )
        return web.json_response(user)

    async def _set_language(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user = self.sandbox.set_language(
            _int(body.get("user_id"), "user_id"),
            _text(body.get("language_code"), "language_code"),
        )
        return web.json_response(user)

    async def _commands(self, request: web.Request) -> web.Response:
        """The menu a user with `language_code` sees; every menu set and how often, by key."""
        language = request.query.get("language_code") or None
        return web.json_response(
            {
                "commands": self.sandbox.commands_for(language),
                "scoped": self.sandbox.scoped_commands,
                "sets": dict(self.sandbox.command_sets),
            }
        )

    async def _add_users_bulk(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        block = self.sandbox.add_users_bulk(
            _int(body.get("first_id"), "first_id"), _int(body.get("count"), "count")
        )
        return web.json_response({"first_id": block.start, "count": len(block)})

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise Refused("text must be a string")
        user_id = _int(body.get("user_id"), "user_id")
        sent = self.sandbox.send_user_message(user_id, text)
        # The page and tests want the same shape as /control/messages, not the Bot API one.
        return web.json_response(self.sandbox.message_view(user_id, sent["message_id"]))

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        forge = body.get("forge", False)
        if not isinstance(forge, bool):
            raise Refused("forge must be true or false")
        data = body.get("callback_data")
        if not isinstance(data, str):
            raise Refused("callback_data must be a string")
        query_id = self.sandbox.press_button(
            _int(body.get("user_id"), "user_id"),
            self._resolved(body.get("chat_id")),
            _int(body.get("message_id"), "message_id"),
            data,
            forge=forge,
        )
        return web.json_response({"callback_query_id": query_id})

    async def _inline_query(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        query, offset = body.get("query", ""), body.get("offset", "")
        if not isinstance(query, str) or not isinstance(offset, str):
            raise Refused("query and offset must be strings")
        raw_chat = body.get("chat_id")
        query_id = self.sandbox.inline_query(
            _int(body.get("user_id"), "user_id"),
            query,
            offset=offset,
            chat_id=None if raw_chat is None else self._resolved(raw_chat),
        )
        return web.json_response({"inline_query_id": query_id})

    async def _inline_answer(self, request: web.Request) -> web.Response:
        query_id = request.query.get("inline_query_id", "")
        self.sandbox.inline_answer(query_id)  # refuses an unknown id before waiting
        answer = await self.sandbox.changes.poll(
            lambda: self.sandbox.inline_answer(query_id),
            self._timeout(request, default=10.0),
            abort=self._closing(),
        )
        return web.json_response({"answered": answer is not None, **(answer or {})})

    async def _choose_inline(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        query_id, result_id = body.get("inline_query_id"), body.get("result_id")
        if not isinstance(query_id, str) or not isinstance(result_id, str):
            raise Refused("inline_query_id and result_id must be strings")
        return web.json_response(self.sandbox.choose_inline_result(query_id, result_id))

    async def _inline_feedback(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise Refused("enabled must be true or false")
        self.sandbox.inline.feedback = enabled
        return web.json_response({"feedback": enabled})

    async def _block(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        blocked = body.get("blocked", True)
        self.sandbox.block_bot(_int(body.get("user_id"), "user_id"), bool(blocked))
        return web.json_response({"ok": True})

    async def _delete(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.sandbox.delete_message(
            self._resolved(body.get("chat_id")), _int(body.get("message_id"), "message_id")
        )
        return web.json_response({"ok": True})

    async def _add_channel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = body.get("username")
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.lstrip("@"):
            raise Refused("username is required (an @name or a numeric id)")
        title = body.get("title")
        chat_id = self.sandbox.add_channel(name, str(title) if title else None)
        return web.json_response({"id": chat_id})

    async def _add_group(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return web.json_response({"id": self.sandbox.add_group(str(body.get("title") or "Group"))})

    async def _add_forum(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        username = body.get("username")
        if username is not None and not isinstance(username, str):
            raise Refused("username must be a string")
        title = _text(body.get("title", "Forum"), "title")
        return web.json_response({"id": self.sandbox.add_forum(title, username)})

    async def _add_topic(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = _text(body.get("name"), "name")
        thread = self.sandbox.add_topic(self._resolved(body.get("chat_id")), name)
        return web.json_response({"message_thread_id": thread, "name": name})

    async def _rights(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.rights(self._resolved(request.query.get("chat_id"))))

    async def _set_rights(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        chat_id = self._resolved(body.pop("chat_id", None))
        status = _text(body.pop("status", "administrator"), "status")
        for name, value in body.items():
            if value is not None and not isinstance(value, bool):
                raise Refused(f"{name} must be true, false or null")
        return web.json_response(self.sandbox.set_rights(chat_id, status, **body))

    async def _pins(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.pins(self._resolved(request.query.get("chat_id"))))

    async def _age_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        view = self.sandbox.age_message(
            self._resolved(body.get("chat_id")),
            _int(body.get("message_id"), "message_id"),
            _int(body.get("seconds"), "seconds"),
        )
        return web.json_response(view)

    async def _webhook(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.webhook_info())

    # ------------------------------------------------------------------ reading

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
            chat, after, version, self._timeout(request), abort=self._closing()
        )
        return web.json_response(result)

    async def _changes(self, request: web.Request) -> web.Response:
        since = _int(request.query.get("since", 0), "since")
        result = await self.sandbox.wait_changes(
            since, self._timeout(request), abort=self._closing()
        )
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

    async def _reset_counters(self, request: web.Request) -> web.Response:
        self.sandbox.reset_counters()
        return web.json_response(self.sandbox.counter_view())

    async def _unknown_parameters(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.sandbox.unknown_parameters))

    async def _file(self, request: web.Request) -> web.Response:
        data = self.sandbox.file_content(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/jpeg")

    # ------------------------------------------------------------------ faults and figures

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.fault_state())

    async def _set_faults(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return web.json_response(self.sandbox.update_faults(body))

    async def _reset_faults(self, request: web.Request) -> web.Response:
        self.sandbox.reset_faults()
        return web.json_response(self.sandbox.fault_state())

    async def _block_mid_broadcast(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user_ids = body.get("user_ids")
        if not isinstance(user_ids, list):
            raise Refused("user_ids must be a list")
        self.sandbox.block_mid_broadcast(
            [_int(u, "user_ids") for u in user_ids],
            after_sends=_int(body.get("after_sends", 0), "after_sends"),
        )
        return web.json_response(self.sandbox.fault_state())

    async def _migrate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        chat_id = _int(body.get("chat_id"), "chat_id")
        new_id = self.sandbox.migrate_group(chat_id)
        return web.json_response({"chat_id": chat_id, "new_chat_id": new_id})

    async def _stats(self, request: web.Request) -> web.Response:
        raw = request.query.get("since")
        try:
            since = float("-inf") if raw is None else float(raw)
        except ValueError:
            raise Refused("since must be a number (sandbox clock seconds)") from None
        return web.json_response(self.sandbox.delivery_stats(since))

    async def _received(self, request: web.Request) -> web.Response:
        first_id = _int(request.query.get("first_id"), "first_id")
        count = _int(request.query.get("count"), "count")
        return web.json_response(self.sandbox.received_range(first_id, count))
