"""/start (with deep links to an article) and /help."""

from __future__ import annotations

import re

from telegram import Update

from bot import commands, rendering
from bot.context import NewswireContext
from bot.handlers.articles import show_article
from bot.handlers.common import remember_reader, reply
from content.models import ARTICLE_ID_PATTERN

_DEEP_LINK = re.compile(rf"a_({ARTICLE_ID_PATTERN})")


async def start(update: Update, context: NewswireContext) -> None:
    await remember_reader(update, context)
    payload = context.args[0] if context.args else ""
    if match := _DEEP_LINK.fullmatch(payload):
        await show_article(update, context, match.group(1))
        return
    count = await context.services.repo.articles.count(now=context.services.clock())
    user = update.effective_user
    welcome = rendering.welcome(
        first_name=user.first_name if user else None,
        article_count=count,
        commands=commands.reader_commands(),
    )
    await reply(update, welcome)


async def help_command(update: Update, context: NewswireContext) -> None:
    await reply(update, rendering.help_message(commands.reader_commands()))
