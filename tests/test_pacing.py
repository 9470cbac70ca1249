"""Pacing: GCRA rates, per-chat limits and the send window, with times passed in."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.pacing import (
    CapSettler,
    ChatPacer,
    PacerConfig,
    Rate,
    SendWindow,
    is_group_chat,
    window_cap,
)


def test_rate_spaces_sends_and_allows_its_burst() -> None:
    rate = Rate(per_second=2.0, burst=3)
    times = []
    for _ in range(6):
        at = rate.earliest(0.0)
        rate.take(at)
        times.append(at)
    assert times[:3] == [0.0, 0.0, 0.0]  # the burst
    assert times[3:] == [0.5, 1.0, 1.5]  # then the rate


def test_chat_pacer_limits_private_chats_and_channels_differently() -> None:
    pacer = ChatPacer(PacerConfig(safety=1.0))
    assert is_group_chat("@channel") and is_group_chat("-100123") and not is_group_chat("42")
    pacer.take("42", 10.0)
    pacer.take("@channel", 10.0)
    assert pacer.ready_at("42", 10.0) == 11.0  # one a second
    assert pacer.ready_at("@channel", 10.0) == 13.0  # twenty a minute, evenly spaced
    pacer.penalize_chat("42", 40.0)
    assert pacer.ready_at("42", 10.0) == 40.0
    pacer.pause_all(50.0)
    assert pacer.ready_at("7", 10.0) == 50.0
    pacer.forget_idle(45.0)
    assert pacer.ready_at("42", 45.0) == 50.0  # forgotten chats start fresh, pause holds


async def test_send_window_never_lets_cap_plus_one_sends_into_one_span() -> None:
    window = SendWindow(cap=5, span=0.05)
    starts: list[float] = []

    async def send(n: int) -> None:
        record = await window.enter()
        starts.append(window.clock())
        await asyncio.sleep(0.001 * (n % 3))  # uneven round trips
        record.end = window.clock()

    await asyncio.gather(*(send(n) for n in range(30)))
    starts.sort()
    for first, later in zip(starts, starts[5:], strict=False):
        assert later - first >= 0.05  # a sixth start is always a full span after the first


async def test_send_window_is_not_stalled_by_one_unanswered_send() -> None:
    window = SendWindow(cap=2, span=0.05, stale=0.05)
    await window.enter()  # never answered (a slow reply)
    answered = await window.enter()
    answered.end = window.clock()
    started = window.clock()
    await asyncio.wait_for(window.enter(), timeout=2.0)  # proceeds, later than stale + span
    assert window.clock() - started >= 0.05


async def test_send_window_shrunk_to_a_share_holds_the_smaller_cap() -> None:
    """With a peer worker, a window resized to half the limit allows half as many a span."""
    window = SendWindow(cap=6, span=0.05)
    window.resize(3)
    starts: list[float] = []

    async def send() -> None:
        record = await window.enter()
        starts.append(window.clock())
        record.end = window.clock()

    await asyncio.gather(*(send() for _ in range(12)))
    starts.sort()
    for first, later in zip(starts, starts[3:], strict=False):
        assert later - first >= 0.05  # a fourth start waits a full span: the cap is now 3
    window.resize(6)
    assert window.cap == 6


async def test_send_window_is_not_stalled_by_a_wall_clock_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In-memory intervals use monotonic time: an hour's step back of the wall clock is no wait."""
    window = SendWindow(cap=2, span=0.05)
    for _ in range(2):
        record = await window.enter()
        record.end = window.clock()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600.0)
    await asyncio.wait_for(window.enter(), timeout=5.0)  # a wall-clock window would wait 1 h


@pytest.mark.parametrize(
    ("rate", "workers", "stretch", "cap"),
    [
        (30.0, 1, 0.25, 30),  # alone: the whole limit
        (30.0, 2, 0.25, 15),  # quarter-second stretches alternate within a second: a share
        (1000.0, 2, 0.25, 500),
        (30.0, 3, 0.25, 10),
        (30.0, 2, 2.0, 30),  # stretches longer than the window follow each other: no share
    ],
)
def test_window_cap_is_a_share_when_workers_reserve_short_stretches(
    rate: float, workers: int, stretch: float, cap: int
) -> None:
    assert window_cap(rate, workers=workers, stretch=stretch, span=1.0) == cap


def test_a_shared_window_grows_back_only_a_span_after_the_peers_left() -> None:
    """The last peer's final sends still count at the server for one span."""
    caps = CapSettler()
    assert caps.settle(current=30, wanted=15, now=0.0, span=1.0) == 15  # a peer: at once
    assert caps.settle(current=15, wanted=30, now=2.0, span=1.0) == 15  # it just left
    assert caps.settle(current=15, wanted=30, now=2.5, span=1.0) == 15
    assert caps.settle(current=15, wanted=15, now=2.7, span=1.0) == 15  # back: start over
    assert caps.settle(current=15, wanted=30, now=3.0, span=1.0) == 15
    assert caps.settle(current=15, wanted=30, now=4.0, span=1.0) == 30  # a whole span alone
