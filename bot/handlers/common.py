"""Small helpers shared by handlers: replying with a Rendered message, reading arguments."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest, RetryAfter
from telegram.ext import CallbackQueryHandler, filters

from bot.callbacks import Button
from bot.context import NewswireContext
from bot.delivery.policy import is_not_modified, retry_after_seconds
from bot.rendering import Rendered
from content.models import chat_id_of

log = logging.getLogger(__name__)
T = TypeVar("T")
B = TypeVar("B", bound=Button)

# Commands and messages are answered when sent, never again when edited: editing an old
# "/retry x" must not retry again.
NEW_MESSAGES = filters.UpdateType.MESSAGE

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# A reply waits at most this long, once, when Telegram says "retry after N": longer would
# hold one of the update slots (and the reader has likely moved on).
MAX_REPLY_WAIT = 2.0


async def _patiently(call: Callable[[], Awaitable[T]]) -> T | None:
    """Run a reply call; on a short "retry after N" wait once and retry, else give up (None)."""
    try:
        return await call()
    except RetryAfter as exc:
        wait = retry_after_seconds(exc)
        if wait > MAX_REPLY_WAIT:
            log.warning("reply dropped: Telegram asked to wait %.0fs", wait)
            return None
        log.info("reply flood-limited; waiting %.1fs", wait)
        await asyncio.sleep(wait)
    try:
        return await call()
    except RetryAfter as exc:
        log.warning("reply dropped: still flood-limited (%.0fs)", retry_after_seconds(exc))
        return None


async def reply(update: Update, rendered: Rendered) -> Message | None:
    """Answer the message that triggered this update."""
    message = update.effective_message
    if message is None:
        return None
    # Ids only: what readers write and their names stay out of logs (LOG_CONTENT aside).
    log.debug("replying in chat %s to update %s", message.chat_id, update.update_id)
    return await _patiently(
        lambda: message.reply_html(
            rendered.html, reply_markup=rendered.keyboard, link_preview_options=NO_PREVIEW
        )
    )


async def edit(query: CallbackQuery, rendered: Rendered) -> None:
    """Replace the message a button belongs to; pressing twice is not an error."""
    try:
        await _patiently(
            lambda: query.edit_message_text(
                rendered.html,
                parse_mode="HTML",
                reply_markup=rendered.keyboard,
                link_preview_options=NO_PREVIEW,
            )
        )
    except BadRequest as exc:
        if not is_not_modified(exc):
            raise


def argument_text(context: NewswireContext) -> str:
    """Everything after the command, whitespace collapsed."""
    return " ".join(context.args or []).strip()


async def remember_reader(update: Update, context: NewswireContext) -> None:
    """Record the private chat so it can receive subscriptions."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != "private":
        return
    await context.services.repo.readers.upsert_chat(
        chat_id=chat_id_of(chat.id),
        first_name=user.first_name if user else None,
        username=user.username if user else None,
        now=context.services.clock(),
        language=context.reader.language,
    )


def on_button(
    kind: type[B], callback: Callable[[Update, NewswireContext, B], Awaitable[None]]
) -> CallbackQueryHandler[NewswireContext, None]:
    """A handler for one button kind: only data that decodes strictly reaches `callback`."""

    async def handle(update: Update, context: NewswireContext) -> None:
        query = update.callback_query
        data = kind.decode(query.data) if query is not None else None
        assert data is not None  # the pattern below let only this kind's data through
        await callback(update, context, data)

    return CallbackQueryHandler(handle, pattern=kind.matches)
