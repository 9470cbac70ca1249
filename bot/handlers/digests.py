"""Buttons under a digest: the stories behind its "and N more"."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import DigestMore
from bot.context import NewswireContext
from bot.handlers.common import on_button, reply
from bot.rendering.digests import digest_rest
from content.digests import choose
from content.models import chat_id_of


async def on_more_button(update: Update, context: NewswireContext, data: DigestMore) -> None:
    """List the digest's stories that did not fit in it (only in the chat it was sent to)."""
    chat, query = update.effective_chat, update.callback_query
    if chat is None or query is None:
        return
    await query.answer()
    services = context.services
    stories = await services.repo.outbox.bundled(
        digest_id=data.digest, chat_id=chat_id_of(chat.id), now=services.clock()
    )
    await reply(update, digest_rest(choose(stories).more))


BUTTONS = [on_button(DigestMore, on_more_button)]
