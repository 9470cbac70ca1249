"""The outbox worker's loop: claim due deliveries, pace them, send them, hand answers on.

Any number of workers may share one outbox: claims are atomic (SKIP LOCKED on PostgreSQL),
the global rate is a budget reserved in the database, and a dead worker's claims go back
to the queue. The shared budget is in epoch seconds, the one clock all workers share; in
memory the worker paces in monotonic seconds, so a wall-clock step cannot stall or burst it.
Its parts: sender (what one delivery becomes on the wire: rendering, publish options, pins,
deletes, digests), liveness (who is alive), caches (articles, prepared posts), recorder
(results), outcomes (what an error answer means for the delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.delivery import liveness
from bot.delivery.caches import Renderer
from bot.delivery.pacing import (
    GLOBAL_SCOPE,
    INTERACTIVE_SCOPE,
    CapSettler,
    ChatPacer,
    PacerConfig,
    SendWindow,
    window_cap,
)
from bot.delivery.policy import backoff
from bot.delivery.recorder import Recorder
from bot.delivery.sender import Publishing, Sender
from bot.delivery.supervise import Backoff, describe, pause
from bot.delivery.transport import DeliveryBot
from content.models import Delivery
from content.storage import Repository

log = logging.getLogger(__name__)

__all__ = ["DeliveryWorker", "Publishing", "WorkerConfig", "WorkerHealth"]

Notifier = Callable[[str], Awaitable[None]]
WorkerHealth = liveness.WorkerHealth


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 16  # sends in flight at once (bounds duplicates after a crash)
    hold_seconds: float = 2.0  # a claimed send waits in memory at most this long
    # The shared budget is reserved at most this far ahead: a reply to a reader reserves
    # its slot after what the worker holds, so this bounds how long a person waits.
    reserve_ahead: float = 0.25
    reply_headroom: float = 0.15  # share of the rate left free while readers are answered
    max_age: timedelta = timedelta(hours=24)  # transient failures give up after this
    idle_poll: float = 1.0  # longest sleep when nothing is due
    flush_seconds: float = 0.05  # sent results are committed in batches this often
    flush_max: int = 32  # ... or as soon as this many are waiting
    maintenance_seconds: float = 5.0  # how often expired leases are taken back
    peer_check_seconds: float = 1.0  # how often the other workers are counted (≥ 1 s window)
    article_ttl: float = 2.0  # a cached article is read again after this many seconds
    allow_paid_broadcast: bool = False
    retry_first: float = 1.0  # after a failed round (database down), wait this long ...
    retry_cap: float = 30.0  # ... doubling up to this


class DeliveryWorker:
    """One loop that drains the outbox under every rate limit at once."""

    def __init__(
        self,
        *,
        repo: Repository,
        bot: DeliveryBot,
        render: Renderer,
        clock: Callable[[], datetime],
        wakeup: asyncio.Event,
        pacing: PacerConfig | None = None,
        notify: Notifier | None = None,
        config: WorkerConfig | None = None,
        window: SendWindow | None = None,
        zone: tzinfo = UTC,
        publishing: Publishing | None = None,
    ) -> None:
        self.repo = repo
        self.bot = bot
        self.clock = clock
        self.wakeup = wakeup
        self.pacing = pacing or PacerConfig()
        self.config = config or WorkerConfig()
        self.host = liveness.this_host()
        self.id = liveness.new_worker_id(self.host)
        self.chats = ChatPacer(self.pacing)
        self.recorder = Recorder(
            repo,
            clock,
            flush_seconds=self.config.flush_seconds,
            flush_max=self.config.flush_max,
            backoff=Backoff(self.config.retry_first, self.config.retry_cap),
        )
        self.sender = Sender(
            repo=repo,
            bot=bot,
            render=render,
            clock=clock,
            chats=self.chats,
            recorder=self.recorder,
            wakeup=wakeup,
            notify=notify,
            zone=zone,
            publishing=publishing or Publishing(),
            article_ttl=self.config.article_ttl,
            allow_paid_broadcast=self.config.allow_paid_broadcast,
            max_age=self.config.max_age,
        )
        self.heartbeat = liveness.Heartbeat()
        self.stopping = asyncio.Event()
        self._backoff = Backoff(self.config.retry_first, self.config.retry_cap)
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_wire: set[asyncio.Task[None]] = set()  # past their turn: never cancelled
        self._claimed: deque[Delivery] = deque()  # claimed, no slot reserved yet
        self._horizon = 0.0  # end of the last global slot this worker reserved (monotonic)
        self._next_local = 0.0  # earliest next send from this worker, by actual send times
        # Shared with the bot's replies when they run in this process (see replies.py).
        self._window = window or SendWindow(int(self.pacing.global_per_second))
        self._next_maintenance = 0.0
        self._next_peer_check = 0.0
        self._caps = CapSettler()  # a shared window grows back only a span after the peers left
        # Counting the peers often right after idle: workers woken by one plan claim
        # moments apart, and the first would otherwise send a second at the whole rate.
        self._recount_until = 0.0
        self._yielding = False  # readers are being answered: leave them headroom

    @property
    def sent(self) -> int:
        """Sends recorded since start (by any path)."""
        return self.recorder.sent

    @property
    def yielding(self) -> bool:
        """Readers are being answered: this worker leaves them headroom."""
        return self._yielding

    def health(self) -> WorkerHealth:
        """Is the loop running, when did it last go round, how is it failing."""
        return self.heartbeat.health(sent=self.sent)

    async def run(self) -> None:
        """Send until `stop()`; what is in flight then is finished, what waits goes back."""
        liveness.register(self.id)
        self.recorder.start()
        self.heartbeat.running = True
        try:
            while not self.stopping.is_set():
                try:
                    await self._maintain()
                    await self._fill()
                except Exception as exc:
                    # A locked or unreachable database must not end sending: try again,
                    # later each time, and say so (the default busy timeout alone hid it).
                    delay = self._backoff.failed()
                    self.heartbeat.failed(describe(exc))
                    log.warning("delivery worker: %s; trying again in %.0fs", describe(exc), delay)
                    await pause(delay, self.stopping)
                else:
                    self._backoff.reset()
                    self.heartbeat.tick()
        finally:
            self.heartbeat.running = False
            await self._cleanup()

    async def _cleanup(self) -> None:
        """Finish what is on the wire, record it, hand the rest back; each step runs."""
        try:
            # Sends still waiting for their turn are dropped here (their rows go back below);
            # sends already on the wire finish and are recorded: a clean stop never leaves a
            # message sent but unrecorded (the cause of duplicates).
            for task in self._tasks - self._on_wire:
                task.cancel()
            if self._tasks:
                _, pending = await asyncio.wait(list(self._tasks), timeout=30)
                for task in pending:
                    task.cancel()
        finally:
            self._claimed.clear()  # claimed but never started: handed back just below
            await self.recorder.finish()
            try:
                # Whatever this worker still holds was never sent: back to the queue, now
                # (if the database refuses, the lease expiry hands them back later).
                await self.repo.outbox.reclaim(now=self.clock(), dead_workers=[self.id])
            except Exception as exc:
                log.error("could not hand back held deliveries (%s)", describe(exc))
            finally:
                liveness.unregister(self.id)

    def stop(self) -> None:
        """Ask the loop to finish; `run()` returns once in-flight sends are recorded."""
        self.stopping.set()
        self.wakeup.set()

    async def _maintain(self) -> None:
        """Watch the other workers: share the send window, take back what the dead held."""
        now = time.monotonic()
        if now < self._next_peer_check:
            return
        recount = now < self._recount_until
        self._next_peer_check = now + (
            self.config.reserve_ahead if recount else self.config.peer_check_seconds
        )
        owners = await self.repo.outbox.sending_owners()
        dead = [o for o in owners if liveness.is_dead_owner(o, host=self.host)]
        peers = {o for o in owners if o != self.id and o not in dead}
        # The shared budget spaces the workers' slots, but a worker whose loop lags sends
        # late, into the others' slots. What decides whether a share is needed is the
        # stretch reserved at once (`reserve_ahead`), not the claim: 0.25 s stretches of two
        # workers alternate within every second (bench (f), 30/s: 5-22 429s a run with a
        # full window each).
        rate = self.pacing.global_per_second
        span = self._window.span
        cap = window_cap(rate, workers=len(peers) + 1, stretch=self._chunk_size() / rate, span=span)
        self._window.resize(
            self._caps.settle(current=self._window.cap, wanted=cap, now=now, span=span)
        )
        # While readers are being answered (by this or another process), send a little
        # slower: the replies' own sends, late by a few milliseconds, must still fit.
        wall = time.time()
        answering = await self.repo.budget.reserve_slots(
            scope=INTERACTIVE_SCOPE, count=0, interval=0.0, now=wall
        )
        self._yielding = answering > wall
        if now < self._next_maintenance and not dead:
            return
        self._next_maintenance = now + self.config.maintenance_seconds
        taken = await self.repo.outbox.reclaim(now=self.clock(), dead_workers=dead)
        if taken:
            log.warning("re-queued %d deliveries left in flight by a stopped worker", taken)
        self.chats.forget_idle(now)

    async def _fill(self) -> None:
        """Claim what can go within the hold window, reserve the next stretch, or sleep."""
        ahead = self._horizon - time.monotonic()
        reserve_ahead = self.config.reserve_ahead
        busy = len(self._tasks) >= self.config.concurrency * 64
        chunk = self._chunk_size()
        if not busy and len(self._claimed) < chunk:
            # Claim before the reserved stretch runs out, so the claim's latency is hidden.
            moment = self.clock()
            claimed = await self.repo.outbox.claim_due(
                now=moment, limit=self._claim_size(), worker=self.id
            )
            if claimed and not self._claimed and not self._tasks:
                # Work after idle: count the peers now and often for a while (see __init__).
                self._next_peer_check = 0.0
                self._recount_until = time.monotonic() + self._window.span
                await self._maintain()
            self._claimed.extend(claimed)
            await self.sender.read_voices(claimed)
            if not self._claimed:
                await self._idle(moment)
                return
            ahead = self._horizon - time.monotonic()
        if not busy and ahead <= reserve_ahead:
            await self._schedule(chunk)
            return
        await asyncio.sleep(min(max(ahead - reserve_ahead, 0.005), 0.5))

    async def _schedule(self, count: int) -> None:
        """Reserve shared slots for the next `count` claimed deliveries and start them.

        Only a short stretch is reserved at a time: a reader's reply reserves its slot in
        the same budget (see replies.py), so it waits behind at most that stretch.
        """
        now = time.monotonic()
        moment = self.clock()
        ready: list[tuple[Delivery, float]] = []
        while self._claimed and len(ready) < count:
            delivery = self._claimed.popleft()
            chat_ready = self.chats.ready_at(delivery.chat_id, now)
            if chat_ready - now > self.config.hold_seconds:
                # This chat is busy for a while: give the row back instead of holding it.
                await self.repo.outbox.mark_retry(
                    delivery_id=delivery.id,
                    at=moment + timedelta(seconds=chat_ready - now),
                    error=delivery.last_error or "paced",
                    now=moment,
                    count_attempt=False,
                )
                continue
            ready.append((delivery, chat_ready))
        if not ready:
            return
        interval = self._interval()
        wall, now = time.time(), time.monotonic()
        first_wall = await self.repo.budget.reserve_slots(
            scope=GLOBAL_SCOPE, count=len(ready), interval=interval, now=wall
        )
        first = first_wall - wall + now  # the shared epoch slot, on this process's clock
        self._horizon = first + len(ready) * interval
        for n, (delivery, chat_ready) in enumerate(ready):
            at = max(first + n * interval, chat_ready)
            self.chats.take(delivery.chat_id, at)
            task = asyncio.create_task(self._deliver(delivery, at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _interval(self) -> float:
        """Seconds between this worker's sends: the global pace, less the replies' headroom."""
        if self._yielding:
            return self.pacing.global_interval / (1 - self.config.reply_headroom)
        return self.pacing.global_interval

    def _chunk_size(self) -> int:
        """Slots reserved at once: `reserve_ahead` seconds at the global rate."""
        return max(1, int(self.pacing.global_per_second * self.config.reserve_ahead))

    def _claim_size(self) -> int:
        """Deliveries claimed at once: what the hold window allows at this worker's rate."""
        # With a share of the window, claims of the whole rate would leave the last worker
        # holding twice what it can send in the hold window at the end of a broadcast.
        rate = min(self.pacing.global_per_second, float(self._window.cap))
        return max(1, min(500, int(rate * self.config.hold_seconds)))

    async def _idle(self, now: datetime) -> None:
        self.wakeup.clear()
        next_due = await self.repo.outbox.next_due_at()
        timeout = self.config.idle_poll
        if next_due is not None:
            timeout = min(timeout, max((next_due - now).total_seconds(), 0.01))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), timeout)

    async def _deliver(self, delivery: Delivery, at: float) -> None:
        # Waiting for the turn is plain sleeping (no timers per send: at 1000/s they cost);
        # a stop cancels the sends still waiting, and the rows go back to the queue.
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # Keep the spacing between actual sends too: after a stall of the event loop,
        # late sends must not go out back to back (a window would see a burst).
        clock = time.monotonic()
        start = max(clock, self._next_local)
        self._next_local = start + self._interval()
        if start > clock:
            await asyncio.sleep(start - clock)
        await self._slots.acquire()
        if self.stopping.is_set():
            self._slots.release()
            return  # not sent: the stop hands the row back
        task = asyncio.current_task()
        assert task is not None
        self._on_wire.add(task)
        try:
            record = await self._window.enter()
            try:
                await self.sender.send(delivery)
            except Exception:
                # A bug must not lose the delivery: log it and retry it later.
                log.exception(
                    "delivery %d to %s failed unexpectedly", delivery.id, delivery.chat_id
                )
                await self._retry_later(delivery)
            finally:
                record.end = self._window.clock()
        finally:
            self._on_wire.discard(task)
            self._slots.release()

    async def _retry_later(self, delivery: Delivery) -> None:
        now = self.clock()
        try:
            await self.repo.outbox.mark_retry(
                delivery_id=delivery.id,
                at=now + timedelta(seconds=backoff(delivery.attempts)),
                error="internal error",
                now=now,
            )
        except Exception as exc:
            # The row stays claimed; its lease running out hands it back.
            log.warning("could not requeue delivery %d (%s)", delivery.id, describe(exc))
