"""A clock that only moves when told to, for code that takes time as a callable."""

from __future__ import annotations


class FakeClock:
    """Monotonic-style seconds that advance only through `advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
