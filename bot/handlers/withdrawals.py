"""Editors' /withdraw <article id>: take a story back as its source would (ADMIN_IDS only)."""

from __future__ import annotations

from telegram import Update

from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply
from bot.rendering.replies import usage_withdraw, withdrew
from content.models import is_article_id
from content.withdrawals import deletes_queued, withdraw


async def withdraw_command(update: Update, context: NewswireContext) -> None:
    article_id = (argument_text(context) or "").split(maxsplit=1)[0:1]
    if not article_id or not is_article_id(article_id[0]):
        await reply(update, usage_withdraw())
        return
    services = context.services
    user = update.effective_user
    editor = f"editor {user.id}" if user is not None else "an editor"
    done = await withdraw(
        services.repo, article_id[0], now=services.clock(), reason=f"withdrawn by {editor}"
    )
    if deletes_queued(done):
        services.outbox_wakeup.set()
    await reply(update, withdrew(article_id[0], done))
