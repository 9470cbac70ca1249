"""Pacing under every Telegram limit at once (GCRA: a rate plus a burst, O(1) per send).

The global budget is shared by all workers and by the bot's replies through the database
(`Repository.reserve_slots`, epoch seconds); the per-chat limits live here, in the worker
that holds the chat's deliveries, in monotonic seconds (a wall-clock step moves nothing).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

GLOBAL_SCOPE = "global"
# Its time is "readers are being answered until" (a pause of nobody): workers then yield.
INTERACTIVE_SCOPE = "interactive"


@dataclass
class Rate:
    """A GCRA limiter: `per_second` on average, `burst` sends back to back."""

    per_second: float
    burst: int = 1
    tat: float = 0.0  # theoretical arrival time of the next send

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    def earliest(self, now: float) -> float:
        return max(now, self.tat - (self.burst - 1) * self.interval)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


@dataclass(frozen=True)
class PacerConfig:
    global_per_second: float = 30.0
    # A private chat: one a second. Telegram lets short bursts through, but a publisher
    # that leans on them earns 429s; steady pacing costs a reader at most a second.
    private_per_second: float = 1.0
    # Groups and channels: 20 a minute, spaced evenly so no 60 s window ever holds 21.
    group_per_second: float = 20.0 / 60.0
    # Stay a little under each ceiling: arrival jitter must not push a window over
    # (bench/fanout.py: 0.985 still drew a few 429s from a strict 1 s sliding window).
    safety: float = 0.975

    @property
    def global_interval(self) -> float:
        return 1.0 / (self.global_per_second * self.safety)


def is_group_chat(chat_id: str) -> bool:
    """Channels (@name) and groups (negative ids) share the 20-a-minute limit."""
    return chat_id.startswith(("@", "-"))


@dataclass
class ChatPacer:
    """Per-chat limits and flood penalties, in one worker's memory (monotonic seconds)."""

    config: PacerConfig = field(default_factory=PacerConfig)
    _chats: dict[str, Rate] = field(default_factory=dict, init=False)
    paused_until: float = field(default=0.0, init=False)

    def _chat(self, chat_id: str) -> Rate:
        # A forum topic ("chat:thread") shares its group's limit: pace the chat.
        chat_id = chat_id.partition(":")[0]
        rate = self._chats.get(chat_id)
        if rate is None:
            per_second = (
                self.config.group_per_second
                if is_group_chat(chat_id)
                else self.config.private_per_second
            )
            rate = self._chats[chat_id] = Rate(per_second * self.config.safety)
        return rate

    def ready_at(self, chat_id: str, now: float) -> float:
        """When this chat allows the next send (and no global pause is on)."""
        return max(self._chat(chat_id).earliest(now), self.paused_until)

    def take(self, chat_id: str, at: float) -> None:
        self._chat(chat_id).take(at)

    def penalize_chat(self, chat_id: str, until: float) -> None:
        """Telegram refused this chat (429): nothing to it before `until`."""
        rate = self._chat(chat_id)
        rate.tat = max(rate.tat, until)

    def pause_all(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)

    def forget_idle(self, now: float) -> None:
        """Drop chats whose limiter is back at rest, so memory stays bounded."""
        self._chats = {k: r for k, r in self._chats.items() if r.tat > now}


def window_cap(rate: float, *, workers: int, stretch: float, span: float) -> int:
    """Sends one worker's window admits per `span`: all of `rate`, or its share among `workers`.

    The shared budget hands out slots in stretches of `stretch` seconds. When a stretch is
    shorter than the window, several workers' stretches alternate inside one second, and a
    worker whose loop lags sends late into the others' slots: only a share per worker keeps
    the sum under the limit whatever the lag. Stretches longer than the window mostly
    follow each other, and a share would bind within a stretch and push its sends late.
    """
    if workers > 1 and stretch < span:
        return max(1, int(rate) // workers)
    return max(1, int(rate))


@dataclass
class CapSettler:
    """Lowers a window's cap at once, raises it only after a whole span asking for more.

    A peer worker that has just finished sent its last messages within the past span:
    they still count at the server until that span is over.
    """

    _rise_from: float | None = None

    def settle(self, *, current: int, wanted: int, now: float, span: float) -> int:
        if wanted <= current:
            self._rise_from = None
            return wanted
        if self._rise_from is None:
            self._rise_from = now
        if now - self._rise_from >= span:
            self._rise_from = None
            return wanted
        return current


@dataclass
class _Send:
    start: float
    end: float | None = None  # when the answer came back (the server had counted it by then)


class SendWindow:
    """At most `cap` sends in any `span` seconds as the server counts them, despite jitter.

    A send may start only once the `cap`-th send before it was answered at least `span` ago:
    the server counted that one before answering, and counts this one after it starts, so no
    window of `span` holds both. A send still unanswered after `stale` seconds (a slow answer)
    is taken as counted at its start plus `stale`, so one slow reply cannot stall the rest.
    """

    def __init__(
        self,
        cap: int,
        span: float = 1.0,
        stale: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cap = max(1, cap)
        self.span = span + 0.002
        self.stale = stale
        self.clock = clock  # callers stamp `.end` with this clock too
        self._sends: deque[_Send] = deque(maxlen=self.cap)

    def resize(self, cap: int) -> None:
        """Change the cap, keeping the newest sends (several workers share one limit)."""
        cap = max(1, cap)
        if cap != self.cap:
            self.cap = cap
            self._sends = deque(self._sends, maxlen=cap)

    async def enter(self) -> _Send:
        """Wait for room; the caller sets `.end` on the returned record when answered."""
        while len(self._sends) == self.cap:
            oldest = self._sends[0]
            now = self.clock()
            counted = oldest.end if oldest.end is not None else oldest.start + self.stale
            if oldest.end is None and now < oldest.start + self.stale:
                wait = min(0.002, oldest.start + self.stale - now)
            else:
                wait = counted + self.span - now
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        record = _Send(start=self.clock())
        self._sends.append(record)
        return record
