"""End to end on the sandbox: digests at local times, quiet hours, breaking news, exclusions."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs import release_held
from tests.support.digests import (
    AWAY_HEAD,
    DIGEST_HEAD,
    base_day,
    daily,
    drop,
    messages,
    quiet,
    reader,
    use_clock,
)
from tests.support.outbox import alerts
from tests.support.reader import buttons, press
from tests.support.stack import ADMIN, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SINGAPORE, LONDON = 7001, 7002


def local(day: datetime, at: time, zone: str) -> datetime:
    return datetime.combine(day.date(), at, tzinfo=ZoneInfo(zone))


async def planned(stack: Stack, slug: str, rows: int) -> None:
    """Wait until the scan has planned the story for `rows` chats (channel included)."""
    repo = stack.newswire.repo

    async def probe() -> bool:
        return len(await deliveries_of(repo, slug)) >= rows

    await wait_for(probe, what=f"{slug} planned")


async def test_a_daily_digest_arrives_at_each_readers_local_time(stack: Stack) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=12))
    await reader(stack, SINGAPORE, **daily("08:00", "Asia/Singapore"))
    await reader(stack, LONDON, **daily("08:00", "Europe/London"))
    drop(stack, "wallet-bedok", "Bus captain returns lost wallet")
    await planned(stack, "wallet-bedok", 3)
    services = stack.newswire.services

    singapore_due = local(day + timedelta(days=1), time(8), "Asia/Singapore")
    clock.now = singapore_due - timedelta(minutes=1)
    assert await release_held(services) == 0  # 07:59 in Singapore: nobody is due
    clock.now = singapore_due
    assert await release_held(services) == 1
    sent = await wait_for(lambda: messages(stack, SINGAPORE, DIGEST_HEAD), what="SG digest")
    assert "Bus captain returns lost wallet" in sent[0]["text"]
    assert messages(stack, LONDON, DIGEST_HEAD) == []

    clock.now = local(day + timedelta(days=1), time(8), "Europe/London")
    assert await release_held(services) == 1
    await wait_for(lambda: messages(stack, LONDON, DIGEST_HEAD), what="the London digest")
    assert await release_held(services) == 0
    for chat in (SINGAPORE, LONDON):
        assert len(messages(stack, chat, DIGEST_HEAD)) == 1
        assert alerts(stack, chat) == []  # nothing instant


async def test_quiet_hours_hold_three_stories_and_release_them_as_one_message(
    stack: Stack,
) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=23))
    await reader(stack, SINGAPORE, **quiet("22:00", "07:00"))
    titles = ["Wallet found in Bedok", "Wallet found in Tampines", "Wallet found in Yishun"]
    for n, title in enumerate(titles):
        drop(stack, f"wallet-{n}", title)
    for n in range(3):
        await planned(stack, f"wallet-{n}", 2)
    services = stack.newswire.services
    clock.now = day + timedelta(days=1, hours=6, minutes=59)
    assert await release_held(services) == 0
    clock.now = day + timedelta(days=1, hours=7)
    assert await release_held(services) == 1
    away = await wait_for(lambda: messages(stack, SINGAPORE, AWAY_HEAD), what="the release")
    assert all(title in away[0]["text"] for title in titles)
    assert len(buttons(away[0])) == 3  # a button for each story
    assert len(stack.sandbox.bot_messages(SINGAPORE)) == 1  # one message, none per story

    await press(stack, away[0], "Yishun", user=SINGAPORE)
    card = await wait_for(
        lambda: stack.sandbox.bot_messages(SINGAPORE)[1:], what="the story's card"
    )
    assert "Wallet found in Yishun" in card[0]["text"]


async def test_breaking_news_goes_through_quiet_hours_unless_the_reader_says_no(
    stack: Stack,
) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=23))
    await reader(stack, SINGAPORE, **quiet("22:00", "07:00"))
    await reader(stack, LONDON, **quiet("22:00", "07:00", breaking_in_quiet=False))
    drop(stack, "wallet-breaking", "Breaking: wallet thief caught", tags=("breaking",))
    await planned(stack, "wallet-breaking", 3)
    instant = await wait_for(lambda: alerts(stack, SINGAPORE), what="the breaking alert")
    assert "wallet thief caught" in instant[0]["text"]
    assert stack.sandbox.bot_messages(LONDON) == []

    clock.now = day + timedelta(days=1, hours=7)
    assert await release_held(stack.newswire.services) == 1  # only the reader who held it
    away = await wait_for(lambda: messages(stack, LONDON, AWAY_HEAD), what="the release")
    assert "wallet thief caught" in away[0]["text"]
    assert len(stack.sandbox.bot_messages(SINGAPORE)) == 1  # never the same story twice


async def test_exclusions_and_mutes_leave_a_story_out(stack: Stack) -> None:
    excluding, muting, everyone = 7011, 7012, 7013
    await reader(stack, excluding, excludes=("sports",))
    await reader(stack, muting, mutes=("sports",))
    await reader(stack, everyone)
    body = "A wallet was found at the SPORTS hub after the match and returned."
    drop(stack, "wallet-sports", "Wallet returned at the stadium", body=body)
    drop(stack, "wallet-bus", "Wallet returned on a bus")
    await planned(stack, "wallet-bus", 4)
    await planned(stack, "wallet-sports", 2)
    await wait_for(lambda: len(alerts(stack, everyone)) == 2, what="both stories sent")
    for chat in (excluding, muting):
        got = await wait_for(lambda chat=chat: alerts(stack, chat), what="the other story")
        assert [m for m in got if "stadium" in m["text"]] == []
    rows = {d.chat_id for d in await deliveries_of(stack.newswire.repo, "wallet-sports")}
    assert str(excluding) not in rows and str(muting) not in rows


async def test_a_worker_stopped_mid_digest_leaves_no_reader_with_two_digests(
    stack: Stack,
) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=12))
    readers = list(range(8000, 8060))
    for chat in readers:
        await reader(stack, chat, **daily("08:00", "UTC"))
    drop(stack, "wallet-many", "Wallet returned to its owner")
    await planned(stack, "wallet-many", len(readers) + 1)
    clock.now = day + timedelta(days=1, hours=8)
    assert await release_held(stack.newswire.services) == len(readers)

    def delivered() -> int:
        return sum(1 for chat in readers if messages(stack, chat, DIGEST_HEAD))

    await wait_for(lambda: delivered() >= 3, what="the first digests")
    await stack.restart()  # the worker stops with digests still queued
    assert delivered() < len(readers), "all digests went out before the stop"
    use_clock(stack, clock.now)
    assert await release_held(stack.newswire.services) == 0  # already queued: not again
    await wait_for(lambda: delivered() == len(readers), what="every digest", timeout=20)
    assert all(len(messages(stack, chat, DIGEST_HEAD)) == 1 for chat in readers)


async def test_the_stories_past_ten_are_behind_one_button(stack: Stack) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=23))
    await reader(stack, SINGAPORE, **quiet("22:00", "07:00"))
    for n in range(12):
        drop(stack, f"wallet-{n:02d}", f"Wallet number {n:02d} found")
    for n in range(12):
        await planned(stack, f"wallet-{n:02d}", 2)
    clock.now = day + timedelta(days=1, hours=7)
    assert await release_held(stack.newswire.services) == 1
    away = await wait_for(lambda: messages(stack, SINGAPORE, AWAY_HEAD), what="the release")
    assert "…and 2 more" in away[0]["text"]
    await press(stack, away[0], "See 2 more", user=SINGAPORE)
    rest = await wait_for(
        lambda: messages(stack, SINGAPORE, "More from your digest"), what="the rest"
    )
    shown = sum(f"Wallet number {n:02d}" in away[0]["text"] for n in range(12))
    listed = sum(f"Wallet number {n:02d}" in rest[0]["text"] for n in range(12))
    assert (shown, listed) == (10, 2)


async def test_a_reader_who_blocked_the_bot_is_let_go_by_their_digest(stack: Stack) -> None:
    day = base_day()
    clock = use_clock(stack, day + timedelta(hours=12))
    await reader(stack, SINGAPORE, **daily("08:00", "UTC"))
    drop(stack, "wallet-gone", "Wallet returned to a reader who left")
    await planned(stack, "wallet-gone", 2)
    stack.sandbox.block_bot(SINGAPORE)
    clock.now = day + timedelta(days=1, hours=8)
    assert await release_held(stack.newswire.services) == 1
    repo = stack.newswire.repo

    async def unsubscribed() -> bool:
        return await repo.readers.active_subscriber_count() == 0

    # Like any message to a reader who blocked the bot: they are unsubscribed, and the
    # editors are not told that a channel is broken.
    await wait_for(unsubscribed, what="the reader let go")
    assert [m for m in stack.sandbox.bot_messages(ADMIN) if "Cannot post" in m["text"]] == []
