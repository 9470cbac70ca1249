"""The outbox worker: claims due deliveries, paces them, sends them, applies the policy.

Any number of workers may share one outbox: claims are atomic (SKIP LOCKED on PostgreSQL),
the global rate is a budget reserved in the database, and a dead worker's claims go back
to the queue. Send times are epoch seconds, the one clock all workers share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.delivery.pacing import GLOBAL_SCOPE, ChatPacer, PacerConfig, SendWindow
from bot.delivery.policy import Outcome, Verdict, backoff, classify
from bot.delivery.transport import DeliveryBot, Prepared, prepare
from bot.rendering import Rendered, plain_text
from content.models import Article, Delivery, DeliveryKind
from content.storage import Repository

log = logging.getLogger(__name__)

Renderer = Callable[[Article, DeliveryKind], Rendered]
Notifier = Callable[[str], Awaitable[None]]

# Workers alive in this process: a claim by a worker of this pid that is not here is stale.
_LIVE_WORKERS: set[str] = set()


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 16  # sends in flight at once (bounds duplicates after a crash)
    hold_seconds: float = 2.0  # a claimed send waits in memory at most this long
    max_age: timedelta = timedelta(hours=24)  # transient failures give up after this
    idle_poll: float = 1.0  # longest sleep when nothing is due
    flush_seconds: float = 0.05  # sent results are committed in batches this often
    flush_max: int = 32  # ... or as soon as this many are waiting
    maintenance_seconds: float = 5.0  # how often expired leases are taken back
    peer_check_seconds: float = 1.0  # how often the other workers are counted
    article_ttl: float = 2.0  # a cached article is read again after this many seconds
    allow_paid_broadcast: bool = False


def _chat_arg(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _is_edit(delivery: Delivery) -> bool:
    """A channel post queued again after its story changed: edit the message it sent."""
    return delivery.kind is DeliveryKind.CHANNEL and delivery.message_id is not None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead_owner(owner: str, *, host: str) -> bool:
    """A worker id on this host whose process is gone (or a stale id of this very process)."""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False  # another machine's worker: its lease expiry decides
    pid = int(parts[1])
    if pid == os.getpid():
        return owner not in _LIVE_WORKERS
    return not _pid_alive(pid)


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
    ) -> None:
        self.repo = repo
        self.bot = bot
        self.render = render
        self.clock = clock
        self.wakeup = wakeup
        self.pacing = pacing or PacerConfig()
        self.chats = ChatPacer(self.pacing)
        self.notify = notify
        self.config = config or WorkerConfig()
        self.host = socket.gethostname().replace(":", "_")
        self.id = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_wire: set[asyncio.Task[None]] = set()  # past their turn: never cancelled
        self._articles: OrderedDict[str, tuple[float, Article | None]] = OrderedDict()
        self._renders: dict[tuple[str, DeliveryKind], tuple[Article, Rendered, Prepared]] = {}
        self._recent_floods: list[tuple[float, str]] = []
        self._sent_buffer: list[tuple[int, int, datetime]] = []
        self._flush_lock = asyncio.Lock()
        self._horizon = 0.0  # end of the last global slot this worker reserved
        self._next_local = 0.0  # earliest next send from this worker, by actual send times
        self._window = SendWindow(int(self.pacing.global_per_second))
        self._next_maintenance = 0.0
        self._next_peer_check = 0.0
        self._stopping = asyncio.Event()
        self._flusher_done = asyncio.Event()
        self.sent = 0

    async def run(self) -> None:
        """Send until `stop()`; what is in flight then is finished, what waits goes back."""
        _LIVE_WORKERS.add(self.id)
        flusher = asyncio.create_task(self._flush_loop(), name="outbox-flush")
        try:
            while not self._stopping.is_set():
                await self._maintain()
                await self._fill()
        finally:
            # Sends still waiting for their turn are dropped here (their rows go back below);
            # sends already on the wire finish and are recorded: a clean stop never leaves a
            # message sent but unrecorded (the cause of duplicates).
            for task in self._tasks - self._on_wire:
                task.cancel()
            if self._tasks:
                _, pending = await asyncio.wait(list(self._tasks), timeout=30)
                for task in pending:
                    task.cancel()
            # The flusher is told to stop, never cancelled: a cancel landing inside its
            # commit would drop a batch of recorded sends (and they would go out again).
            self._flusher_done.set()
            await flusher
            await self._flush()
            # Whatever this worker still holds was never sent: back to the queue, now.
            await self.repo.reclaim(now=self.clock(), dead_workers=[self.id])
            _LIVE_WORKERS.discard(self.id)

    def stop(self) -> None:
        """Ask the loop to finish; `run()` returns once in-flight sends are recorded."""
        self._stopping.set()
        self.wakeup.set()

    async def _maintain(self) -> None:
        """Watch the other workers: share the send window, take back what the dead held."""
        now = time.time()
        if now < self._next_peer_check:
            return
        self._next_peer_check = now + self.config.peer_check_seconds
        owners = await self.repo.sending_owners()
        dead = [o for o in owners if is_dead_owner(o, host=self.host)]
        peers = {o for o in owners if o != self.id and o not in dead}
        # The shared budget spaces the workers' slots, but a worker whose loop lags sends
        # late, into the others' slots (at high rates, after a stall, it catches up at the
        # full rate). Each worker's own window then holds only its share of the limit, so
        # together they cannot exceed it in any second. Only when a worker's claim spans
        # less than the window: a longer claim legitimately sends more than the share within
        # one second, and a share cap would push its sends late (measured at 30/s with two
        # workers: 11 429s instead of none).
        rate = self.pacing.global_per_second
        claim_span = self._claim_size() / rate
        share = len(peers) > 0 and claim_span <= self._window.span
        self._window.resize(max(1, int(rate) // (len(peers) + 1)) if share else int(rate))
        if now < self._next_maintenance and not dead:
            return
        self._next_maintenance = now + self.config.maintenance_seconds
        taken = await self.repo.reclaim(now=self.clock(), dead_workers=dead)
        if taken:
            log.warning("re-queued %d deliveries left in flight by a stopped worker", taken)
        self.chats.forget_idle(now)

    async def _fill(self) -> None:
        """Claim what can go within the hold window, or sleep until something is due."""
        now = time.time()
        ahead = self._horizon - now
        if ahead > self.config.hold_seconds or len(self._tasks) >= self.config.concurrency * 64:
            await asyncio.sleep(min(max(ahead - self.config.hold_seconds, 0.005), 0.5))
            return
        budget = self._claim_size()
        moment = self.clock()
        claimed = await self.repo.claim_due(now=moment, limit=budget, worker=self.id)
        if not claimed:
            await self._idle(moment)
            return
        ready: list[tuple[Delivery, float]] = []
        for delivery in claimed:
            chat_ready = self.chats.ready_at(delivery.chat_id, now)
            if chat_ready - now > self.config.hold_seconds:
                # This chat is busy for a while: give the row back instead of holding it.
                await self.repo.mark_retry(
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
        interval = self.pacing.global_interval
        first = await self.repo.reserve_slots(
            scope=GLOBAL_SCOPE, count=len(ready), interval=interval, now=now
        )
        self._horizon = first + len(ready) * interval
        for n, (delivery, chat_ready) in enumerate(ready):
            at = max(first + n * interval, chat_ready)
            self.chats.take(delivery.chat_id, at)
            task = asyncio.create_task(self._deliver(delivery, at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _claim_size(self) -> int:
        """Deliveries claimed at once: what the hold window allows at the global rate."""
        return max(1, min(500, int(self.pacing.global_per_second * self.config.hold_seconds)))

    async def _idle(self, now: datetime) -> None:
        self.wakeup.clear()
        next_due = await self.repo.next_due_at()
        timeout = self.config.idle_poll
        if next_due is not None:
            timeout = min(timeout, max((next_due - now).total_seconds(), 0.01))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), timeout)

    async def _article(self, article_id: str, *, fresh: bool = False) -> Article | None:
        """The article, from a small cache that is refreshed every few seconds.

        A story edited while its fan-out runs reaches the remaining readers in its new form;
        an edit of a sent channel post always reads the stored version (`fresh`).
        """
        now = time.monotonic()
        cached = self._articles.get(article_id)
        if cached is not None and not fresh and now - cached[0] < self.config.article_ttl:
            self._articles.move_to_end(article_id)
            return cached[1]
        article = await self.repo.get_article(article_id)
        self._articles[article_id] = (now, article)
        self._articles.move_to_end(article_id)
        if len(self._articles) > 256:
            self._articles.popitem(last=False)
        return article

    def _rendered(self, article: Article, kind: DeliveryKind) -> tuple[Rendered, Prepared]:
        """Each version of a post is rendered and serialised once, not once per recipient."""
        key = (article.id, kind)
        prepared = self._renders.get(key)
        if prepared is None or prepared[0] is not article:
            rendered = self.render(article, kind)
            prepared = self._renders[key] = (
                article,
                rendered,
                self._prepare(rendered, as_html=True),
            )
            if len(self._renders) > 256:
                self._renders.pop(next(iter(self._renders)))
        return prepared[1], prepared[2]

    def _prepare(self, rendered: Rendered, *, as_html: bool, photo: bool = True) -> Prepared:
        return prepare(
            rendered.html if as_html else plain_text(rendered.html),
            parse_mode=ParseMode.HTML.value if as_html else None,
            keyboard=rendered.keyboard,
            photo=rendered.photo if photo else None,
            allow_paid_broadcast=self.config.allow_paid_broadcast,
        )

    async def _deliver(self, delivery: Delivery, at: float) -> None:
        # Waiting for the turn is plain sleeping (no timers per send: at 1000/s they cost);
        # a stop cancels the sends still waiting, and the rows go back to the queue.
        delay = at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        # Keep the spacing between actual sends too: after a stall of the event loop,
        # late sends must not go out back to back (a window would see a burst).
        wall = time.time()
        start = max(wall, self._next_local)
        self._next_local = start + self.pacing.global_interval
        if start > wall:
            await asyncio.sleep(start - wall)
        await self._slots.acquire()
        if self._stopping.is_set():
            self._slots.release()
            return  # not sent: the stop hands the row back
        task = asyncio.current_task()
        assert task is not None
        self._on_wire.add(task)
        try:
            record = await self._window.enter()
            try:
                await self._send(delivery)
            except Exception:
                # A bug must not lose the delivery: log it and retry it later.
                log.exception(
                    "delivery %d to %s failed unexpectedly", delivery.id, delivery.chat_id
                )
                now = self.clock()
                await self.repo.mark_retry(
                    delivery_id=delivery.id,
                    at=now + timedelta(seconds=backoff(delivery.attempts)),
                    error="internal error",
                    now=now,
                )
            finally:
                record.end = time.time()
        finally:
            self._on_wire.discard(task)
            self._slots.release()

    async def _send(self, delivery: Delivery) -> None:
        article = await self._article(delivery.article_id, fresh=_is_edit(delivery))
        if article is None:
            await self.repo.mark_dead(
                delivery_id=delivery.id, error="article not found", now=self.clock()
            )
            return
        rendered, post = self._rendered(article, delivery.kind)
        try:
            try:
                message_id = await self._put(delivery, post)
            except BadRequest as exc:
                refused = classify(exc).verdict is Verdict.PHOTO_REFUSED
                if not post.is_photo or _is_edit(delivery) or not refused:
                    raise
                # Telegram could not use the image (unreachable, not a picture, too big):
                # the story still goes out, as a text post.
                log.warning("photo of article %s refused (%s); posting it as text", article.id, exc)
                message_id = await self._put(
                    delivery, self._prepare(rendered, as_html=True, photo=False)
                )
        except TelegramError as exc:
            outcome = classify(exc)
            if outcome.verdict is Verdict.UNCHANGED and delivery.message_id is not None:
                # The post already reads like this (an edit that was sent before a crash).
                message_id = delivery.message_id
            else:
                await self._apply(delivery, article, rendered, outcome)
                return
        self._sent_buffer.append((delivery.id, message_id, self.clock()))
        self.sent += 1
        if len(self._sent_buffer) >= self.config.flush_max:
            # A busy loop runs the flusher late: bound what a crash could leave unrecorded.
            await self._flush()

    async def _put(self, delivery: Delivery, post: Prepared) -> int:
        """Send the post, or edit the channel post sent before when the story changed."""
        chat = _chat_arg(delivery.chat_id)
        if _is_edit(delivery):
            assert delivery.message_id is not None
            return await self.bot.edit_prepared(chat, delivery.message_id, post)
        return await self.bot.send_prepared(chat, post)

    async def _flush_loop(self) -> None:
        while not self._flusher_done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flusher_done.wait(), self.config.flush_seconds)
            try:
                await self._flush()
            except Exception:
                # The batch went back to the buffer; the next round tries again.
                log.exception("could not record sent deliveries; retrying")

    async def _flush(self) -> None:
        """Commit sent results in one transaction (a crash loses at most this buffer).

        One flush at a time: senders that fill the buffer meanwhile wait here, so what a
        kill can leave sent-but-unrecorded stays bounded (buffer + flush + in flight).
        """
        async with self._flush_lock:
            batch, self._sent_buffer = self._sent_buffer, []
            if not batch:
                return
            try:
                await self.repo.mark_sent_many(batch)
            except BaseException:
                # Not committed: keep the results so a later flush records them.
                self._sent_buffer[:0] = batch
                raise

    async def _apply(
        self, delivery: Delivery, article: Article, rendered: Rendered, outcome: Outcome
    ) -> None:
        """The failure policy: one place decides what each answer means."""
        now = self.clock()
        verdict = outcome.verdict
        if verdict is Verdict.FLOOD:
            await self._flooded(delivery.chat_id, outcome.retry_after)
            await self.repo.mark_retry(
                delivery_id=delivery.id,
                at=now + timedelta(seconds=outcome.retry_after),
                error=outcome.reason,
                now=now,
                count_attempt=False,
            )
        elif verdict is Verdict.BLOCKED:
            await self.repo.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
            if delivery.kind is DeliveryKind.READER and delivery.chat_id.lstrip("-").isdigit():
                await self.repo.deactivate_chat(
                    chat_id=int(delivery.chat_id), reason=outcome.reason, now=now
                )
                log.info("reader %s is gone (%s): unsubscribed", delivery.chat_id, outcome.reason)
            else:
                await self._alert(f"Cannot post to {delivery.chat_id}: {outcome.reason}")
        elif verdict in (Verdict.CHAT_GONE, Verdict.REJECTED, Verdict.PHOTO_REFUSED):
            await self.repo.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
            if _is_edit(delivery):
                await self._alert(
                    f"Could not update the post of “{article.title}” in {delivery.chat_id}"
                    f" ({outcome.reason}); it was not posted again."
                )
            else:
                await self._alert(
                    f"Gave up on “{article.title}” for {delivery.chat_id}: {outcome.reason}"
                )
        elif verdict is Verdict.MIGRATED and outcome.new_chat_id is not None:
            new_id = str(outcome.new_chat_id)
            await self.repo.migrate_chat(old_chat_id=delivery.chat_id, new_chat_id=new_id, now=now)
            await self.repo.mark_retry(
                delivery_id=delivery.id, at=now, error=outcome.reason, now=now, count_attempt=False
            )
            self.wakeup.set()
            log.info("chat %s moved to %s; resending there", delivery.chat_id, new_id)
        elif verdict is Verdict.BAD_MARKUP:
            log.error(
                "Telegram refused the HTML of article %s (%s); sending it as plain text",
                article.id,
                outcome.reason,
            )
            try:
                message_id = await self._put(delivery, self._prepare(rendered, as_html=False))
            except TelegramError as exc:
                await self._apply_transient(delivery, classify(exc).reason, now)
                return
            self._sent_buffer.append((delivery.id, message_id, now))
        else:
            await self._apply_transient(delivery, outcome.reason, now)

    async def _apply_transient(self, delivery: Delivery, reason: str, now: datetime) -> None:
        if now - delivery.created_at > self.config.max_age:
            error = f"gave up after {delivery.attempts} tries: {reason}"
            await self.repo.mark_dead(delivery_id=delivery.id, error=error, now=now)
            await self._alert(f"Gave up on delivery {delivery.id} to {delivery.chat_id}: {reason}")
            return
        delay = backoff(delivery.attempts)
        log.warning(
            "delivery %d to %s failed (%s); retry in %.1fs",
            delivery.id,
            delivery.chat_id,
            reason,
            delay,
        )
        await self.repo.mark_retry(
            delivery_id=delivery.id, at=now + timedelta(seconds=delay), error=reason, now=now
        )

    async def _flooded(self, chat_id: str, retry_after: float) -> None:
        """Pause the refused scope: the chat, or everyone when several chats are refused."""
        now = time.time()
        until = now + retry_after
        self.chats.penalize_chat(chat_id, until)
        self._recent_floods = [(t, c) for t, c in self._recent_floods if now - t < 1.0]
        self._recent_floods.append((now, chat_id))
        if len({c for _, c in self._recent_floods}) > 1:
            # Several chats refused at once: the limit is global, so every worker waits.
            self.chats.pause_all(until)
            await self.repo.pause_scope(scope=GLOBAL_SCOPE, until=until)
            log.warning("Telegram asked everyone to wait %.0fs", retry_after)
        else:
            log.warning("Telegram asked to wait %.0fs for chat %s", retry_after, chat_id)

    async def _alert(self, text: str) -> None:
        log.error("%s", text)
        if self.notify is not None:
            await self.notify(text)
