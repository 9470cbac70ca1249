"""Telegram webhook route: updates POSTed by Telegram, checked, decoded and queued for PTB.

PTB's documented way to serve a webhook from one's own web server ("customwebhookbot"):
`Update.de_json(data, application.bot)` put on `application.update_queue`, which the started
Application processes like polled updates. Telegram only needs a 2xx; the handlers run after.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.context import NewswireApp
from bot.web.push import read_capped
from bot.web.server import json_error

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_PATH = "/telegram"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kilobytes; this is only a bound
# What polling gets by default (Telegram's default): every kind except those one must ask
# for. The same list in both modes, so switching between them changes nothing.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ALLOWED_UPDATES = [str(kind) for kind in Update.ALL_TYPES if kind not in OPT_IN_UPDATES]


def webhook_path(url: str) -> str:
    """The route Telegram's POSTs arrive at: the URL's path (a proxy forwards it as is)."""
    return urlsplit(url).path or DEFAULT_PATH


@dataclass(frozen=True)
class WebhookConfig:
    """Where updates arrive, the secret they must carry, and the application they go to."""

    url: str
    secret: str
    application: NewswireApp

    @property
    def path(self) -> str:
        return webhook_path(self.url)


WEBHOOK = web.AppKey("webhook", WebhookConfig)


def _secret_matches(given: str | None, secret: str) -> bool:
    if given is None:
        return False
    # Constant time: the answer's timing must not tell how much of a guess was right.
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


async def receive(request: web.Request) -> web.Response:
    """One update from Telegram: 403 without the secret, 400 when not an update, else queued."""
    config = request.app[WEBHOOK]
    if not _secret_matches(request.headers.get(SECRET_HEADER), config.secret):
        # Neither the header's value nor the secret is logged.
        log.warning("webhook request without the right secret token refused")
        raise json_error(403, "wrong or missing secret token")
    body = await read_capped(request, MAX_UPDATE_BYTES)
    try:
        data = json.loads(body)
    except ValueError:
        raise json_error(400, "body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise json_error(400, "not a Telegram update")
    application = config.application
    try:
        update = Update.de_json(data, application.bot)
    except (KeyError, TypeError, ValueError):
        raise json_error(400, "not a Telegram update") from None
    await application.update_queue.put(update)
    return web.json_response({"ok": True})


def install(app: web.Application, config: WebhookConfig) -> None:
    """Add the webhook route to Newswire's web app."""
    app[WEBHOOK] = config
    app.router.add_post(config.path, receive)
