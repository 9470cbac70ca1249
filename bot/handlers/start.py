"""/start (with deep links to an article) and /help."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CommandHandler

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.articles import show_article
from bot.handlers.common import remember_reader, reply

_DEEP_LINK = re.compile(r"^a_([A-Za-z0-9_-]{1,40})$")


async def start(update: Update, context: NewswireContext) -> None:
    await remember_reader(update, context)
    payload = context.args[0] if context.args else ""
    if match := _DEEP_LINK.match(payload):
        await show_article(update, context, match.group(1))
        return
    count = await context.services.repo.article_count()
    user = update.effective_user
    await reply(
        update, rendering.welcome(first_name=user.first_name if user else None, article_count=count)
    )


async def help_command(update: Update, context: NewswireContext) -> None:
    await reply(update, rendering.HELP)


HANDLERS = [CommandHandler("start", start), CommandHandler("help", help_command)]
