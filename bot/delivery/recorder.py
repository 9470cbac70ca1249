"""Recording sends: buffered, committed in small batches, never lost to a stop or a cancel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from bot.delivery.supervise import Backoff, describe
from content.storage import Repository

log = logging.getLogger(__name__)


class Recorder:
    """The one path by which a send is recorded, whatever sent it."""

    def __init__(
        self,
        repo: Repository,
        clock: Callable[[], datetime],
        *,
        flush_seconds: float = 0.05,
        flush_max: int = 32,
        backoff: Backoff | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.flush_seconds = flush_seconds
        self.flush_max = flush_max
        self.backoff = backoff or Backoff()
        self.sent = 0
        self._buffer: list[tuple[int, int, datetime]] = []
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def pending(self) -> int:
        """Sends made but not committed yet."""
        return len(self._buffer)

    async def record_sent(self, delivery_id: int, message_id: int) -> None:
        """Count the send and queue its result; commit now when the buffer is full."""
        self._buffer.append((delivery_id, message_id, self.clock()))
        self.sent += 1
        if len(self._buffer) >= self.flush_max and not self._failing:
            # A busy loop runs the flusher late: bound what a crash could leave unrecorded.
            # A failure here is the flusher's to retry; the send itself went through.
            with contextlib.suppress(Exception):
                await self.flush()

    async def flush(self) -> None:
        """Commit buffered results in one transaction (a crash loses at most this buffer).

        One flush at a time: senders that fill the buffer meanwhile wait here, so what a
        kill can leave sent-but-unrecorded stays bounded (buffer + flush + in flight).
        """
        async with self._lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                await self.repo.outbox.mark_sent_many(batch)
            except BaseException:
                # Not committed: keep the results so a later flush records them.
                self._buffer[:0] = batch
                raise

    def start(self) -> None:
        """Start the background flusher (again, after `finish`)."""
        self._done.clear()
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-flush")

    async def finish(self) -> None:
        """Stop the flusher and commit what is left; logs (never raises) if that fails."""
        # The flusher is told to stop, never cancelled: a cancel landing inside its
        # commit would drop a batch of recorded sends (and they would go out again).
        self._done.set()
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        try:
            await self.flush()
        except Exception as exc:
            log.error(
                "could not record sent deliveries (%d lost: %s); they may be sent again",
                len(self._buffer),
                describe(exc),
            )

    async def _flush_loop(self) -> None:
        wait = self.flush_seconds
        while not self._done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), wait)
            try:
                await self.flush()
            except Exception as exc:
                # The batch went back to the buffer; the next round tries again.
                self._failing = True
                wait = self.backoff.failed()
                log.warning(
                    "could not record sent deliveries (%d waiting: %s); retrying in %.0fs",
                    len(self._buffer),
                    describe(exc),
                    wait,
                )
            else:
                self._failing = False
                self.backoff.reset()
                wait = self.flush_seconds
