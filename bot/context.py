"""The typed door from handlers to services: one CallbackContext subclass, typed bot_data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from content.storage import Repository
from content.summarizing import Summarizer

if TYPE_CHECKING:
    from bot.delivery.liveness import WorkerHealth
    from bot.notify import AdminNotifier


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything handlers and jobs need, built once by the composition root."""

    repo: Repository
    summarizer: Summarizer
    zone: ZoneInfo
    channels: tuple[str, ...]
    admin_ids: frozenset[int]
    content_dir: Path
    clock: Callable[[], datetime] = utc_now
    # For intervals (rate windows): never steps back when the wall clock does.
    monotonic: Callable[[], float] = time.monotonic
    # Set when new deliveries are queued, so the outbox worker wakes at once.
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    scan_count: int = 0  # completed folder scans, a barrier for tests and a health figure
    notifier: AdminNotifier | None = None  # set once the bot is initialized
    # This process's delivery worker, for /stats (None: the worker runs in another process).
    worker_health: Callable[[], WorkerHealth] | None = None


class BotData:
    """The application's bot_data: the services, installed once by the composition root."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not installed yet")
        return self._services

    def install(self, services: Services) -> None:
        self._services = services


class NewswireContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with a `services` property."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


NewswireApp = Application[
    ExtBot[None], NewswireContext, dict[Any, Any], dict[Any, Any], BotData, Any
]
