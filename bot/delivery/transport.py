"""An aiohttp transport for python-telegram-bot, used by the delivery worker's bot.

PTB's default transport (httpx) costs 3-7 ms of CPU per request on this machine, which caps
one worker near 250 sends/s; paid broadcast allows 1000/s. PTB supports swapping the
transport (`telegram.request.BaseRequest`): everything above it (Bot methods, the error
mapping to RetryAfter, Forbidden, BadRequest, ...) stays PTB's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from telegram import InlineKeyboardMarkup
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

_NO_PREVIEW = json.dumps({"is_disabled": True})


def send_payload(
    text: str,
    *,
    parse_mode: str | None,
    keyboard: InlineKeyboardMarkup | None,
    allow_paid_broadcast: bool = False,
) -> dict[str, Any]:
    """The sendMessage parameters of one post, serialised once for all of its recipients."""
    payload: dict[str, Any] = {"text": text, "link_preview_options": _NO_PREVIEW}
    if parse_mode is not None:
        payload["parse_mode"] = parse_mode
    if keyboard is not None:
        payload["reply_markup"] = json.dumps(keyboard.to_dict(), separators=(",", ":"))
    if allow_paid_broadcast:
        payload["allow_paid_broadcast"] = True
    return payload


class DeliveryBot(ExtBot[None]):
    """The worker's bot: sends a prepared payload and reads back only the message id.

    `send_message` builds the request from objects for every recipient and turns every
    answer into a `telegram.Message` (`de_json`): a fifth of a busy worker's CPU, for a
    message id. This keeps the rest of PTB's path (`Bot._post`: defaults, the request,
    the mapping of answers to RetryAfter, Forbidden, BadRequest, ChatMigrated, ...).
    """

    async def send_prepared(self, chat_id: int | str, payload: Mapping[str, Any]) -> int:
        result = await self._post("sendMessage", {"chat_id": chat_id, **payload})
        return int(result["message_id"])

    async def edit_prepared(
        self, chat_id: int | str, message_id: int, payload: Mapping[str, Any]
    ) -> int:
        """Replace the text and buttons of a message sent before; returns its id."""
        data = {k: v for k, v in payload.items() if k != "allow_paid_broadcast"}
        await self._post("editMessageText", {"chat_id": chat_id, "message_id": message_id, **data})
        return message_id


class AiohttpRequest(BaseRequest):
    """A BaseRequest over one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        # PTB's own defaults, so a slow answer times out here as it would with httpx.
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = self._write_timeout if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        # aiohttp has no write timeout of its own: bound the whole exchange instead.
        total = sum(t for t in (connect, write, read) if t is not None) or None
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in files.items():
                    filename, content = part[0], part[1]
                    content_type = part[2] if len(part) > 2 else None
                    form.add_field(name, content, filename=filename, content_type=content_type)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
