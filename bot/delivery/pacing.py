"""Pacing under every Telegram limit at once (GCRA: rate plus burst, O(1) per send)."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class PacerConfig:
    global_per_second: float = 30.0
    # A private chat: one a second. Telegram lets short bursts through, but a publisher
    # that leans on them earns 429s; steady pacing costs a reader at most a second.
    private_per_second: float = 1.0
    # Groups and channels: 20 a minute, spaced evenly so no 60 s window ever holds 21.
    group_per_second: float = 20.0 / 60.0
    # Stay a hair under the global ceiling: arrival jitter must not push a window over.
    safety: float = 0.985


def is_group_chat(chat_id: str) -> bool:
    """Channels (@name) and groups (negative ids) share the 20-a-minute limit."""
    return chat_id.startswith("@") or chat_id.startswith("-")


@dataclass
class Pacer:
    """Reserves send times; each reservation respects the global and the per-chat rate."""

    config: PacerConfig = field(default_factory=PacerConfig)
    _global: Rate = field(init=False)
    _chats: dict[str, Rate] = field(default_factory=dict, init=False)
    _paused_until: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._global = Rate(self.config.global_per_second * self.config.safety)

    def _chat(self, chat_id: str) -> Rate:
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
        """When a send to this chat could go, without reserving it."""
        return max(
            self._global.earliest(now), self._chat(chat_id).earliest(now), self._paused_until
        )

    def global_ready_at(self, now: float) -> float:
        """When the next send to anyone could go."""
        return max(self._global.earliest(now), self._paused_until)

    def reserve(self, chat_id: str, now: float) -> float:
        """Reserve the earliest allowed send time for this chat and return it."""
        at = self.ready_at(chat_id, now)
        self._global.take(at)
        self._chat(chat_id).take(at)
        return at

    def chat_ready_at(self, chat_id: str, now: float) -> float:
        """When this chat alone would allow a send (ignoring the global queue)."""
        return max(self._chat(chat_id).earliest(now), self._paused_until)

    def penalize_chat(self, chat_id: str, until: float) -> None:
        """Telegram refused this chat (429): nothing to it before `until`."""
        rate = self._chat(chat_id)
        rate.tat = max(rate.tat, until + (rate.burst - 1) * rate.interval)

    def pause_all(self, until: float) -> None:
        """A global refusal: nobody gets anything before `until`."""
        self._paused_until = max(self._paused_until, until)

    def forget_idle(self, now: float) -> None:
        """Drop chats whose limiter is back to rest, so memory stays bounded."""
        self._chats = {k: r for k, r in self._chats.items() if r.tat > now}
