"""Small helpers shared by handlers: replying with a Rendered message, reading arguments."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest, RetryAfter

from bot.context import NewswireContext
from bot.rendering import Rendered

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


MAX_REPLY_WAIT = 30.0  # a reader waits this long at most for a flood-limited reply


async def _patiently(call: Callable[[], Awaitable[T]]) -> T:
    """Run a reply call; when Telegram says "retry after N" (N small), wait and try again."""
    for _ in range(3):
        try:
            return await call()
        except RetryAfter as exc:
            wait = (
                exc.retry_after.total_seconds()
                if isinstance(exc.retry_after, timedelta)
                else float(exc.retry_after)
            )
            if wait > MAX_REPLY_WAIT:
                raise
            log.info("reply flood-limited; waiting %.0fs", wait)
            await asyncio.sleep(wait)
    return await call()


async def reply(update: Update, rendered: Rendered) -> Message | None:
    """Answer the message that triggered this update."""
    message = update.effective_message
    if message is None:
        return None
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
        if "not modified" not in str(exc).lower():
            raise


def argument_text(context: NewswireContext) -> str:
    """Everything after the command, whitespace collapsed."""
    return " ".join(context.args or []).strip()


async def remember_reader(update: Update, context: NewswireContext) -> None:
    """Record the private chat so it can receive subscriptions."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != "private":
        return
    await context.services.repo.upsert_chat(
        chat_id=chat.id,
        first_name=user.first_name if user else None,
        username=user.username if user else None,
        now=context.services.clock(),
    )
