"""Replies to readers drawn from the same global budget as the delivery worker.

Telegram's ~30 messages a second is one limit for everything the bot sends. The worker
reserves slots in the shared budget (the database) a short stretch at a time; each reply
reserves its own slot there too, so together they never exceed the limit, and a reader
waits behind at most that stretch (`WorkerConfig.reserve_ahead`), not behind a broadcast.
While replies go out, workers (in any process) send a little slower (`reply_headroom`), so
replies late by a few milliseconds still fit in Telegram's second; in one process, replies
also pass the worker's send window, which already holds that second exactly.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import GLOBAL_SCOPE, INTERACTIVE_SCOPE, PacerConfig, SendWindow
from content.storage import Repository

log = logging.getLogger(__name__)

# Methods that post a new message: what Telegram's message limits count.
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

# A reply whose slot is further off is not sent: that is a global pause (Telegram refused
# several chats), not a queue of readers. 10 s lets a burst of ~300 replies at 30/s all be
# answered (2 s dropped replies to the 61st of 60 readers typing at once) while never holding an
# update slot for the 30 s x 3 of before.
MAX_REPLY_WAIT = 10.0
ANSWERING_FOR = 3.0  # after a reply, workers leave headroom this long (WorkerConfig.reply_headroom)


class SharedBudgetLimiter(BaseRateLimiter[None]):
    """PTB rate limiter for the interactive bot: one shared-budget slot per new message."""

    def __init__(
        self,
        repo: Repository,
        pacing: PacerConfig,
        *,
        window: SendWindow | None = None,
        max_wait: float = MAX_REPLY_WAIT,
    ) -> None:
        self.repo = repo
        self.pacing = pacing
        self.window = window
        self.max_wait = max_wait
        self._answering_until = 0.0  # what this process last told the workers (epoch)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in COUNTED_METHODS:
            return await callback(*args, **kwargs)
        await self._wait_for_slot(endpoint)
        if self.window is None:
            return await callback(*args, **kwargs)
        record = await self.window.enter()
        try:
            return await callback(*args, **kwargs)
        finally:
            record.end = self.window.clock()

    async def _wait_for_slot(self, endpoint: str) -> None:
        wall = time.time()
        if self._answering_until - wall < ANSWERING_FOR / 2:
            # Tell every worker, in any process, that readers are being answered.
            self._answering_until = wall + ANSWERING_FOR
            await self.repo.budget.pause_scope(
                scope=INTERACTIVE_SCOPE, until=self._answering_until, now=wall
            )
        slot = await self.repo.budget.reserve_slots(
            scope=GLOBAL_SCOPE, count=1, interval=self.pacing.global_interval, now=wall
        )
        wait = slot - time.time()
        if wait > self.max_wait:
            # Everyone is paused (Telegram refused several chats): holding an update slot
            # that long helps nobody. The caller gives up on this reply (see `_patiently`).
            log.warning("%s not sent: the send budget is paused for %.0fs", endpoint, wait)
            raise RetryAfter(math.ceil(wait))
        if wait > 0:
            await asyncio.sleep(wait)
