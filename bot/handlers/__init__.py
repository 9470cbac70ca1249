"""All handlers in one list that reads top to bottom; order matters where commented."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.handlers import admin, articles, fallback, search, start, subscriptions

COMMANDS: list[tuple[str, str]] = [
    ("latest", "Newest stories"),
    ("search", "Find stories by words"),
    ("topics", "Topics with story counts"),
    ("subscribe", "Get new stories on a topic or keyword"),
    ("unsubscribe", "Stop a subscription"),
    ("subscriptions", "What you follow"),
    ("read", "Read a story by id"),
    ("help", "What I can do"),
]


def all_handlers(admin_ids: frozenset[int]) -> list[BaseHandler]:  # type: ignore[type-arg]
    """Every handler, in the order PTB tries them."""
    return [
        *start.HANDLERS,
        *articles.HANDLERS,
        *search.HANDLERS,
        *subscriptions.HANDLERS,
        # Admin commands only match ADMIN_IDS; anyone else falls through to the hint below.
        *admin.handlers(admin_ids),
        # Last: whatever no feature claimed gets a hint (unknown commands, plain text, old buttons).
        *fallback.HANDLERS,
    ]
