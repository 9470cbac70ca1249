"""Digests and quiet hours end to end: stories dropped in the folder, readers' settings, a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from content.models import SubscriptionKind, chat_id_of
from content.preferences import DigestMode, QuietHours, ReaderSettings
from tests.support.stack import Stack

SUBSCRIBED_AT = datetime(2026, 1, 1, tzinfo=UTC)
DIGEST_HEAD = "Your news digest"
AWAY_HEAD = "While you were away"


def base_day() -> datetime:
    """Midnight UTC three days ago: every moment a test sets is in the past.

    The worker claims with the real clock, so what the job queues at a set moment must
    already be due for it.
    """
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=3)


@dataclass
class SetClock:
    """The services' clock, set by the test (planning and releasing read it)."""

    now: datetime = field(default_factory=base_day)

    def __call__(self) -> datetime:
        return self.now


def use_clock(stack: Stack, moment: datetime) -> SetClock:
    clock = SetClock(moment)
    stack.newswire.services.clock = clock
    return clock


def story(slug: str, title: str, *, tags: tuple[str, ...] = (), body: str = "") -> str:
    """A Markdown story with its own id; `body` adds words to match or exclude."""
    listed = ", ".join(tags)
    text = body or "A wallet was found and returned to its owner the same afternoon."
    return f"""---
title: "{title}"
id: {slug}
published: 2026-01-01 09:00
tags: [{listed}]
---

{text}
"""


def drop(stack: Stack, slug: str, title: str, **kwargs: Any) -> None:
    """Publish a story: a file in the content folder (the next scan plans it)."""
    folder = Path(stack.settings.content_dir)
    (folder / f"{slug}.md").write_text(story(slug, title, **kwargs), encoding="utf-8")


async def reader(
    stack: Stack,
    chat_id: int,
    *,
    keyword: str = "wallet",
    excludes: tuple[str, ...] = (),
    mutes: tuple[str, ...] = (),
    **settings: Any,
) -> None:
    """A sandbox user who follows `keyword` with these settings (straight in storage)."""
    stack.sandbox.add_user(chat_id, f"Reader {chat_id}")
    repo = stack.newswire.repo
    chat = chat_id_of(chat_id)
    await repo.readers.update_settings(
        chat_id=chat, settings=ReaderSettings(**settings), now=SUBSCRIBED_AT
    )
    await repo.readers.follow(
        chat_id=chat,
        kind=SubscriptionKind.KEYWORD,
        value=keyword,
        excludes=excludes,
        now=SUBSCRIBED_AT,
    )
    for value in mutes:
        await repo.readers.mute(chat_id=chat, value=value, now=SUBSCRIBED_AT)


def daily(at: str, zone: str) -> dict[str, Any]:
    hours, minutes = (int(p) for p in at.split(":"))
    return {"digest": DigestMode.DAILY, "digest_at": time(hours, minutes), "timezone": zone}


def quiet(start: str, end: str, zone: str = "UTC", **more: Any) -> dict[str, Any]:
    begin, finish = (time(*(int(p) for p in t.split(":"))) for t in (start, end))
    return {"quiet": QuietHours(begin, finish), "timezone": zone, **more}


def messages(stack: Stack, chat_id: int, head: str) -> list[dict[str, Any]]:
    """What the bot sent the reader whose text holds `head`."""
    return [m for m in stack.sandbox.bot_messages(chat_id) if head in m.get("text", "")]
