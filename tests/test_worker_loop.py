"""The worker's loop against a real SQLite outbox and the sandbox: it survives, it records."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import tzinfo
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from telegram.error import RetryAfter

from bot.delivery import liveness
from bot.delivery.pacing import GLOBAL_SCOPE, PacerConfig
from bot.delivery.replies import SharedBudgetLimiter
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.rendering import Rendered
from content.models import Article, DeliveryKind, DeliveryState
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for
from tests.support.worker import TOKEN, WorkerRig, now, simple_render, worker_rig

READERS = [2001, 2002, 2003]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[WorkerRig]:
    async with worker_rig(tmp_path) as built:
        yield built


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    # After the repository's own pragmas: give up on a lock in 0.1 s instead of 10 s, so a
    # lock held for a moment here stands for the 13 s one seen in production.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=100")
    cursor.close()


async def test_sending_resumes_after_the_database_was_locked(
    rig: WorkerRig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.readers_following(READERS)
    await rig.publish("s1", "Otters return")
    await rig.repo.engine.dispose()  # new connections get the short timeout
    event.listen(rig.repo.engine.sync_engine, "connect", _short_busy_timeout)
    holder = sqlite3.connect(rig.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        caplog.set_level(logging.WARNING)
        worker = rig.start()
        await wait_for(lambda: worker.health().failing_for >= 1, what="a refused round")
        assert worker.health().alive
    finally:
        holder.rollback()
        holder.close()
    await wait_for(
        lambda: all(rig.received(r) == ["Otters return"] for r in READERS),
        timeout=20,
        what="every delivery sent once the lock is released",
    )
    await wait_for(lambda: worker.health().failing_for == 0, what="a clean round")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("database is locked" in w for w in warnings)
    assert not any(TOKEN in w or "SELECT" in w or "UPDATE" in w for w in warnings)
    await rig.stop(worker)
    assert {d.state for d in await deliveries_of(rig.repo, "s1")} == {DeliveryState.SENT}


async def test_a_plain_text_resend_is_counted_and_recorded_like_any_send(rig: WorkerRig) -> None:
    def refused_html(article: Article, kind: DeliveryKind, zone: tzinfo) -> Rendered:
        return Rendered(f"<p>{article.title}", None)  # a tag Telegram refuses

    await rig.readers_following(READERS)
    await rig.publish("s1", "Otters return")
    worker = rig.start(render=refused_html)
    await wait_for(
        lambda: all(rig.received(r) == ["Otters return"] for r in READERS),
        what="the plain-text resends",
    )
    await rig.stop(worker)
    assert worker.sent == len(READERS)
    assert {d.state for d in await deliveries_of(rig.repo, "s1")} == {DeliveryState.SENT}


async def test_stop_finishes_its_cleanup_even_when_handing_back_fails(
    rig: WorkerRig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    worker = rig.start()
    await wait_for(lambda: worker.health().last_tick_age is not None, what="a first round")

    async def refuse(**_: Any) -> int:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(rig.repo.outbox, "reclaim", refuse)
    await rig.stop(worker)  # returns instead of raising
    assert not worker.health().alive
    assert liveness.is_dead_owner(worker.id, host=worker.host)  # no longer counted alive
    assert any("could not hand back" in r.getMessage() for r in caplog.records)


async def test_replies_take_shared_slots_and_workers_yield_while_readers_are_answered(
    rig: WorkerRig,
) -> None:
    worker = rig.start(peer_check_seconds=0.05)
    await wait_for(lambda: worker.health().last_tick_age is not None, what="a first round")
    assert not worker.yielding
    limiter = SharedBudgetLimiter(rig.repo, PacerConfig())
    calls: list[str] = []

    async def call(name: str) -> dict[str, Any]:
        calls.append(name)
        return {"ok": True}

    await limiter.process_request(call, ("getUpdates",), {}, "getUpdates", {}, None)
    wall = time.time()
    await limiter.process_request(call, ("sendMessage",), {}, "sendMessage", {}, None)
    taken = await rig.repo.budget.reserve_slots(scope=GLOBAL_SCOPE, count=0, interval=0, now=wall)
    assert taken > wall  # the reply took a slot of the shared budget
    await wait_for(lambda: worker.yielding, what="the worker leaving headroom")
    assert calls == ["getUpdates", "sendMessage"]


async def test_a_reply_is_not_held_through_a_long_global_pause(rig: WorkerRig) -> None:
    wall = time.time()
    await rig.repo.budget.pause_scope(scope=GLOBAL_SCOPE, until=wall + 30, now=wall)
    limiter = SharedBudgetLimiter(rig.repo, PacerConfig())

    async def never(*_: Any) -> dict[str, Any]:
        raise AssertionError("sent during a pause")

    with pytest.raises(RetryAfter):
        await limiter.process_request(never, (), {}, "sendMessage", {}, None)


def _idle_worker(rig: WorkerRig, rate: float) -> DeliveryWorker:
    """A worker that is not running: its checks are called by hand."""
    return DeliveryWorker(
        repo=rig.repo,
        bot=rig.bot,
        render=simple_render,
        clock=now,
        wakeup=asyncio.Event(),
        pacing=PacerConfig(global_per_second=rate, safety=1.0),
        config=WorkerConfig(peer_check_seconds=0.0),  # every `_maintain` counts the peers
    )


@pytest.mark.parametrize(
    ("rate", "peer", "cap"), [(30.0, True, 15), (1000.0, True, 500), (30.0, False, 30)]
)
async def test_worker_window_holds_its_share_while_a_peer_worker_sends(
    rig: WorkerRig, rate: float, peer: bool, cap: int
) -> None:
    """Workers reserve quarter-second stretches, which alternate: each keeps to its share."""
    await rig.readers_following(READERS)
    await rig.publish("s1", "Otters return")
    if peer:  # another machine's worker holds a delivery right now
        await rig.repo.outbox.claim_due(now=now(), limit=1, worker="otherhost:4321:peer")
    worker = _idle_worker(rig, rate)
    await worker._maintain()
    assert worker._window.cap == cap
