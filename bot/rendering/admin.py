"""Editors' views: /stats and /retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.delivery.liveness import WorkerHealth
from bot.rendering.i18n import _
from bot.rendering.text import Rendered, escape, notice, shorten
from content.models import Delivery, DeliveryState
from content.storage import OutboxCounts
from content.storage.activity import ActivityMinute
from content.storage.outbox import SentMinute


@dataclass(frozen=True, slots=True)
class SendingHealth:
    """Is sending alive: this process's worker (None: it runs elsewhere), the queue's wait."""

    worker: WorkerHealth | None
    oldest_pending: timedelta | None  # None: nothing waits


@dataclass(frozen=True, slots=True)
class ActivitySeries:
    """What the chart draws: sends and activity per minute in [start, end), and the zone."""

    start: datetime
    end: datetime
    zone: tzinfo
    sent: Sequence[SentMinute]
    activity: Sequence[ActivityMinute]

    @property
    def channel_total(self) -> int:
        return sum(m.channel for m in self.sent)

    @property
    def readers_total(self) -> int:
        return sum(m.readers for m in self.sent)

    @property
    def throttled_total(self) -> int:
        return sum(m.throttled for m in self.activity)

    @property
    def zone_name(self) -> str:
        """The zone as editors set it (TIMEZONE), else its abbreviation at the end."""
        return str(getattr(self.zone, "key", None) or self.end.astimezone(self.zone).tzname())


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def _sending(health: SendingHealth) -> list[str]:
    worker = health.worker
    if worker is None:
        state = _("Worker: none in this process (run with --role worker elsewhere)")
    elif not worker.alive:
        state = _("Worker: <b>not running</b>")
    elif worker.failing_for:
        state = _("Worker: <b>failing</b>, {rounds}× in a row: {error}").format(
            rounds=worker.failing_for, error=escape(shorten(worker.last_error or "?", 80))
        )
    elif worker.last_tick_age is None:
        state = _("Worker: alive, starting")
    else:
        state = _("Worker: alive, last round {age} ago").format(age=_age(worker.last_tick_age))
    if health.oldest_pending is None:
        oldest = _("Oldest pending: none")
    else:
        oldest = _("Oldest pending: {age}").format(age=_age(health.oldest_pending.total_seconds()))
    return ["", state, oldest]


def stats(
    counts: OutboxCounts,
    *,
    subscribers: int,
    dead: Sequence[Delivery],
    sending: SendingHealth | None = None,
) -> Rendered:
    """/stats for editors: outbox by state, last hour, audience, sending health, dead letters."""
    lines = [_("📊 <b>Delivery</b>"), ""]
    for state in DeliveryState:
        lines.append(f"{state.value}: {counts.by_state.get(state, 0)}")
    lines += [
        "",
        _("Last hour: {sent} sent, {failed} failed").format(
            sent=counts.sent_last_hour, failed=counts.failed_last_hour
        ),
        _("Active subscribers: {count}").format(count=subscribers),
    ]
    if sending is not None:
        lines += _sending(sending)
    if dead:
        lines += ["", _("<b>Dead letters</b> (newest first)")]
        for item in dead:
            reason = shorten(item.last_error or _("unknown"), 80)
            lines.append(f"• {escape(item.article_id)} → {escape(item.chat_id)}: {escape(reason)}")
        lines.append(_("Re-queue an article's with /retry <i>article id</i>."))
    return Rendered("\n".join(lines))


def stats_chart_caption(series: ActivitySeries) -> str:
    """The /stats chart's caption (plain text): the 24 hours' totals and the zone."""
    return _(
        "Last 24 hours ({zone}): channel posts {channel}, reader messages {readers},"
        " 429s {throttled}"
    ).format(
        zone=series.zone_name,
        channel=series.channel_total,
        readers=series.readers_total,
        throttled=series.throttled_total,
    )


def retried(article_id: str, count: int) -> Rendered:
    if count == 0:
        return Rendered(_("No dead deliveries for {id}.").format(id=escape(article_id)))
    return Rendered(
        _("Re-queued {count} dead deliveries of {id}.").format(count=count, id=escape(article_id))
    )


def usage_retry() -> Rendered:
    return notice(_("Usage: /retry <article id> (see /stats)."))
