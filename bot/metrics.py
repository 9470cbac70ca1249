"""Prometheus metrics: one registry for the process, the metric objects, and their few hooks.

One process runs one Newswire, so the counters are process-wide; they live in a registry of
their own (not prometheus-client's global one) so nothing else registered in the process
shows up in, or collides with, `/metrics`. Tests that run several stacks in one process read
differences, never absolute values. The outbox gauges are read from the database at scrape
time (`refresh_outbox`): every process answers with the same, database-wide figures.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from telegram import Update
from telegram.error import RetryAfter, TelegramError

from bot.delivery.policy import classify
from content.models import Delivery, DeliveryKind, DeliveryState
from content.storage import Repository

__all__ = ["CONTENT_TYPE", "REGISTRY", "exposition"]

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files: worth having on every process
PlatformCollector(registry=REGISTRY)

SENDS = Counter(
    "newswire_sends",
    "Bot API calls made by the delivery worker, by method and outcome (ok or the policy verdict).",
    ["method", "outcome"],
    registry=REGISTRY,
)
THROTTLED = Counter(
    "newswire_throttled",
    "Bot API calls of the delivery worker refused with 429 Too Many Requests.",
    registry=REGISTRY,
)
DELIVERIES = Gauge(
    "newswire_deliveries",
    "Deliveries in the outbox by state (database-wide, read at scrape time).",
    ["state"],
    registry=REGISTRY,
)
OLDEST_PENDING = Gauge(
    "newswire_oldest_pending_seconds",
    "Age of the longest-waiting unsent delivery since it was planned (0: none waits).",
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "newswire_send_seconds",
    "Duration of the delivery worker's Bot API calls.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
INGEST_TO_POST = Histogram(
    "newswire_ingest_to_post_seconds",
    "From a story's channel post being planned (right after ingest) to it being posted.",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600),
    registry=REGISTRY,
)
FEED_POLLS = Counter(
    "newswire_feed_polls",
    "Polls of feeds and WordPress sites, by result (ok, unchanged, failed).",
    ["result"],
    registry=REGISTRY,
)
UPDATES = Counter(
    "newswire_updates",
    "Telegram updates received, by type (message, callback_query, inline_query, ...).",
    ["type"],
    registry=REGISTRY,
)

for _state in DeliveryState:
    DELIVERIES.labels(state=_state.value)  # every state is shown, 0 before the first scrape


@contextlib.contextmanager
def timed_call(method: str) -> Iterator[None]:
    """Time one worker API call and count it by method and outcome (429s also as throttled)."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except TelegramError as exc:
        outcome = classify(exc).verdict.value
        if isinstance(exc, RetryAfter):
            THROTTLED.inc()
        raise
    except BaseException:
        outcome = "error"  # not an answer from Telegram: cancelled, or a bug
        raise
    finally:
        SEND_SECONDS.observe(time.perf_counter() - started)
        SENDS.labels(method=method, outcome=outcome).inc()


def posted(delivery: Delivery, now: datetime) -> None:
    """A send was recorded: a new channel post's wait since planning is ingest-to-post."""
    if delivery.kind is DeliveryKind.CHANNEL and delivery.message_id is None:
        INGEST_TO_POST.observe(max(0.0, (now - delivery.created_at).total_seconds()))


def feed_polled(result: str) -> None:
    """One source was polled (PollConfig.observe)."""
    FEED_POLLS.labels(result=result).inc()


def update_type(update: Update) -> str:
    """The kind of update: the name of its one filled field ("other" for none we know)."""
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return str(kind)
    return "other"


def count_update(update: object) -> None:
    """One update arrived (the early TypeHandler)."""
    UPDATES.labels(type=update_type(update) if isinstance(update, Update) else "other").inc()


async def refresh_outbox(repo: Repository, *, now: datetime) -> None:
    """Set the outbox gauges from the database (before each scrape)."""
    counts = await repo.outbox.counts(since=now)
    for state in DeliveryState:
        DELIVERIES.labels(state=state.value).set(counts.by_state.get(state, 0))
    oldest = await repo.outbox.oldest_pending_since()
    OLDEST_PENDING.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)


def exposition() -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(REGISTRY)
