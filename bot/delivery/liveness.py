"""Who is sending: this worker's identity and health, and which other workers are gone."""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

# Workers alive in this process: a claim by a worker of this pid that is not here is stale.
_LIVE_WORKERS: set[str] = set()


def this_host() -> str:
    """The host part of worker ids (no colons: they separate the parts)."""
    return socket.gethostname().replace(":", "_")


def new_worker_id(host: str) -> str:
    """`host:pid:random`: another worker on this host can tell whether its process is alive."""
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def register(worker_id: str) -> None:
    _LIVE_WORKERS.add(worker_id)


def unregister(worker_id: str) -> None:
    _LIVE_WORKERS.discard(worker_id)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead_owner(owner: str, *, host: str) -> bool:
    """A worker id on this host whose process is gone (or a stale id of this very process)."""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False  # another machine's worker: its lease expiry decides
    pid = int(parts[1])
    if pid == os.getpid():
        return owner not in _LIVE_WORKERS
    return not pid_alive(pid)


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """What /stats and a health check show about one worker."""

    alive: bool  # its loop is running
    last_tick_age: float | None  # seconds since its loop last completed a round (None: never)
    failing_for: int  # rounds failed in a row (0: the last round went through)
    last_error: str | None  # the latest failure, already stripped of details
    sent: int  # sends recorded since start


class Heartbeat:
    """The loop's pulse: when it last went round, and how it last failed."""

    def __init__(self) -> None:
        self.running = False
        self.last_tick: float | None = None  # time.monotonic()
        self.failures = 0
        self.last_error: str | None = None

    def tick(self) -> None:
        self.last_tick = time.monotonic()
        self.failures = 0

    def failed(self, error: str) -> None:
        self.failures += 1
        self.last_error = error

    def health(self, *, sent: int) -> WorkerHealth:
        age = None if self.last_tick is None else time.monotonic() - self.last_tick
        return WorkerHealth(self.running, age, self.failures, self.last_error, sent)
