"""Loops that survive: per-round backoff, error lines without secrets, a task supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Backoff:
    """Delays after failures in a row: `first`, doubling up to `cap`; a success resets it."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def failed(self) -> float:
        """The delay before the next try (and double the one after)."""
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first


def describe(exc: BaseException) -> str:
    """One short line naming the error, without SQL parameters, URLs or tracebacks."""
    # SQLAlchemy wraps the driver's error and appends the statement and its parameters
    # (reader ids, names); the driver's own message says what went wrong.
    cause = getattr(exc, "orig", None)
    shown = cause if isinstance(cause, BaseException) else exc
    lines = str(shown).strip().splitlines()
    text = lines[0][:200] if lines else ""
    return f"{type(shown).__name__}: {text}" if text else type(shown).__name__


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    stop: asyncio.Event,
    backoff: Backoff | None = None,
) -> None:
    """Run `run()` until `stop` is set; if it dies (or returns early), log at ERROR and restart."""
    backoff = backoff or Backoff()
    while not stop.is_set():
        try:
            await run()
        except Exception:
            log.exception("%s died; restarting it", name)
        else:
            if stop.is_set():
                return
            log.error("%s stopped by itself; restarting it", name)
        await pause(backoff.failed(), stop)
