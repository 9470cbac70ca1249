"""The /stats chart's data: sends per minute from the outbox, 429s and the queue per minute."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import update

from content.models import DeliveryKind, SubscriptionKind, chat_id_of
from content.storage import Repository
from content.storage.activity import ActivityMinute
from content.storage.outbox import SentMinute
from content.storage.tables import deliveries
from tests.support.articles import make_article

SGT = timezone(timedelta(hours=8))
T0 = datetime(2026, 7, 3, 17, 30, tzinfo=SGT)  # 09:30 UTC
UTC_0930 = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)


async def planned(repo: Repository, *, readers: int) -> dict[str, int]:
    """One story planned for @c and `readers` subscribers; its delivery ids by chat."""
    for chat_id in range(1, readers + 1):
        chat = chat_id_of(chat_id)
        await repo.readers.upsert_chat(chat_id=chat, first_name=None, username=None, now=T0)
        await repo.readers.subscribe(
            chat_id=chat, kind=SubscriptionKind.TOPIC, value="transport", now=T0
        )
    story = make_article("a1", topics=("transport",))
    await repo.outbox.plan(story, channels=["@c"], keyword_matches=[], now=T0 - timedelta(days=3))
    claimed = await repo.outbox.claim_due(now=T0, limit=100, worker="w")
    return {d.chat_id: d.id for d in claimed}


async def test_sends_are_counted_per_minute_channel_posts_apart(any_repo: Repository) -> None:
    ids = await planned(any_repo, readers=4)
    sends = [
        (ids["@c"], 1, T0 + timedelta(seconds=5)),  # 09:30 UTC, given in +08:00
        (ids["1"], 2, T0 + timedelta(seconds=59, microseconds=999_000)),  # still 09:30
        (ids["2"], 3, T0 + timedelta(minutes=1)),  # 09:31 exactly
        (ids["3"], 4, T0 + timedelta(minutes=1, seconds=30)),
        (ids["4"], 5, T0 - timedelta(days=2)),  # before the window
    ]
    await any_repo.outbox.mark_sent_many(sends)

    minutes = await any_repo.outbox.sent_per_minute(
        since=T0 - timedelta(hours=24), until=T0 + timedelta(minutes=5)
    )

    assert minutes == [
        SentMinute(minute=UTC_0930, channel=1, readers=1),
        SentMinute(minute=UTC_0930 + timedelta(minutes=1), channel=0, readers=2),
    ]
    assert minutes[0].minute.tzinfo is UTC
    # The window is half-open: a send at `until` is the next window's.
    assert await any_repo.outbox.sent_per_minute(since=T0 - timedelta(hours=1), until=T0) == []


async def test_a_minute_across_midnight_in_the_outlets_zone(any_repo: Repository) -> None:
    ids = await planned(any_repo, readers=1)
    midnight = datetime(2026, 7, 4, 0, 0, 30, tzinfo=SGT)  # 16:00:30 UTC the day before
    await any_repo.outbox.mark_sent_many([(ids["1"], 7, midnight)])
    minutes = await any_repo.outbox.sent_per_minute(
        since=midnight - timedelta(hours=1), until=midnight + timedelta(hours=1)
    )
    assert minutes == [SentMinute(datetime(2026, 7, 3, 16, 0, tzinfo=UTC), channel=0, readers=1)]
    assert minutes[0].minute.astimezone(SGT).strftime("%d %H:%M") == "04 00:00"


async def test_review_previews_are_not_counted(any_repo: Repository) -> None:
    ids = await planned(any_repo, readers=1)
    # The same row as an editor's preview: not a channel post, not a reader's message.
    async with any_repo.engine.begin() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id == ids["1"])
            .values(kind=DeliveryKind.REVIEW.value)
        )
    await any_repo.outbox.mark_sent_many([(ids["1"], 9, T0), (ids["@c"], 10, T0)])
    minutes = await any_repo.outbox.sent_per_minute(since=T0, until=T0 + timedelta(minutes=1))
    assert minutes == [SentMinute(UTC_0930, channel=1, readers=0)]


async def test_concurrent_429s_from_two_processes_add_up(backend_url: str) -> None:
    first, second = Repository.open(backend_url), Repository.open(backend_url)
    await first.migrate()
    try:
        # Two workers' engines (as two processes have) counting into the same minute at once.
        await asyncio.gather(
            *(
                repo.activity.count_throttled(now=T0 + timedelta(seconds=n))
                for n in range(10)
                for repo in (first, second)
            ),
            second.activity.count_throttled(now=T0, count=5),
        )
        minutes = await first.activity.minutes(since=T0, until=T0 + timedelta(minutes=1))
    finally:
        await first.close()
        await second.close()
    assert minutes == [ActivityMinute(UTC_0930, throttled=25, pending=None)]


async def test_pending_is_sampled_per_minute_and_old_minutes_pruned(
    any_repo: Repository,
) -> None:
    await planned(any_repo, readers=2)  # 3 deliveries, claimed: sending, not waiting
    assert await any_repo.activity.record_pending(now=T0) == 0
    await any_repo.outbox.plan(
        make_article("a2", topics=("transport",)), channels=["@c"], keyword_matches=[], now=T0
    )
    await any_repo.activity.count_throttled(now=T0 + timedelta(seconds=10))
    # A second sample in the same minute replaces the first and keeps its 429s.
    assert await any_repo.activity.record_pending(now=T0 + timedelta(seconds=20)) == 3
    old = T0 - timedelta(days=3)
    await any_repo.activity.record_pending(now=old)

    window = await any_repo.activity.minutes(
        since=T0 - timedelta(days=4), until=T0 + timedelta(minutes=1)
    )
    assert window == [
        ActivityMinute(datetime(2026, 6, 30, 9, 30, tzinfo=UTC), throttled=0, pending=3),
        ActivityMinute(UTC_0930, throttled=1, pending=3),
    ]
    assert await any_repo.activity.prune(before=T0 - timedelta(days=2)) == 1
    left = await any_repo.activity.minutes(since=old, until=T0 + timedelta(minutes=1))
    assert [m.minute for m in left] == [UTC_0930]
