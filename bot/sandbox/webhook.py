"""The bot's webhook: its settings, and the task that POSTs each update to it in order.

The task runs on the sandbox's event loop and fits its model: it parks on `Changes` until an
update is pending, POSTs it, and only then (synchronously) confirms it, so the feed is never
touched across an await. A refused or failed POST is retried after a short backoff, keeping
order, and is what getWebhookInfo reports as the last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

import aiohttp

from bot.sandbox.errors import JSON, bad_request
from bot.sandbox.updates import Changes, UpdateFeed

_LOG = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]*")
_URL = re.compile(r"(?i)^https?://[^\s/?#]+\S*$")
_POST_TIMEOUT = 10.0
_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 2.0
_IDLE = 3600.0


def check_secret(secret: str | None) -> None:
    """Telegram's rules for secret_token: 1-256 characters of A-Z a-z 0-9 _ -."""
    if secret is None:
        return
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")


def check_url(url: str) -> None:
    """An http(s) URL; plain http and loopback are allowed, as a local Bot API server does."""
    if not _URL.match(url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")


class Webhook:
    """The webhook the bot set (url, secret, limits) and its delivery task."""

    def __init__(self, feed: UpdateFeed, changes: Changes, now_date: Callable[[], int]) -> None:
        self._feed = feed
        self._changes = changes
        self._now_date = now_date
        self.url = ""
        self.secret: str | None = None
        self.max_connections = 40
        self.allowed_updates: list[str] | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.delivered = 0
        self.attempts = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the delivery task is alive."""
        return self._task is not None and not self._task.done()

    def set(
        self,
        url: str,
        *,
        secret: str | None,
        max_connections: int,
        allowed_updates: list[str] | None,
    ) -> None:
        """Set (or replace) the webhook and start delivering to it."""
        self._cancel()
        self.url = url
        self.secret = secret
        self.max_connections = max_connections
        self.allowed_updates = allowed_updates
        self.last_error_date = None
        self.last_error_message = None
        self._feed.set_webhook_active(True)
        self.resume()

    def clear(self) -> None:
        """deleteWebhook: stop delivering; getUpdates works again."""
        self._cancel()
        self.url = ""
        self.secret = None
        self.allowed_updates = None
        self._feed.set_webhook_active(False)

    def resume(self) -> None:
        """Start the delivery task on the running loop (a no-op without a loop or a URL)."""
        if not self.url or self.running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a synchronous caller: the server's start resumes delivery
        self._task = loop.create_task(self._deliver(self.url), name="sandbox-webhook")

    async def stop(self) -> None:
        """Stop the delivery task and wait for it (the server's shutdown)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    def info(self) -> JSON:
        """The Bot API WebhookInfo object."""
        info: JSON = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._feed),
        }
        if not self.url:
            return info
        info["ip_address"] = "127.0.0.1"
        info["max_connections"] = self.max_connections
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message or ""
        return info

    async def _deliver(self, url: str) -> None:
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        timeout = aiohttp.ClientTimeout(total=_POST_TIMEOUT)
        failures = 0
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                update = await self._changes.poll(self._feed.first_pending, _IDLE)
                if update is None:
                    continue
                self.attempts += 1
                error = await self._post(http, url, update, headers)
                if error is None:
                    self._feed.confirm(update["update_id"])
                    self.delivered += 1
                    failures = 0
                    continue
                self.last_error_date = self._now_date()
                self.last_error_message = error
                failures += 1
                await asyncio.sleep(min(_FIRST_BACKOFF * 2 ** (failures - 1), _MAX_BACKOFF))

    @staticmethod
    async def _post(
        http: aiohttp.ClientSession, url: str, update: JSON, headers: dict[str, str]
    ) -> str | None:
        """POST one update; None when the bot took it, else Telegram's wording of the failure."""
        try:
            async with http.post(url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as error:
            _LOG.debug("webhook delivery failed: %s", type(error).__name__)
            return f"Connection failed: {type(error).__name__}"
