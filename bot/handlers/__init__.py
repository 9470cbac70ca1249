"""All handlers in one list that reads top to bottom; order matters where commented."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.commands import registry
from bot.context import NewswireContext
from bot.handlers import (
    articles,
    digests,
    fallback,
    inline,
    links,
    review,
    settings,
    start,
    subscriptions,
)
from bot.handlers.common import NEW_MESSAGES
from bot.handlers.counting import counting_handler
from bot.handlers.reader_context import reader_context_handler
from bot.handlers.throttle import throttle_handler

AnyHandler = BaseHandler[Any, NewswireContext, Any]


def command_handlers(admin_ids: frozenset[int]) -> list[AnyHandler]:
    """One CommandHandler per registered command, for new messages only."""
    only_admins = filters.User(user_id=list(admin_ids))
    return [
        CommandHandler(
            c.name, c.handler, filters=NEW_MESSAGES & only_admins if c.admin_only else NEW_MESSAGES
        )
        for c in registry()
    ]


def all_handlers(admin_ids: frozenset[int]) -> dict[int, Sequence[AnyHandler]]:
    """Every handler by group, in the order PTB tries them."""
    return {
        # Counted before anything can stop it (it never stops one itself): /metrics.
        -3: [counting_handler()],
        # First, for every update: a reader over their limit goes no further.
        -2: [throttle_handler()],
        # Then who is asking: settings, zone and language for every handler below (a group of
        # its own, since a group runs only its first matching handler).
        -1: [reader_context_handler()],
        0: [
            # First: inline queries, and messages sent via an inline bot (a reader sharing a
            # story: not a command or a link to open, whatever its text).
            *inline.HANDLERS,
            # Admin commands only match ADMIN_IDS; anyone else falls through to the hint below.
            *command_handlers(admin_ids),
            *articles.BUTTONS,
            *subscriptions.BUTTONS,
            *settings.BUTTONS,
            *start.BUTTONS,
            *digests.BUTTONS,
            # Editors' review buttons (the handler refuses anyone not in ADMIN_IDS).
            *review.BUTTONS,
            # Before the fallback: plain text holding a link is a request for that story.
            *links.HANDLERS,
            # Last: whatever no feature claimed gets a hint (unknown commands, plain text,
            # old or forged buttons).
            *fallback.HANDLERS,
        ],
    }
