"""Applying a policy verdict to a delivery: retry, dead, flood wait, migrate, deactivate, notify."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram.error import TelegramError

from bot.delivery.caches import RenderCache
from bot.delivery.pacing import GLOBAL_SCOPE, ChatPacer
from bot.delivery.policy import Outcome, Verdict, backoff, classify
from bot.delivery.recorder import Recorder
from bot.delivery.transport import NO_OPTIONS, Prepared
from bot.rendering import Rendered
from content.models import Article, Delivery, DeliveryKind, chat_id_of
from content.routing import Effective
from content.storage import Repository

log = logging.getLogger(__name__)

Notifier = Callable[[str], Awaitable[None]]
Putter = Callable[[Delivery, Prepared], Awaitable[int]]


def is_edit(delivery: Delivery) -> bool:
    """A channel post (or an editor's preview) queued again: edit the message it sent."""
    edited = (DeliveryKind.CHANNEL, DeliveryKind.REVIEW)
    return delivery.kind in edited and delivery.message_id is not None


class Outcomes:
    """What happens to a delivery once Telegram has answered with an error."""

    def __init__(
        self,
        *,
        repo: Repository,
        clock: Callable[[], datetime],
        chats: ChatPacer,
        recorder: Recorder,
        renders: RenderCache,
        put: Putter,
        wakeup: asyncio.Event,
        notify: Notifier | None = None,
        max_age: timedelta = timedelta(hours=24),
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.chats = chats
        self.recorder = recorder
        self.renders = renders
        self.put = put
        self.wakeup = wakeup
        self.notify = notify
        self.max_age = max_age
        self._recent_floods: list[tuple[float, str]] = []

    async def apply(
        self,
        delivery: Delivery,
        article: Article,
        rendered: Rendered,
        outcome: Outcome,
        *,
        options: Effective = NO_OPTIONS,
    ) -> None:
        """The failure policy: one place decides what each answer means.

        `options`: the channel post's publish options, kept by a plain-text resend.
        """
        now = self.clock()
        verdict = outcome.verdict
        if verdict is Verdict.FLOOD:
            await self.flooded(delivery.chat_id, outcome.retry_after)
            await self.repo.outbox.mark_retry(
                delivery_id=delivery.id,
                at=now + timedelta(seconds=outcome.retry_after),
                error=outcome.reason,
                now=now,
                count_attempt=False,
            )
        elif verdict is Verdict.BLOCKED:
            await self.repo.outbox.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
            # A reader's chat (a story, a digest): the reader is gone, not a channel broken.
            reader = delivery.kind is not DeliveryKind.CHANNEL
            if reader and delivery.chat_id.lstrip("-").isdigit():
                await self.repo.readers.deactivate(
                    chat_id=delivery.chat_id, reason=outcome.reason, now=now
                )
                log.info("reader %s is gone (%s): unsubscribed", delivery.chat_id, outcome.reason)
            else:
                await self.alert(f"Cannot post to {delivery.chat_id}: {outcome.reason}")
        elif verdict in (Verdict.CHAT_GONE, Verdict.REJECTED, Verdict.PHOTO_REFUSED):
            await self.repo.outbox.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
            if is_edit(delivery):
                await self.alert(
                    f"Could not update the post of “{article.title}” in {delivery.chat_id}"
                    f" ({outcome.reason}); it was not posted again."
                )
            else:
                await self.alert(
                    f"Gave up on “{article.title}” for {delivery.chat_id}: {outcome.reason}"
                )
        elif verdict is Verdict.MIGRATED and outcome.new_chat_id is not None:
            new_id = chat_id_of(outcome.new_chat_id)
            await self.repo.readers.move_chat(
                old_chat_id=delivery.chat_id, new_chat_id=new_id, now=now
            )
            await self.repo.outbox.mark_retry(
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
                plain = self.renders.prepare(rendered, as_html=False, options=options)
                message_id = await self.put(delivery, plain)
            except TelegramError as exc:
                await self.transient(delivery, classify(exc).reason, now)
                return
            await self.recorder.record_sent(delivery.id, message_id)
        else:
            await self.transient(delivery, outcome.reason, now)

    async def transient(self, delivery: Delivery, reason: str, now: datetime) -> None:
        """Retry later with backoff; after `max_age`, give up and tell the editors."""
        if now - delivery.created_at > self.max_age:
            error = f"gave up after {delivery.attempts} tries: {reason}"
            await self.repo.outbox.mark_dead(delivery_id=delivery.id, error=error, now=now)
            await self.alert(f"Gave up on delivery {delivery.id} to {delivery.chat_id}: {reason}")
            return
        delay = backoff(delivery.attempts)
        log.warning(
            "delivery %d to %s failed (%s); retry in %.1fs",
            delivery.id,
            delivery.chat_id,
            reason,
            delay,
        )
        await self.repo.outbox.mark_retry(
            delivery_id=delivery.id, at=now + timedelta(seconds=delay), error=reason, now=now
        )

    async def flooded(self, chat_id: str, retry_after: float) -> None:
        """Pause the refused scope: the chat, or everyone when several chats are refused."""
        await self.repo.activity.count_throttled(now=self.clock())  # the /stats chart
        now = time.monotonic()
        until = now + retry_after
        self.chats.penalize_chat(chat_id, until)
        self._recent_floods = [(t, c) for t, c in self._recent_floods if now - t < 1.0]
        self._recent_floods.append((now, chat_id))
        if len({c for _, c in self._recent_floods}) > 1:
            # Several chats refused at once: the limit is global, so every worker waits
            # (the shared budget is in epoch seconds, the one clock all workers share).
            self.chats.pause_all(until)
            wall = time.time()
            await self.repo.budget.pause_scope(
                scope=GLOBAL_SCOPE, until=wall + retry_after, now=wall
            )
            log.warning("Telegram asked everyone to wait %.0fs", retry_after)
        else:
            log.warning("Telegram asked to wait %.0fs for chat %s", retry_after, chat_id)

    async def alert(self, text: str) -> None:
        log.error("%s", text)
        if self.notify is not None:
            await self.notify(text)
