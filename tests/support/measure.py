"""What the benchmarks measure a process by: progress lines and bars, peak memory (Linux)."""

from __future__ import annotations

import logging
import resource
import sys
import time
from pathlib import Path

from bot.progress import show_progress
from content.progress import Progress


def log(message: str) -> None:
    """A timestamped progress line on stderr (stdout holds the figures)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's peak resident set, in MB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def self_peak_rss_mb() -> float:
    """This process's peak resident set, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _LineHandler(logging.Handler):
    """Progress log records as `log` lines (timestamped, on stderr)."""

    def emit(self, record: logging.LogRecord) -> None:
        log(record.getMessage())


_PROGRESS = logging.getLogger("newswire.bench.progress")
_PROGRESS.setLevel(logging.INFO)
_PROGRESS.propagate = False
_PROGRESS.addHandler(_LineHandler())


def progress(what: str, total: int) -> Progress:
    """A bar on a terminal, else a progress line every 5 s (bot/progress.py's rule)."""
    return show_progress(what, total, logger=_PROGRESS)
