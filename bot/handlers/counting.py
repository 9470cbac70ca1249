"""Counting every update by type for `/metrics`, before anything else can stop it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot import metrics
from bot.context import NewswireContext


async def count(update: Update, _context: NewswireContext) -> None:
    """Count the update; never stops it (no ApplicationHandlerStop)."""
    metrics.count_update(update)


def counting_handler() -> TypeHandler[Update, NewswireContext, None]:
    """Runs in group -3, first: throttled and dropped updates are counted too."""
    return TypeHandler(Update, count)
