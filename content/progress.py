"""Progress of long work, as a protocol: the caller shows it (a terminal bar, log lines)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    """How far a long job got; how that is shown is the caller's business."""

    def advance(self, count: int = 1) -> None: ...

    def close(self) -> None: ...


# (what is being done, how many steps in all) -> a Progress for that job.
ProgressFactory = Callable[[str, int], Progress]


class LoggedProgress:
    """A log line every `every` seconds while the job runs (no terminal to draw a bar on)."""

    def __init__(
        self,
        what: str,
        total: int,
        *,
        logger: logging.Logger,
        every: float = 5.0,
        unit: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.total = total
        self.logger = logger
        self.every = every
        self.unit = f" {unit}" if unit else ""
        self.clock = clock
        self.done = 0
        self.last = clock()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self.logger.info("%s: %d of %d%s", self.what, self.done, self.total, self.unit)

    def close(self) -> None:
        """Nothing to tidy: the caller logs the outcome in its own words."""
