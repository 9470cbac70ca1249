"""The outbox worker: claims due deliveries, paces them, sends them, applies the policy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.delivery.pacing import Pacer
from bot.delivery.policy import Outcome, Verdict, backoff, classify
from bot.rendering import Rendered, plain_text
from content.models import Article, Delivery, DeliveryKind
from content.storage import Repository

log = logging.getLogger(__name__)

Renderer = Callable[[Article, Delivery], Rendered]
Notifier = Callable[[str], Awaitable[None]]


@dataclass
class WorkerConfig:
    concurrency: int = 16  # sends in flight at once (bounds duplicates after a crash)
    hold_seconds: float = 2.0  # a claimed send waits in memory at most this long
    max_age: timedelta = timedelta(hours=24)  # transient failures give up after this
    idle_poll: float = 1.0  # longest sleep when nothing is due
    allow_paid_broadcast: bool = False


def _chat_arg(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class DeliveryWorker:
    """One loop that drains the outbox under every rate limit at once."""

    def __init__(
        self,
        *,
        repo: Repository,
        bot: Bot,
        render: Renderer,
        pacer: Pacer,
        clock: Callable[[], datetime],
        wakeup: asyncio.Event,
        notify: Notifier | None = None,
        config: WorkerConfig | None = None,
    ) -> None:
        self.repo = repo
        self.bot = bot
        self.render = render
        self.pacer = pacer
        self.clock = clock
        self.wakeup = wakeup
        self.notify = notify
        self.config = config or WorkerConfig()
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._articles: OrderedDict[str, Article | None] = OrderedDict()
        self._recent_floods: list[tuple[float, str]] = []
        self.sent = 0

    @property
    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def run(self) -> None:
        """Send until cancelled; in-flight sends finish or are recovered at the next start."""
        recovered = await self.repo.recover_in_flight(now=self.clock())
        if recovered:
            log.warning("re-queued %d deliveries that were in flight at the last stop", recovered)
        try:
            while True:
                await self._fill()
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _fill(self) -> None:
        """Claim what can go within the hold window, or sleep until something is due."""
        loop_now = self._loop_time
        # Don't claim more than the pacer can place inside the hold window.
        horizon = self.pacer.global_ready_at(loop_now) - loop_now
        if horizon > self.config.hold_seconds or len(self._tasks) >= self.config.concurrency * 4:
            await asyncio.sleep(min(max(horizon - self.config.hold_seconds, 0.01), 0.5))
            return
        budget = max(1, int(self.pacer.config.global_per_second * self.config.hold_seconds))
        now = self.clock()
        claimed = await self.repo.claim_due(now=now, limit=budget)
        if not claimed:
            await self._idle(now)
            return
        for delivery in claimed:
            chat_ready = self.pacer.chat_ready_at(delivery.chat_id, self._loop_time)
            wait = chat_ready - self._loop_time
            if wait > self.config.hold_seconds:
                # This chat is busy for a while: give the row back instead of holding it.
                await self.repo.mark_retry(
                    delivery_id=delivery.id,
                    at=now + timedelta(seconds=wait),
                    error=delivery.last_error or "paced",
                    now=now,
                    count_attempt=False,
                )
                continue
            at = self.pacer.reserve(delivery.chat_id, self._loop_time)
            task = asyncio.create_task(self._deliver(delivery, at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _idle(self, now: datetime) -> None:
        self.wakeup.clear()
        next_due = await self.repo.next_due_at()
        timeout = self.config.idle_poll
        if next_due is not None:
            timeout = min(timeout, max((next_due - now).total_seconds(), 0.01))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), timeout)

    async def _article(self, article_id: str) -> Article | None:
        if article_id in self._articles:
            self._articles.move_to_end(article_id)
            return self._articles[article_id]
        article = await self.repo.get_article(article_id)
        self._articles[article_id] = article
        if len(self._articles) > 256:
            self._articles.popitem(last=False)
        return article

    async def _deliver(self, delivery: Delivery, at: float) -> None:
        delay = at - self._loop_time
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._slots:
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

    async def _send(self, delivery: Delivery) -> None:
        article = await self._article(delivery.article_id)
        now = self.clock()
        if article is None:
            await self.repo.mark_dead(delivery_id=delivery.id, error="article not found", now=now)
            return
        rendered = self.render(article, delivery)
        try:
            message = await self._post(delivery.chat_id, rendered, as_html=True)
        except TelegramError as exc:
            await self._apply(delivery, article, rendered, classify(exc))
            return
        await self.repo.mark_sent(delivery_id=delivery.id, message_id=message, now=self.clock())
        self.sent += 1

    async def _post(self, chat_id: str, rendered: Rendered, *, as_html: bool) -> int:
        extra = {"allow_paid_broadcast": True} if self.config.allow_paid_broadcast else {}
        message = await self.bot.send_message(
            chat_id=_chat_arg(chat_id),
            text=rendered.html if as_html else plain_text(rendered.html),
            parse_mode=ParseMode.HTML if as_html else None,
            reply_markup=rendered.keyboard,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            **extra,  # type: ignore[arg-type]
        )
        return message.message_id

    async def _apply(
        self, delivery: Delivery, article: Article, rendered: Rendered, outcome: Outcome
    ) -> None:
        now = self.clock()
        verdict = outcome.verdict
        if verdict is Verdict.FLOOD:
            self._flooded(delivery.chat_id, outcome.retry_after)
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
        elif verdict is Verdict.CHAT_GONE or verdict is Verdict.REJECTED:
            await self.repo.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
            await self._alert(
                f"Gave up on “{article.title}” for {delivery.chat_id}: {outcome.reason}"
            )
        elif verdict is Verdict.MIGRATED and outcome.new_chat_id is not None:
            new_id = str(outcome.new_chat_id)
            await self.repo.migrate_chat(old_chat_id=delivery.chat_id, new_chat_id=new_id, now=now)
            await self.repo.mark_retry(
                delivery_id=delivery.id, at=now, error=outcome.reason, now=now, count_attempt=False
            )
            log.info("chat %s moved to %s; resending there", delivery.chat_id, new_id)
        elif verdict is Verdict.BAD_MARKUP:
            log.error(
                "Telegram refused the HTML of article %s (%s); sending it as plain text",
                article.id,
                outcome.reason,
            )
            try:
                message = await self._post(delivery.chat_id, rendered, as_html=False)
            except TelegramError as exc:
                await self._apply_transient(delivery, classify(exc).reason, now)
                return
            await self.repo.mark_sent(delivery_id=delivery.id, message_id=message, now=now)
        else:
            await self._apply_transient(delivery, outcome.reason, now)

    async def _apply_transient(self, delivery: Delivery, reason: str, now: datetime) -> None:
        if now - delivery.created_at > self.config.max_age:
            await self.repo.mark_dead(
                delivery_id=delivery.id,
                error=f"gave up after {delivery.attempts} tries: {reason}",
                now=now,
            )
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

    def _flooded(self, chat_id: str, retry_after: float) -> None:
        """Pause the refused scope: the chat, or everyone when several chats are refused."""
        loop_now = self._loop_time
        until = loop_now + retry_after
        self.pacer.penalize_chat(chat_id, until)
        self._recent_floods = [(t, c) for t, c in self._recent_floods if loop_now - t < 1.0]
        self._recent_floods.append((loop_now, chat_id))
        distinct = {c for _, c in self._recent_floods}
        if len(distinct) > 1:
            self.pacer.pause_all(until)
            log.warning("Telegram asked everyone to wait %.0fs", retry_after)
        else:
            log.warning("Telegram asked to wait %.0fs for chat %s", retry_after, chat_id)

    async def _alert(self, text: str) -> None:
        log.error("%s", text)
        if self.notify is not None:
            await self.notify(text)
