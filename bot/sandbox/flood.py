"""Telegram's flood limits: a global window, a token bucket per private chat, a window per group."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.errors import ApiError


@dataclass
class Limits:
    """Flood limits; every figure can be tightened or relaxed by tests and benchmarks."""

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 5
    group_per_minute: int = 20
    paid_broadcast_per_second: float = 1000.0
    enforce: bool = True


@dataclass
class _Bucket:
    tokens: float
    stamp: float


def too_many(wait: float) -> ApiError:
    """Telegram's 429 with a whole-second retry_after of at least one."""
    seconds = max(1, math.ceil(wait - 1e-9))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


class Flood:
    """Admits a new message or refuses it with 429, per Limits, on the sandbox clock."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._global: deque[float] = deque()
        self._private: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}

    def admit(self, chat_id: int, *, private: bool, paid: bool) -> None:
        """Refuse with 429 if a new message to the chat now would break a limit; else count it."""
        limits = self.limits
        if not limits.enforce:
            return
        now = self._clock()
        window = self._global
        while window and window[0] <= now - 1.0:
            window.popleft()
        bucket: _Bucket | None = None
        group: deque[float] | None = None
        if private:
            bucket = self._private.get(chat_id)
            if bucket is None:
                bucket = _Bucket(tokens=float(limits.private_burst), stamp=now)
                self._private[chat_id] = bucket
            bucket.tokens = min(
                float(limits.private_burst),
                bucket.tokens + (now - bucket.stamp) * limits.private_per_second,
            )
            bucket.stamp = now
            if bucket.tokens < 1.0:
                raise too_many((1.0 - bucket.tokens) / limits.private_per_second)
        else:
            group = self._groups.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= limits.group_per_minute:
                excess = len(group) - limits.group_per_minute
                raise too_many(group[excess] + 60.0 - now)
        cap = limits.paid_broadcast_per_second if paid else limits.global_per_second
        if len(window) >= cap:
            # The window admits one more once it is down to ceil(cap) - 1 entries.
            expire = min(len(window) - max(math.ceil(cap) - 1, 0), len(window))
            oldest = window[expire - 1] if expire > 0 else now
            raise too_many(oldest + 1.0 - now)
        window.append(now)
        if bucket is not None:
            bucket.tokens -= 1.0
        if group is not None:
            group.append(now)
