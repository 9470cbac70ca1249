"""Anything else: unknown commands and plain text get a short hint, never silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import NEW_MESSAGES, reply


async def unknown_command(update: Update, context: NewswireContext) -> None:
    message = update.effective_message
    command = (message.text or "").split()[0] if message and message.text else None
    await reply(update, rendering.hint(command))


async def plain_text(update: Update, context: NewswireContext) -> None:
    await reply(update, rendering.hint())


async def stale_button(update: Update, context: NewswireContext) -> None:
    """Old, forged or malformed button data: the same short answer for all."""
    if update.callback_query is not None:
        await update.callback_query.answer(rendering.answer_expired())


HANDLERS = [
    MessageHandler(NEW_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
    MessageHandler(
        NEW_MESSAGES & filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
        plain_text,
    ),
    CallbackQueryHandler(stale_button),
]
