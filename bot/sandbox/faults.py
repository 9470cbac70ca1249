"""Fault injection and delivery statistics for the sandbox. No I/O, no Telegram rules.

The sandbox consults these on every sending call (sendMessage, sendPhoto, ...):

- a 429 storm refuses every send until it ends (a global refusal, as Telegram does);
- `error_rate` answers a share of sends with 500/502 *without* recording the message;
- `slow_rate` answers a share of sends only after `slow_seconds`. The message *is* recorded
  first: when Telegram is slow it has usually delivered the message already, so a client that
  times out and retries creates a duplicate. That is the behaviour worth measuring.
- `block_at` makes users block the bot once the sandbox has accepted a given number of sends
  overall, so blocks land in the middle of a broadcast.

Group migrations live on the Sandbox itself (they change its chats), not here.
"""

from __future__ import annotations

import bisect
import math
import random
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import Refused

JSON = dict[str, Any]

# Bodies exactly like Telegram's own server errors.
SERVER_ERRORS: tuple[tuple[int, str], ...] = ((500, "Internal Server Error"), (502, "Bad Gateway"))
MAX_SLOW_SECONDS = 600.0


def _rate(value: Any, name: str) -> float:
    number = _number(value, name)
    if not 0.0 <= number <= 1.0:
        raise Refused(f"{name} must be between 0 and 1")
    return number


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Refused(f"{name} must be a number")
    try:
        number = float(value)
    except ValueError:
        raise Refused(f"{name} must be a number") from None
    if not math.isfinite(number):
        raise Refused(f"{name} must be finite")
    return number


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise Refused(f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(f"{name} must be an integer") from None


@dataclass
class Faults:
    """What goes wrong, and how often. Every field can be set from Python or the control API."""

    error_rate: float = 0.0  # share of sends answered 500/502, message not recorded
    slow_rate: float = 0.0  # share of sends answered only after slow_seconds (recorded)
    slow_seconds: float = 10.0  # past PTB's default 5 s read timeout
    storm_until: float = 0.0  # sandbox clock: every send is refused with 429 before this
    storm_retry_after: int = 5  # the retry_after a storm's 429 carries
    seed: int | None = None  # seeds the fault dice; None means unseeded
    # user id -> the overall accepted-send count at which that user blocks the bot
    block_at: dict[int, int] = field(default_factory=dict)

    def storm_active(self, now: float) -> bool:
        """Whether a 429 storm is refusing sends right now."""
        return now < self.storm_until

    def update(self, changes: Mapping[str, Any], *, now: float, accepted: int) -> None:
        """Apply a partial update from the control API (validated; unknown keys refused).

        Relative keys: `storm_seconds` (the storm lasts that long from now; 0 ends it) and
        `block_after` ({user_id: n}: the user blocks after n more accepted sends overall).
        """
        known = {
            "error_rate",
            "slow_rate",
            "slow_seconds",
            "storm_seconds",
            "storm_retry_after",
            "seed",
            "block_after",
        }
        unknown = sorted(set(changes) - known)
        if unknown:
            raise Refused(f"unknown fault setting(s): {', '.join(unknown)}")
        # Validate everything before changing anything, so a bad request changes nothing.
        staged: JSON = {}
        if "error_rate" in changes:
            staged["error_rate"] = _rate(changes["error_rate"], "error_rate")
        if "slow_rate" in changes:
            staged["slow_rate"] = _rate(changes["slow_rate"], "slow_rate")
        if "slow_seconds" in changes:
            seconds = _number(changes["slow_seconds"], "slow_seconds")
            if not 0.0 <= seconds <= MAX_SLOW_SECONDS:
                raise Refused(f"slow_seconds must be between 0 and {MAX_SLOW_SECONDS:.0f}")
            staged["slow_seconds"] = seconds
        if "storm_retry_after" in changes:
            retry = _integer(changes["storm_retry_after"], "storm_retry_after")
            if retry < 1:
                raise Refused("storm_retry_after must be at least 1")
            staged["storm_retry_after"] = retry
        if "storm_seconds" in changes:
            seconds = _number(changes["storm_seconds"], "storm_seconds")
            if seconds < 0:
                raise Refused("storm_seconds must not be negative")
            staged["storm_until"] = now + seconds
        if "seed" in changes:
            seed = changes["seed"]
            staged["seed"] = None if seed is None else _integer(seed, "seed")
        blocks: dict[int, int] = {}
        if "block_after" in changes:
            raw = changes["block_after"]
            if not isinstance(raw, Mapping):
                raise Refused("block_after must be an object {user_id: sends}")
            for user, sends in raw.items():
                count = _integer(sends, "block_after value")
                if count < 0:
                    raise Refused("block_after values must not be negative")
                blocks[_integer(user, "block_after key")] = accepted + count
        for name, value in staged.items():
            setattr(self, name, value)
        self.block_at.update(blocks)

    def as_json(self, *, now: float, accepted: int) -> JSON:
        """The current settings, with relative figures (what the control API shows)."""
        return {
            "error_rate": self.error_rate,
            "slow_rate": self.slow_rate,
            "slow_seconds": self.slow_seconds,
            "storm_active": self.storm_active(now),
            "storm_remaining": max(0.0, round(self.storm_until - now, 3)),
            "storm_retry_after": self.storm_retry_after,
            "seed": self.seed,
            "block_after": {
                str(user): max(0, at - accepted) for user, at in sorted(self.block_at.items())
            },
        }


class Dice:
    """The seeded random source behind the faults; reseeds when `Faults.seed` changes."""

    def __init__(self) -> None:
        self._rng = random.Random()
        self._seed: int | None = None
        self._seeded = False

    def _sync(self, seed: int | None) -> None:
        if not self._seeded or seed != self._seed:
            self._rng = random.Random(seed)
            self._seed = seed
            self._seeded = True

    def server_error(self, faults: Faults) -> tuple[int, str] | None:
        """A (status, description) 5xx for this call, or None."""
        if faults.error_rate <= 0.0:
            return None
        self._sync(faults.seed)
        if self._rng.random() >= faults.error_rate:
            return None
        return SERVER_ERRORS[self._rng.randrange(len(SERVER_ERRORS))]

    def slow(self, faults: Faults) -> float:
        """Seconds to hold this answer back (0 for a prompt answer)."""
        if faults.slow_rate <= 0.0 or faults.slow_seconds <= 0.0:
            return 0.0
        self._sync(faults.seed)
        return faults.slow_seconds if self._rng.random() < faults.slow_rate else 0.0

    def reset(self) -> None:
        """Forget the seed state: the next roll reseeds from `Faults.seed`."""
        self._seeded = False


class DeliveryLog:
    """What the sandbox accepted, in O(1) per send: enough to count rates, losses, duplicates.

    Keeps one timestamp per accepted send (8 bytes), one (chat, text hash) pair per distinct
    message and one counter per chat; no message bodies.
    """

    def __init__(self) -> None:
        self.accepted = 0
        self._times = array("d")
        self._pairs: set[tuple[int, int]] = set()
        self._per_chat: dict[int, int] = {}

    def record(self, chat_id: int, content: str, at: float) -> None:
        """One accepted message from the bot to `chat_id` at sandbox time `at`."""
        self.accepted += 1
        self._times.append(at)
        self._pairs.add((chat_id, hash(content)))
        self._per_chat[chat_id] = self._per_chat.get(chat_id, 0) + 1

    @property
    def distinct(self) -> int:
        """Distinct (chat, text) pairs among accepted messages."""
        return len(self._pairs)

    def received(self, chat_id: int) -> int:
        """How many bot messages the chat received."""
        return self._per_chat.get(chat_id, 0)

    def counts(self) -> JSON:
        """The figures merged into /control/counters."""
        return {
            "accepted": self.accepted,
            "distinct": self.distinct,
            "duplicates": self.accepted - self.distinct,
            "distinct_chats": len(self._per_chat),
        }

    def stats(self, since: float, now: float) -> JSON:
        """Accepted sends at or after `since` (sandbox clock): count, first, last, rate, peak."""
        start = bisect.bisect_left(self._times, since)
        times = self._times[start:]
        count = len(times)
        first = times[0] if count else None
        last = times[-1] if count else None
        span = (last - first) if first is not None and last is not None else 0.0
        # The busiest one-second window: what a 30/s server would have seen at its worst.
        peak = 0
        left = 0
        for right in range(count):
            while times[right] - times[left] >= 1.0:
                left += 1
            peak = max(peak, right - left + 1)
        return {
            "now": now,
            "since": since if math.isfinite(since) else None,
            "accepted": count,
            "first": first,
            "last": last,
            "span": span,
            "rate": (count - 1) / span if count > 1 and span > 0 else None,
            "peak_1s": peak,
        }

    def range_report(self, first_id: int, count: int, *, sample: int = 20) -> JSON:
        """For chats first_id..first_id+count-1: how many got nothing, and how many got more."""
        missing = 0
        duplicated = 0
        missing_sample: list[int] = []
        per_chat = self._per_chat
        for chat_id in range(first_id, first_id + count):
            got = per_chat.get(chat_id, 0)
            if got == 0:
                missing += 1
                if len(missing_sample) < sample:
                    missing_sample.append(chat_id)
            elif got > 1:
                duplicated += 1
        return {
            "first_id": first_id,
            "count": count,
            "received": count - missing,
            "missing": missing,
            "more_than_once": duplicated,
            "missing_sample": missing_sample,
        }
