"""One bot per database: the lock a polling role holds while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.delivery import liveness
from content.storage import Repository
from content.storage.locks import BOT_LOCK

log = logging.getLogger(__name__)

# A crashed holder's lock frees itself after TTL (at once if its pid on this host is gone).
TTL = timedelta(seconds=45)
RENEW_EVERY = 15.0


class AnotherBotRunning(Exception):
    """Another bot already polls updates on this database."""

    def __init__(self, owner: str) -> None:
        super().__init__(
            f"another bot is already running on this database (owner {owner}); "
            "stop it first or use --role worker"
        )
        self.owner = owner


class BotLock:
    """Taken at start, renewed in the background, released at stop."""

    def __init__(self, repo: Repository, clock: Callable[[], datetime]) -> None:
        self.repo = repo
        self.clock = clock
        self.host = liveness.this_host()
        self.owner = liveness.new_worker_id(self.host)
        self._renewing: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Take the lock or raise AnotherBotRunning."""
        liveness.register(self.owner)  # so this process's other checks see it alive
        holder = await self._take()
        if holder is not None:
            liveness.unregister(self.owner)
            raise AnotherBotRunning(holder)
        self._renewing = asyncio.create_task(self._renew(), name="bot-lock")

    async def _take(self) -> str | None:
        return await self.repo.locks.acquire(
            BOT_LOCK,
            owner=self.owner,
            now=self.clock(),
            ttl=TTL,
            is_dead=lambda owner: liveness.is_dead_owner(owner, host=self.host),
        )

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                holder = await self._take()
            except Exception:
                log.exception("could not renew the bot lock; trying again")
                continue
            if holder is not None:
                log.error("the bot lock was taken by %s: two bots may now poll", holder)

    async def release(self) -> None:
        if self._renewing is None:
            return
        self._renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewing
        self._renewing = None
        try:
            await self.repo.locks.release(BOT_LOCK, owner=self.owner)
        finally:
            liveness.unregister(self.owner)
