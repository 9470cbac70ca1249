"""Sending one claimed delivery: render it, apply the publish options, put it on the wire.

The worker (worker.py) decides when each delivery goes; this decides what goes: the post in
the reader's language or the outlet's, the channel's publish options at this moment, a
photo refused and sent as text, a pin after a breaking post, a delete for a withdrawn story,
a digest bundling held stories. Answers are recorded (recorder.py) or handed to the failure
policy (outcomes.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from telegram.error import BadRequest, TelegramError

from bot import metrics
from bot.delivery.caches import ArticleCache, RenderCache, Renderer, VoiceCache
from bot.delivery.outcomes import Outcomes, is_edit
from bot.delivery.pacing import ChatPacer
from bot.delivery.pins import Pinner
from bot.delivery.policy import Verdict, classify
from bot.delivery.recorder import Recorder
from bot.delivery.supervise import describe
from bot.delivery.transport import NO_OPTIONS, DeliveryBot, Prepared, chat_arg
from bot.delivery.withdrawals import delete_post
from bot.rendering import i18n
from bot.rendering.digests import digest as render_digest
from content.digests import choose
from content.models import Article, Delivery, DeliveryKind
from content.pipeline import is_breaking
from content.preferences import QuietHours
from content.routing import ChannelOptions, Effective, options_for, publish_options, target_of
from content.storage import Repository

log = logging.getLogger(__name__)

BUNDLES = (DeliveryKind.DIGEST, DeliveryKind.AWAY)  # one message bundling held stories

Notifier = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Publishing:
    """How channel posts go out: CHANNEL_OPTIONS, CHANNEL_QUIET_HOURS, PIN_BREAKING, PIN_HOURS."""

    channel_options: Mapping[str, ChannelOptions] = field(default_factory=dict)
    quiet: QuietHours | None = None
    pin_breaking: bool = True
    pin_hours: float = 6.0


def _chat_arg(chat_id: str) -> tuple[int | str, int | None]:
    """The chat and forum topic of a delivery's chat: "chat", or "chat:thread" (a Target key)."""
    target = target_of(chat_id)
    return chat_arg(target.chat), target.thread


class Sender:
    """Turns one claimed delivery into the Bot API call it needs, and records the answer."""

    def __init__(
        self,
        *,
        repo: Repository,
        bot: DeliveryBot,
        render: Renderer,
        clock: Callable[[], datetime],
        chats: ChatPacer,
        recorder: Recorder,
        wakeup: asyncio.Event,
        notify: Notifier | None,
        zone: tzinfo,
        publishing: Publishing,
        article_ttl: float,
        allow_paid_broadcast: bool,
        max_age: timedelta,
    ) -> None:
        self.repo = repo
        self.bot = bot
        self.clock = clock
        self.recorder = recorder
        self.zone = zone
        self.publishing = publishing
        self.articles = ArticleCache(repo.articles.get, ttl=article_ttl)
        self.renders = RenderCache(render, allow_paid_broadcast=allow_paid_broadcast)
        # Readers' alerts in their language and zone; `zone` is the outlet's (channels).
        self.voices = VoiceCache(repo.readers.settings_of_many, zone=zone)
        self.outcomes = Outcomes(
            repo=repo,
            clock=clock,
            chats=chats,
            recorder=recorder,
            renders=self.renders,
            put=self._put,
            wakeup=wakeup,
            notify=notify,
            max_age=max_age,
        )
        self.pins = Pinner(repo=repo, bot=bot, hours=publishing.pin_hours, notify=notify)

    async def send(self, delivery: Delivery) -> None:
        """Send (or edit, or delete) one claimed delivery and record what Telegram answered."""
        if delivery.delete_due:  # the story was withdrawn: delete its post (withdrawals.py)
            await delete_post(delivery, bot=self.bot, outcomes=self.outcomes)
            return
        if delivery.kind in BUNDLES:
            await self._send_bundle(delivery)
            return
        article = await self.articles.get(delivery.article_id, fresh=is_edit(delivery))
        if article is None:
            await self.repo.outbox.mark_dead(
                delivery_id=delivery.id, error="article not found", now=self.clock()
            )
            return
        voice = self.voices.outlet
        if delivery.kind in (DeliveryKind.READER, DeliveryKind.REVIEW):  # an editor's language
            voice = await self.voices.get(delivery.chat_id)
        rendered, post = self.renders.get(article, delivery.kind, voice)
        options = NO_OPTIONS
        if delivery.kind is DeliveryKind.CHANNEL:
            options = self._publish_options(article, delivery, has_photo=post.is_photo)
            if options != NO_OPTIONS:
                rendered, post = self.renders.get(article, delivery.kind, voice, options)
        try:
            try:
                message_id = await self._put(delivery, post)
            except BadRequest as exc:
                refused = classify(exc).verdict is Verdict.PHOTO_REFUSED
                if not post.is_photo or is_edit(delivery) or not refused:
                    raise
                # Telegram could not use the image (unreachable, not a picture, too big):
                # the story still goes out, as a text post.
                log.warning("photo of article %s refused (%s); posting it as text", article.id, exc)
                text_post = self.renders.prepare(rendered, photo=False, options=options)
                message_id = await self._put(delivery, text_post)
        except TelegramError as exc:
            outcome = classify(exc)
            if outcome.verdict is Verdict.UNCHANGED and delivery.message_id is not None:
                # The post already reads like this (an edit that was sent before a crash).
                message_id = delivery.message_id
            else:
                await self.outcomes.apply(delivery, article, rendered, outcome, options=options)
                return
        sent_at = self.clock()
        await self.recorder.record_sent(delivery.id, message_id)
        metrics.posted(delivery, sent_at)  # ingest-to-post latency of a new channel post
        if options.pin and not is_edit(delivery):
            await self.pins.pin(
                delivery_id=delivery.id, key=delivery.chat_id, message_id=message_id, now=sent_at
            )

    def _publish_options(
        self, article: Article, delivery: Delivery, *, has_photo: bool
    ) -> Effective:
        """The story's, the channel's and the hour's say, for this channel post now."""
        rules = self.publishing
        return publish_options(
            article.options,
            options_for(target_of(delivery.chat_id), rules.channel_options),
            url=article.url,
            has_photo=has_photo,
            quiet=rules.quiet,
            now=self.clock(),
            zone=self.zone,
            breaking=is_breaking(article),
            pin_breaking=rules.pin_breaking,
        )

    async def read_voices(self, claimed: list[Delivery]) -> None:
        """The languages and zones of a claim's readers, in one query (not one per send)."""
        try:
            await self.voices.prefetch(d.chat_id for d in claimed if d.kind is DeliveryKind.READER)
        except Exception as exc:
            # The rows are held already: each send reads its reader alone instead.
            log.warning("could not read the readers' settings (%s)", describe(exc))

    async def _send_bundle(self, delivery: Delivery) -> None:
        """A digest or "While you were away": one message listing the bundled stories."""
        stories = await self.repo.outbox.bundled(
            digest_id=delivery.id, chat_id=delivery.chat_id, now=self.clock()
        )
        if not stories:
            # Every story was withdrawn or embargoed again since: no digest of nothing.
            await self.repo.outbox.mark_dead(
                delivery_id=delivery.id, error="no stories left", now=self.clock()
            )
            return
        settings = await self.repo.readers.settings_of(delivery.chat_id)
        with i18n.using(i18n.translations_for(settings.language)):
            rendered = render_digest(choose(stories), kind=delivery.kind, digest_id=delivery.id)
        try:
            message_id = await self._put(delivery, self.renders.prepare(rendered))
        except TelegramError as exc:
            # The failure policy as for any send (its alerts name the bundle, for editors).
            title = f"{delivery.kind.value} of {len(stories)} stories"
            subject = Article(id=delivery.article_id, title=title, blocks=())
            await self.outcomes.apply(delivery, subject, rendered, classify(exc))
            return
        await self.recorder.record_sent(delivery.id, message_id)

    async def _put(self, delivery: Delivery, post: Prepared) -> int:
        """Send the post, or edit the channel post sent before when the story changed."""
        chat, thread = _chat_arg(delivery.chat_id)
        if is_edit(delivery):
            assert delivery.message_id is not None
            return await self.bot.edit_prepared(chat, delivery.message_id, post)
        return await self.bot.send_prepared(chat, post, thread=thread)
