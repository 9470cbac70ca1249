"""The typed door from handlers to services: one CallbackContext subclass, one cast."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from content.storage import Repository
from content.summarizing import Summarizer


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
    # Set when new deliveries are queued, so the outbox worker wakes at once.
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    scan_count: int = 0  # completed folder scans, a barrier for tests and a health figure


class NewswireContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """CallbackContext with a `services` property."""

    @property
    def services(self) -> Services:
        return cast(Services, self.application.bot_data["services"])


NewswireApp = Application[
    ExtBot[None], NewswireContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
