"""The bot itself: who it is, and how it receives updates (getUpdates or a webhook)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.errors import JSON, ApiError, Params, bad_request
from bot.sandbox.updates import WEBHOOK_ACTIVE
from bot.sandbox.webhook import check_secret, check_url

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method


def get_me(sb: Sandbox, p: Params) -> JSON:
    return {
        **sb.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def get_updates(sb: Sandbox, p: Params) -> list[JSON]:
    """getUpdates without waiting (the server long-polls through `UpdateFeed.long_poll`)."""
    if sb.feed.webhook_active:
        raise ApiError(409, WEBHOOK_ACTIVE)
    sb.feed.start_poll()
    return sb.feed.take(p)


def set_webhook(sb: Sandbox, p: Params) -> bool:
    url = (p.text("url") or "").strip()
    check_url(url)
    secret = p.text("secret_token")
    check_secret(secret)
    # Telegram clamps max_connections into 1..100 rather than refusing it.
    connections = min(max(p.integer("max_connections") or 40, 1), 100)
    allowed = p.json("allowed_updates", error="can't parse allowed_updates JSON object")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed_updates JSON object")
    if p.flag("drop_pending_updates"):
        sb.feed.drop_pending()
    if allowed is not None:
        sb.feed.allow(allowed)
    sb.webhook.set(url, secret=secret, max_connections=connections, allowed_updates=allowed)
    return True


def delete_webhook(sb: Sandbox, p: Params) -> bool:
    # PTB calls this before polling; it always succeeds, webhook or not.
    sb.webhook.clear()
    if p.flag("drop_pending_updates"):
        sb.feed.drop_pending()
    return True


def get_webhook_info(sb: Sandbox, p: Params) -> JSON:
    return sb.webhook.info()


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
