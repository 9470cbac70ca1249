"""Long command-line work: a progress bar on a terminal, else a log line every few seconds."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from content.progress import LoggedProgress, Progress, ProgressFactory

log = logging.getLogger("newswire.progress")

LOG_EVERY_SECONDS = 5.0


class TerminalBar:
    """A rich progress bar on a terminal stream; stopped (and left on screen) by `close`."""

    def __init__(self, what: str, total: int, *, stream: TextIO) -> None:
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            # Log lines keep going to their own handler; the bar does not capture them.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task(what, total=total)
        self._bar.start()

    def advance(self, count: int = 1) -> None:
        self._bar.advance(self._task, count)

    def close(self) -> None:
        self._bar.stop()


def show_progress(
    what: str,
    total: int,
    *,
    stream: TextIO | None = None,
    logger: logging.Logger = log,
    every: float = LOG_EVERY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """A bar when `stream` (stderr by default) is a terminal, else a log line every `every` s."""
    stream = stream if stream is not None else sys.stderr
    if stream.isatty():
        return TerminalBar(what, total, stream=stream)
    return LoggedProgress(what, total, logger=logger, every=every, clock=clock)


def progress_factory(
    *, stream: TextIO | None = None, logger: logging.Logger = log
) -> ProgressFactory:
    """`show_progress` as content's ProgressFactory (what, total) -> Progress."""

    def make(what: str, total: int) -> Progress:
        return show_progress(what, total, stream=stream, logger=logger)

    return make
