"""All handlers in one list that reads top to bottom; order matters where commented."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.handlers import articles, fallback, search, start, subscriptions

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

HANDLERS: list[BaseHandler] = [  # type: ignore[type-arg]
    *start.HANDLERS,
    *articles.HANDLERS,
    *search.HANDLERS,
    *subscriptions.HANDLERS,
    # Last: whatever no feature claimed gets a hint (unknown commands, plain text, old buttons).
    *fallback.HANDLERS,
]
