"""Admin notices: broken files and given-up deliveries reach the editors in Telegram."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot
from telegram.error import TelegramError

from bot.rendering import escape

log = logging.getLogger(__name__)


class AdminNotifier:
    """Sends short notices to every admin; a failure to notify is logged, never raised."""

    def __init__(self, bot: Bot, admin_ids: Sequence[int]) -> None:
        self.bot = bot
        self.admin_ids = tuple(admin_ids)

    async def send(self, text: str) -> None:
        for admin in self.admin_ids:
            try:
                await self.bot.send_message(admin, f"⚠️ {escape(text)}", parse_mode="HTML")
            except TelegramError as exc:
                log.warning("could not notify admin %s: %s", admin, exc)
