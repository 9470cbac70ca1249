"""The typed door from handlers to services: one CallbackContext subclass, typed bot_data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from content.preferences import ReaderSettings
from content.routing import Route
from content.storage import Repository
from content.summarizing import Summarizer

if TYPE_CHECKING:
    from bot.delivery.liveness import WorkerHealth
    from bot.notify import AdminNotifier
    from content.fetching import Fetcher


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
    poll_count: int = 0  # completed polls of the feed sources (same use as scan_count)
    # The HTTP client for sources and readers' links (set at start, closed at stop).
    fetcher: Fetcher | None = None
    site_domains: tuple[str, ...] = ()  # SITE_DOMAINS: whose links readers get cards for
    feed_interval: float = 300.0  # FEED_INTERVAL, for sources editors add in the chat
    configured_sources: tuple[str, ...] = ()  # SOURCES: /removesource disables these instead
    routes: tuple[Route, ...] = ()  # CHANNEL_ROUTES: topics that also go to other targets
    withdraw_on_file_removed: bool = False  # WITHDRAW_ON_FILE_REMOVED: a file gone withdraws
    review: bool = False  # REVIEW: new stories wait for an editor (admin_ids) to publish them
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


@dataclass(frozen=True, slots=True)
class Reader:
    """Who this update is from, as far as rendering cares: settings, zone and language."""

    settings: ReaderSettings
    zone: tzinfo  # the reader's, else the outlet's TIMEZONE (a ZoneInfo or a fixed UTC offset)
    language: str  # one of content.preferences.LANGUAGES


class NewswireContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with `services` and the `reader` of this update."""

    _reader: Reader | None = None

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def reader(self) -> Reader:
        """Set by bot/handlers/reader_context.py (group -1); defaults when it did not run."""
        if self._reader is None:
            services = self.services
            settings = ReaderSettings()
            return Reader(settings=settings, zone=services.zone, language=settings.language)
        return self._reader

    @reader.setter
    def reader(self, value: Reader) -> None:
        self._reader = value


NewswireApp = Application[
    ExtBot[None], NewswireContext, dict[Any, Any], dict[Any, Any], BotData, Any
]
