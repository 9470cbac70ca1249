"""The bot itself: who it is, and how it receives updates (getUpdates, deleteWebhook)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.errors import JSON, Params

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
    sb.feed.start_poll()
    return sb.feed.take(p)


def delete_webhook(sb: Sandbox, p: Params) -> bool:
    # The sandbox has no webhooks; PTB calls this before polling.
    if p.flag("drop_pending_updates"):
        sb.feed.drop_pending()
    return True


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "deleteWebhook": delete_webhook,
}
