"""The update feed and every long poll (getUpdates, the page's and tests' waits).

One concurrency model: the sandbox belongs to one asyncio event loop. Every change is plain
synchronous code that never awaits, so "check, then park a waiter" cannot be interleaved with
a change and no lock is needed; `notify` resolves the parked futures. (The old model mixed a
threading.RLock with per-loop events to serve callers on other threads; nothing needs that.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox.errors import JSON, ApiError, Params

T = TypeVar("T")

CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
# Update types Telegram delivers when allowed_updates was never set (all but a few opt-in ones).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
    }
)


class Changes:
    """A change counter and the long polls parked until the next change."""

    def __init__(self) -> None:
        self.ticks = 0
        self._waiters: set[asyncio.Future[None]] = set()

    @property
    def waiting(self) -> int:
        """How many long polls are parked right now."""
        return len(self._waiters)

    def notify(self) -> None:
        """Something changed: every parked poll re-checks its condition."""
        self.ticks += 1
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def _park(self, seconds: float, abort: asyncio.Event | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        waits: list[asyncio.Future[Any]] = [future]
        if abort is not None:
            waits.append(asyncio.ensure_future(abort.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiters.discard(future)
            for waiting in waits:
                waiting.cancel()

    async def poll(
        self,
        check: Callable[[], T | None],
        seconds: float,
        *,
        abort: asyncio.Event | None = None,
    ) -> T | None:
        """Return `check()` once it is not None, or None after `seconds` (or on abort)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            result = check()
            remaining = deadline - loop.time()
            if result is not None or remaining <= 0 or (abort is not None and abort.is_set()):
                return result
            await self._park(remaining, abort)


class UpdateFeed:
    """Updates waiting for the bot, in order, with Telegram's offset and filter rules."""

    def __init__(self, changes: Changes) -> None:
        self._changes = changes
        self._updates: list[tuple[int, str, JSON]] = []
        self._next_update_id = 1
        self._allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._generation = 0
        # While a webhook is set, updates go there and getUpdates answers 409.
        self.webhook_active = False

    def __len__(self) -> int:
        return len(self._updates)

    def queue(self, kind: str, payload: JSON) -> None:
        """Append one update of type `kind`."""
        self._updates.append((self._next_update_id, kind, payload))
        self._next_update_id += 1
        self._changes.notify()

    def drop_pending(self) -> None:
        """Forget every unconfirmed update (deleteWebhook's drop_pending_updates)."""
        self._updates.clear()

    def pending(self) -> list[JSON]:
        """Updates not yet confirmed by the bot."""
        return [{"update_id": uid, kind: payload} for uid, kind, payload in self._updates]

    def set_webhook_active(self, active: bool) -> None:
        """A webhook was set or deleted: parked getUpdates calls re-check (and answer 409)."""
        self.webhook_active = active
        self._changes.notify()

    def allow(self, allowed: list[str]) -> None:
        """Set the update-type filter (it sticks until set again; [] means the default)."""
        self._allowed = frozenset(allowed) or DEFAULT_UPDATE_TYPES

    def first_pending(self) -> JSON | None:
        """The oldest update the filter lets through (for webhook delivery), or None."""
        self._updates = [u for u in self._updates if u[1] in self._allowed]
        if not self._updates:
            return None
        uid, kind, body = self._updates[0]
        return {"update_id": uid, kind: body}

    def confirm(self, update_id: int) -> None:
        """The webhook accepted this update: forget it and every older one."""
        self._updates = [u for u in self._updates if u[0] > update_id]

    def take(self, p: Params) -> list[JSON]:
        """Confirm updates before `offset`, apply `allowed_updates`, return up to `limit`."""
        if self.webhook_active:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = p.integer("offset")
        if offset is not None and offset > 0:
            self._updates = [u for u in self._updates if u[0] >= offset]
        elif offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        allowed = p.json("allowed_updates", error="can't parse allowed_updates JSON object")
        if isinstance(allowed, list):
            self.allow(allowed)
        self._updates = [u for u in self._updates if u[1] in self._allowed]
        limit = min(max(p.integer("limit") or 100, 1), 100)
        return [{"update_id": uid, kind: body} for uid, kind, body in self._updates[:limit]]

    def start_poll(self) -> int:
        """A new getUpdates: any older long poll must now answer 409."""
        self._generation += 1
        self._changes.notify()
        return self._generation

    async def long_poll(self, p: Params, *, abort: asyncio.Event | None = None) -> list[JSON]:
        """getUpdates with real long polling: waits up to `timeout` seconds for an update."""
        timeout = max(0.0, min(p.number("timeout") or 0.0, 50.0))
        if self.webhook_active:
            raise ApiError(409, WEBHOOK_ACTIVE)
        generation = self.start_poll()

        def ready() -> list[JSON] | None:
            if generation != self._generation:
                raise ApiError(409, CONFLICT_POLL)
            return self.take(p) or None

        result = await self._changes.poll(ready, timeout, abort=abort)
        return result or []
