"""An aiohttp transport for python-telegram-bot, used by the delivery worker's bot.

PTB's default transport (httpx) costs 3-7 ms of CPU per request on this machine, which caps
one worker near 250 sends/s; paid broadcast allows 1000/s. PTB supports swapping the
transport (`telegram.request.BaseRequest`): everything above it (Bot methods, the error
mapping to RetryAfter, Forbidden, BadRequest, ...) stays PTB's own.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import aiohttp
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.delivery.policy import is_wrong_message_kind
from content.models import LinkPreview
from content.routing import Effective

_NO_PREVIEW = json.dumps({"is_disabled": True})
NO_OPTIONS = Effective()  # a reader's alert, a digest: no channel's publish options
_FORM = "application/x-www-form-urlencoded"


@functools.lru_cache(maxsize=512)
def _quoted_long(value: str) -> str:
    return quote_plus(value)


def urlencode(params: Mapping[str, str]) -> bytes:
    """A form body, as aiohttp would encode it, with long values' encodings cached.

    A post goes to thousands of chats with the same text and buttons: their encoding
    (quoting every character, in Python) was a tenth of a busy worker's CPU. Only the
    chat id differs from one send to the next.
    """
    return "&".join(
        f"{quote_plus(k)}={_quoted_long(v) if len(v) > 64 else quote_plus(v)}"
        for k, v in params.items()
    ).encode("ascii")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A post's request parameters, serialised once for all of its recipients."""

    method: str  # sendMessage, or sendPhoto with the text as caption
    params: dict[str, Any]
    text_edit: dict[str, Any]  # editMessageText parameters
    caption_edit: dict[str, Any]  # editMessageCaption parameters

    @property
    def is_photo(self) -> bool:
        return self.method == "sendPhoto"


def chat_arg(chat: str) -> int | str:
    """What the Bot API takes as chat_id: a number, or the @name."""
    return int(chat) if chat.lstrip("-").isdigit() else chat


def preview_param(options: Effective) -> str:
    """`link_preview_options`: the article's url above or below the text, or none."""
    if options.link_preview is LinkPreview.OFF or options.preview_url is None:
        return _NO_PREVIEW
    above = options.link_preview is LinkPreview.ABOVE
    return json.dumps({"url": options.preview_url, "show_above_text": above})


def prepare(
    text: str,
    *,
    parse_mode: str | None,
    keyboard: InlineKeyboardMarkup | None,
    photo: str | None = None,
    allow_paid_broadcast: bool = False,
    options: Effective = NO_OPTIONS,
) -> Prepared:
    """Serialise a post once: a text message, or a photo with the text as its caption."""
    common: dict[str, Any] = {}
    if parse_mode is not None:
        common["parse_mode"] = parse_mode
    if keyboard is not None:
        common["reply_markup"] = json.dumps(keyboard.to_dict(), separators=(",", ":"))
    # A preview belongs to a text message: a photo post shows its picture instead.
    text_params = {"text": text, "link_preview_options": preview_param(options), **common}
    caption_params = {"caption": text, **common}
    params = {"photo": photo, **caption_params} if photo else dict(text_params)
    params.update(_send_flags(options))
    if allow_paid_broadcast:
        params["allow_paid_broadcast"] = True
    method = "sendPhoto" if photo else "sendMessage"
    return Prepared(method, params, text_params, caption_params)


def _send_flags(options: Effective) -> dict[str, Any]:
    """What only a send takes (an edit keeps the message's own)."""
    flags: dict[str, Any] = {}
    if options.silent:
        flags["disable_notification"] = True
    if options.protect_content:
        flags["protect_content"] = True
    return flags


# `do_api_request` warns "Please use 'Bot.send_message'" for every method PTB also wraps;
# here the raw call is the point (see DeliveryBot), so that advice is noise.
_RAW_CALL_ADVICE = (
    r"Please use 'Bot\.(sendMessage|sendPhoto|editMessageText|editMessageCaption"
    r"|pinChatMessage|deleteMessage)'"
)


class DeliveryBot(ExtBot[None]):
    """The worker's bot: sends a prepared post and reads back only the message id.

    `send_message` builds the request from objects for every recipient and turns every
    answer into a `telegram.Message` (`de_json`): a fifth of a busy worker's CPU, for a
    message id. The public `do_api_request` keeps the rest of PTB's path (defaults, the
    request, the mapping of answers to RetryAfter, Forbidden, BadRequest, ChatMigrated, ...).
    """

    async def initialize(self) -> None:
        warnings.filterwarnings("ignore", message=_RAW_CALL_ADVICE, category=PTBUserWarning)
        await super().initialize()

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        with metrics.timed_call(method):
            return await self.do_api_request(method, api_kwargs=params)

    async def send_prepared(
        self, chat_id: int | str, post: Prepared, *, thread: int | None = None
    ) -> int:
        """Send to a chat, or to a topic of a forum (`thread`: its message_thread_id)."""
        target: dict[str, Any] = {"chat_id": chat_id}
        if thread is not None:
            target["message_thread_id"] = thread
        result = await self._call(post.method, {**target, **post.params})
        return int(result["message_id"])

    async def pin(self, chat_id: int | str, message_id: int) -> None:
        """Pin a post without a notification of its own (the post made its sound already)."""
        params = {"chat_id": chat_id, "message_id": message_id, "disable_notification": True}
        await self._call("pinChatMessage", params)

    async def delete_sent(self, chat_id: int | str, message_id: int) -> None:
        """Delete a message the bot sent (a withdrawn story's channel post)."""
        await self._call("deleteMessage", {"chat_id": chat_id, "message_id": message_id})

    async def edit_prepared(self, chat_id: int | str, message_id: int, post: Prepared) -> int:
        """Replace the text (or caption) and buttons of a message sent before."""
        target = {"chat_id": chat_id, "message_id": message_id}
        first, other = ("editMessageCaption", "editMessageText")
        if not post.is_photo:
            first, other = other, first
        try:
            await self._call(first, {**target, **self._edit_params(first, post)})
        except BadRequest as exc:
            # The post was sent as the other kind (the story gained or lost its photo since):
            # edit what the message is.
            if not is_wrong_message_kind(exc):
                raise
            await self._call(other, {**target, **self._edit_params(other, post)})
        return message_id

    @staticmethod
    def _edit_params(method: str, post: Prepared) -> dict[str, Any]:
        return post.caption_edit if method == "editMessageCaption" else post.text_edit


def _timeout(value: object, default: float) -> float | None:
    """A timeout PTB passed: ours when it passed none (`DEFAULT_NONE`), else its value."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return None if value is None else float(value)  # type: ignore[arg-type]


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
        self._headers = {"User-Agent": self.USER_AGENT}
        self._form_headers = {**self._headers, "Content-Type": _FORM}

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
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _timeout(read_timeout, self._read_timeout)
        write = _timeout(write_timeout, self._write_timeout)
        connect = _timeout(connect_timeout, self._connect_timeout)
        # aiohttp has no write timeout of its own: bound the whole exchange instead.
        total = sum(t for t in (connect, write, read) if t is not None) or None
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | bytes | None = None
        headers = self._headers
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
                data = urlencode(request_data.json_parameters)
                headers = self._form_headers
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
