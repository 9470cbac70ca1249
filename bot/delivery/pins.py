"""Pinning a breaking story's channel posts, and unpinning them once their hours are over.

A pin is never part of the post: if it fails the post stays sent; the editors hear once
per chat when the bot lacks the right to pin there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.delivery.policy import Verdict, classify
from bot.delivery.supervise import describe
from bot.delivery.transport import chat_arg
from content.models import ChatId
from content.routing import target_of
from content.storage import Repository

log = logging.getLogger(__name__)

Notifier = Callable[[str], Awaitable[None]]
UNPIN_BATCH = 50  # pins looked at per run of the unpin job


class PinningBot(Protocol):
    async def pin(self, chat_id: int | str, message_id: int) -> None: ...


def lacks_rights(exc: TelegramError) -> bool:
    """Telegram refused because of the bot's place in the chat, not the message."""
    return isinstance(exc, Forbidden) or "rights" in str(exc).lower()


class Pinner:
    """Pins a channel post just sent, and records when to unpin it."""

    def __init__(
        self,
        *,
        repo: Repository,
        bot: PinningBot,
        hours: float,
        notify: Notifier | None = None,
    ) -> None:
        self.repo = repo
        self.bot = bot
        self.hours = timedelta(hours=hours)
        self.notify = notify
        self._warned: set[str] = set()  # chats the editors were told about

    async def pin(self, *, delivery_id: int, key: ChatId, message_id: int, now: datetime) -> None:
        """Pin the post (silently: the post itself made its sound); never raises."""
        chat = target_of(key).chat
        try:
            await self.bot.pin(chat_arg(chat), message_id)
        except TelegramError as exc:
            log.warning("could not pin message %d in %s (%s)", message_id, chat, exc)
            if lacks_rights(exc) and chat not in self._warned and self.notify is not None:
                self._warned.add(chat)
                try:
                    await self.notify(
                        f"Cannot pin breaking stories in {chat}: {exc}. Give the bot the "
                        "right to pin (channels: edit messages), or set nopin for it in "
                        "CHANNEL_OPTIONS."
                    )
                except Exception as notify_exc:
                    log.warning("could not tell the editors (%s)", describe(notify_exc))
            return
        try:
            await self.repo.outbox.mark_pinned(delivery_id=delivery_id, until=now + self.hours)
        except Exception as exc:
            log.warning(
                "pinned message %d in %s but could not record when to unpin it (%s)",
                message_id,
                chat,
                describe(exc),
            )


async def unpin_due(repo: Repository, bot: Bot, *, now: datetime) -> int:
    """Unpin the posts whose pin hours are over; returns how many pins were settled.

    Where Telegram refuses (the message is gone, the bot lost its rights), the pin is
    logged once and forgotten; where it is busy or unreachable, the next run tries again.
    """
    settled = 0
    for delivery in await repo.outbox.pins_due(now=now, limit=UNPIN_BATCH):
        assert delivery.message_id is not None
        chat = target_of(delivery.chat_id).chat
        try:
            await bot.unpin_chat_message(chat_id=chat_arg(chat), message_id=delivery.message_id)
        except TelegramError as exc:
            if classify(exc).verdict in (Verdict.TRANSIENT, Verdict.FLOOD):
                log.warning(
                    "could not unpin message %d in %s yet (%s)", delivery.message_id, chat, exc
                )
                continue
            log.warning(
                "could not unpin message %d in %s (%s); leaving it", delivery.message_id, chat, exc
            )
        await repo.outbox.clear_pin(delivery_id=delivery.id)
        settled += 1
    return settled
