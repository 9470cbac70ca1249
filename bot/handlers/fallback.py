"""Anything else: unknown commands and plain text get a short hint, never silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import reply


async def unknown_command(update: Update, context: NewswireContext) -> None:
    message = update.effective_message
    command = (message.text or "").split()[0] if message and message.text else None
    await reply(update, rendering.hint(command))


async def plain_text(update: Update, context: NewswireContext) -> None:
    await reply(update, rendering.hint())


async def stale_button(update: Update, context: NewswireContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer("This button has expired. Try /latest.")


HANDLERS = [
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
    MessageHandler(
        filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL, plain_text
    ),
    CallbackQueryHandler(stale_button),
]
