"""Repository on a real SQLite file: articles, search, subscriptions and the delivery outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from content.models import (
    Article,
    Block,
    BlockKind,
    DeliveryKind,
    DeliveryState,
    SubscriptionKind,
)
from content.storage import Repository, UpsertOutcome

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
SGT = timezone(timedelta(hours=8))
CHANNEL = "@newswire_test"


def make(article_id: str, **overrides: Any) -> Article:
    values: dict[str, Any] = {
        "id": article_id,
        "title": f"Story {article_id}",
        "blocks": (Block(BlockKind.PARAGRAPH, f"Body of {article_id}."),),
        "published": T0,
    }
    values.update(overrides)
    return Article(**values)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    repository = Repository.open(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await repository.migrate()
    try:
        yield repository
    finally:
        await repository.close()


async def reader(repo: Repository, chat_id: int, *subs: tuple[SubscriptionKind, str]) -> None:
    await repo.upsert_chat(chat_id=chat_id, first_name="R", username=None, now=T0)
    for kind, value in subs:
        await repo.subscribe(chat_id=chat_id, kind=kind, value=value, now=T0)


# -- schema ---------------------------------------------------------------------


async def test_migrate_twice_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/sub/dir/t.db"
    repo = Repository.open(url)
    try:
        await repo.migrate()
        await repo.upsert_article(make("a1"), now=T0)
        await repo.migrate()
        assert await repo.article_count() == 1
    finally:
        await repo.close()
    again = Repository.open(url)
    try:
        await again.migrate()
        assert await again.get_article("a1") is not None
        conn = await again.connection()
        try:
            result = await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            names = set(result.scalars().all())
        finally:
            await conn.close()
        assert {"articles", "chats", "subscriptions", "deliveries", "source_files"} <= names
    finally:
        await again.close()


async def test_meta_round_trip(repo: Repository) -> None:
    assert await repo.get_meta("k") is None
    await repo.set_meta("k", "1")
    await repo.set_meta("k", "2")
    assert await repo.get_meta("k") == "2"


# -- articles -------------------------------------------------------------------


async def test_upsert_new_unchanged_updated(repo: Repository) -> None:
    story = make("a1", topics=("food",))
    assert await repo.upsert_article(story, now=T0) is UpsertOutcome.NEW
    assert (
        await repo.upsert_article(story, now=T0 + timedelta(minutes=1)) is UpsertOutcome.UNCHANGED
    )
    changed = make("a1", title="Story a1, corrected", topics=("food", "transport"))
    assert await repo.upsert_article(changed, now=T0) is UpsertOutcome.UPDATED
    assert await repo.article_count() == 1
    stored = await repo.get_article("a1")
    assert stored is not None and stored.title == "Story a1, corrected"
    assert await repo.known_topic("transport")
    # Topics follow the update: a removed topic is gone from the counts.
    await repo.upsert_article(make("a1", topics=("transport",)), now=T0)
    counts = {c.topic: c.count for c in await repo.topic_counts(now=T0)}
    assert counts == {"transport": 1}


async def test_same_instant_in_another_zone_is_unchanged(repo: Repository) -> None:
    await repo.upsert_article(make("a1", published=T0), now=T0)
    same = make("a1", published=T0.astimezone(SGT))
    assert await repo.upsert_article(same, now=T0) is UpsertOutcome.UNCHANGED


async def test_article_round_trip(repo: Repository) -> None:
    published = datetime(2022, 3, 4, 2, 3, tzinfo=SGT)
    publish_at = datetime(2022, 3, 4, 6, 0, tzinfo=timezone(timedelta(hours=-5)))
    story = Article(
        id="r1",
        title="Ünïcode “title” & <tags> 🎉",
        blocks=(
            Block(BlockKind.PARAGRAPH, "First paragraph, with 'quotes' and \"more\"."),
            Block(BlockKind.HEADING, "A heading"),
            Block(BlockKind.PARAGRAPH, "مرحبا — last paragraph.\nWith a line break."),
        ),
        standfirst="The standfirst.",
        author="Belmont Lay",
        published=published,
        tags=("Wildlife", "Bishan Park"),
        topics=("wildlife", "bishan-park"),
        summary="A summary.",
        channel_hint="https://t.me/mothershipsg",
        url="https://example.com/r1",
        image="https://example.com/r1.jpg",
        publish_at=publish_at,
        source="/content/r1.md",
    )
    await repo.upsert_article(story, now=T0)
    back = await repo.get_article("r1")
    assert back == story  # aware datetimes compare by instant
    assert back is not None and back.published is not None and back.publish_at is not None
    assert back.published.utcoffset() == timedelta(0)
    assert back.publish_at.utcoffset() == timedelta(0)
    assert back.published == published and back.publish_at == publish_at
    assert back.blocks == story.blocks
    assert await repo.get_article("missing") is None


async def test_naive_datetime_is_refused(repo: Repository) -> None:
    with pytest.raises(Exception, match="naive"):
        await repo.upsert_article(make("n1", published=datetime(2026, 1, 1)), now=T0)


async def test_latest_newest_first_and_embargo(repo: Repository) -> None:
    await repo.upsert_article(make("old", published=T0 - timedelta(days=2)), now=T0)
    await repo.upsert_article(make("new", published=T0 - timedelta(hours=1)), now=T0)
    # No published date: ranked by when it was first seen.
    await repo.upsert_article(make("undated", published=None), now=T0 - timedelta(days=1))
    embargo = T0 + timedelta(hours=3)
    await repo.upsert_article(
        make("future", published=T0 - timedelta(minutes=5), publish_at=embargo), now=T0
    )
    ids = [a.id for a in await repo.latest(limit=10, now=T0)]
    assert ids == ["new", "undated", "old"]
    assert [a.id for a in await repo.latest(limit=2, now=T0)] == ["new", "undated"]
    later = [a.id for a in await repo.latest(limit=10, now=embargo)]
    assert later == ["future", "new", "undated", "old"]
    assert [a.id for a in await repo.latest(limit=10, now=embargo - timedelta(seconds=1))] == ids


async def test_embargo_hides_from_search_and_topics(repo: Repository) -> None:
    embargo = T0 + timedelta(hours=1)
    await repo.upsert_article(
        make("e1", title="Otters secret", topics=("wildlife",), publish_at=embargo), now=T0
    )
    assert await repo.search("otters", limit=5, now=T0) == []
    assert await repo.topic_counts(now=T0) == []
    assert [h.article.id for h in await repo.search("otters", limit=5, now=embargo)] == ["e1"]
    assert [c.topic for c in await repo.topic_counts(now=embargo)] == ["wildlife"]


# -- search ---------------------------------------------------------------------


async def test_search_title_beats_body(repo: Repository) -> None:
    await repo.upsert_article(
        make("body", title="Weekend news", blocks=(Block(BlockKind.PARAGRAPH, "Otters swim."),)),
        now=T0,
    )
    await repo.upsert_article(
        make("title", title="Otters at Bishan", published=T0 - timedelta(days=9)), now=T0
    )
    hits = await repo.search("otters", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["title", "body"]
    assert hits[0].score > hits[1].score


async def test_search_more_matched_words_first(repo: Repository) -> None:
    await repo.upsert_article(
        make("one", title="Hawker hawker hawker", blocks=(Block(BlockKind.PARAGRAPH, "hawker"),)),
        now=T0,
    )
    both = (Block(BlockKind.PARAGRAPH, "A new hawker centre with 24-hour stalls."),)
    await repo.upsert_article(make("two", title="Punggol", blocks=both), now=T0)
    await repo.upsert_article(make("none", title="Bus rides"), now=T0)
    hits = await repo.search("hawker stalls", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["two", "one"]


async def test_search_matches_whole_words_case_insensitively(repo: Repository) -> None:
    await repo.upsert_article(make("cat", title="A CAT story"), now=T0)
    await repo.upsert_article(make("cats", title="Concatenate strings"), now=T0)
    assert [h.article.id for h in await repo.search("Cat", limit=5, now=T0)] == ["cat"]
    assert await repo.search("cat", limit=0, now=T0) == []


@pytest.mark.parametrize(
    "query",
    ["%", "%%", "_", "\\", "\\%", "'", '"', "'; DROP TABLE articles;--", "*", ""],
)
async def test_hostile_search_matches_nothing_and_breaks_nothing(
    repo: Repository, query: str
) -> None:
    for n in range(3):
        await repo.upsert_article(make(f"h{n}", title=f"Plain story {n}"), now=T0)
    assert await repo.search(query, limit=10, now=T0) == []
    assert await repo.article_count() == 3


async def test_like_wildcards_in_words_are_literal(repo: Repository) -> None:
    await repo.upsert_article(make("u", title="Using snake_case names"), now=T0)
    await repo.upsert_article(make("x", title="Using snakeXcase names"), now=T0)
    await repo.upsert_article(make("p", title="Prices up 100% this year"), now=T0)
    assert [h.article.id for h in await repo.search("snake_case", limit=5, now=T0)] == ["u"]
    assert [h.article.id for h in await repo.search("100%", limit=5, now=T0)] == ["p"]


async def test_sql_in_a_search_finds_the_words_only(repo: Repository) -> None:
    await repo.upsert_article(make("t", title="Table tennis results"), now=T0)
    await repo.upsert_article(make("z", title="Unrelated"), now=T0)
    hits = await repo.search("'; DROP TABLE articles;--", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["t"]
    assert await repo.article_count() == 2


# -- chats and subscriptions ----------------------------------------------------


async def test_subscriptions_are_unique_and_removable(repo: Repository) -> None:
    await reader(repo, 1)
    assert await repo.subscribe(chat_id=1, kind=SubscriptionKind.TOPIC, value="food", now=T0)
    assert not await repo.subscribe(chat_id=1, kind=SubscriptionKind.TOPIC, value="food", now=T0)
    assert await repo.subscribe(chat_id=1, kind=SubscriptionKind.KEYWORD, value="mrt", now=T0)
    assert await repo.subscribe(chat_id=2, kind=SubscriptionKind.TOPIC, value="food", now=T0)
    subs = await repo.subscriptions_of(1)
    assert [(s.kind, s.value) for s in subs] == [
        (SubscriptionKind.TOPIC, "food"),
        (SubscriptionKind.KEYWORD, "mrt"),
    ]
    assert await repo.unsubscribe(chat_id=1, value="food")
    assert not await repo.unsubscribe(chat_id=1, value="food")
    assert [s.value for s in await repo.subscriptions_of(1)] == ["mrt"]
    assert [s.value for s in await repo.subscriptions_of(2)] == ["food"]  # others untouched
    assert await repo.keyword_values() == ["mrt"]


# -- planning and the outbox ----------------------------------------------------


async def test_plan_deliveries_channels_and_matching_readers_once(repo: Repository) -> None:
    story = make("a1", topics=("food", "transport"))
    await repo.upsert_article(story, now=T0)
    topic, keyword = SubscriptionKind.TOPIC, SubscriptionKind.KEYWORD
    await reader(repo, 1, (topic, "food"))
    await reader(repo, 2, (topic, "food"), (topic, "transport"), (keyword, "hawker"))  # 3 matches
    await reader(repo, 3, (keyword, "hawker"))
    await reader(repo, 4, (topic, "sports"), (keyword, "otters"))  # no match
    await reader(repo, 5, (topic, "food"))
    await repo.deactivate_chat(chat_id=5, reason="blocked", now=T0)
    await repo.subscribe(chat_id=5, kind=topic, value="food", now=T0)  # inactive, subscribed
    # A subscription without a known chat row never gets a delivery.
    await repo.subscribe(chat_id=6, kind=topic, value="food", now=T0)

    planned = await repo.plan_deliveries(
        story, channels=[CHANNEL, "-1001"], keyword_matches=["hawker"], now=T0
    )
    rows = await repo.deliveries_of("a1")
    assert planned == len(rows) == 5
    assert sorted((d.chat_id, d.kind) for d in rows) == [
        ("-1001", DeliveryKind.CHANNEL),
        ("1", DeliveryKind.READER),
        ("2", DeliveryKind.READER),
        ("3", DeliveryKind.READER),
        (CHANNEL, DeliveryKind.CHANNEL),
    ]
    assert all(d.state is DeliveryState.PENDING and d.attempts == 0 for d in rows)
    assert all(d.next_attempt_at == T0 for d in rows)
    # Planning again adds nothing, and the article is no longer waiting to be planned.
    again = await repo.plan_deliveries(
        story, channels=[CHANNEL, "-1001"], keyword_matches=["hawker"], now=T0
    )
    assert again == 5  # the article's total: nothing added
    assert len(await repo.deliveries_of("a1")) == 5
    assert await repo.articles_to_plan(now=T0) == []


async def test_articles_to_plan_skips_archived_and_embargoed(repo: Repository) -> None:
    await repo.upsert_article(make("archived"), now=T0)
    await repo.mark_archived("archived", now=T0)
    await repo.upsert_article(make("fresh"), now=T0)
    later = T0 + timedelta(hours=2)
    await repo.upsert_article(make("embargoed", publish_at=later), now=T0)
    assert [a.id for a in await repo.articles_to_plan(now=T0)] == ["fresh"]
    assert sorted(a.id for a in await repo.articles_to_plan(now=later)) == ["embargoed", "fresh"]


async def planned_outbox(repo: Repository) -> None:
    story = make("a1", topics=("food",))
    await repo.upsert_article(story, now=T0)
    await reader(repo, 1, (SubscriptionKind.TOPIC, "food"))
    await reader(repo, 2, (SubscriptionKind.TOPIC, "food"))
    await repo.plan_deliveries(story, channels=[CHANNEL], keyword_matches=[], now=T0)


async def test_claim_due_channel_first_then_readers(repo: Repository) -> None:
    await planned_outbox(repo)
    assert await repo.claim_due(now=T0 - timedelta(seconds=1), limit=10) == []  # not yet due
    first = await repo.claim_due(now=T0, limit=1)
    assert [(d.chat_id, d.kind) for d in first] == [(CHANNEL, DeliveryKind.CHANNEL)]
    assert first[0].state is DeliveryState.SENDING and first[0].attempts == 1
    rest = await repo.claim_due(now=T0, limit=10)
    assert sorted(d.chat_id for d in rest) == ["1", "2"]
    assert all(d.kind is DeliveryKind.READER for d in rest)
    assert await repo.claim_due(now=T0, limit=10) == []  # all in flight: nothing claimed twice
    stored = {d.id: d for d in await repo.deliveries_of("a1")}
    assert all(d.state is DeliveryState.SENDING and d.attempts == 1 for d in stored.values())


async def test_delivery_state_transitions(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, r1, r2 = await repo.claim_due(now=T0, limit=3)
    await repo.mark_sent(delivery_id=channel.id, message_id=77, now=T0)
    retry_at = T0 + timedelta(seconds=30)
    await repo.mark_retry(delivery_id=r1.id, at=retry_at, error="boom", now=T0)
    await repo.mark_dead(delivery_id=r2.id, error="400 chat not found", now=T0)
    rows = {d.id: d for d in await repo.deliveries_of("a1")}
    assert rows[channel.id].state is DeliveryState.SENT and rows[channel.id].message_id == 77
    assert rows[r1.id].state is DeliveryState.FAILED and rows[r1.id].last_error == "boom"
    assert rows[r1.id].attempts == 1 and rows[r1.id].next_attempt_at == retry_at
    assert rows[r2.id].state is DeliveryState.DEAD
    assert await repo.next_due_at() == retry_at
    assert await repo.claim_due(now=retry_at - timedelta(seconds=1), limit=5) == []
    again = await repo.claim_due(now=retry_at, limit=5)
    assert [(d.id, d.attempts) for d in again] == [(r1.id, 2)]


async def test_flood_wait_retry_keeps_attempts(repo: Repository) -> None:
    await planned_outbox(repo)
    (delivery,) = await repo.claim_due(now=T0, limit=1)
    assert delivery.attempts == 1
    at = T0 + timedelta(seconds=5)
    await repo.mark_retry(
        delivery_id=delivery.id, at=at, error="429 retry after 5", now=T0, count_attempt=False
    )
    row = next(d for d in await repo.deliveries_of("a1") if d.id == delivery.id)
    assert row.state is DeliveryState.PENDING
    assert row.attempts == 0  # as before the claim: a flood wait is not a failed try
    (reclaimed,) = [d for d in await repo.claim_due(now=at, limit=5) if d.id == delivery.id]
    assert reclaimed.attempts == 1


async def test_deactivate_chat_drops_subscriptions_and_kills_pending(repo: Repository) -> None:
    await planned_outbox(repo)
    sent_story = make("a0", topics=("food",))
    await repo.upsert_article(sent_story, now=T0)
    await repo.plan_deliveries(sent_story, channels=[], keyword_matches=[], now=T0)
    for d in await repo.claim_due(now=T0, limit=10):
        if d.article_id == "a0" and d.chat_id == "1":
            await repo.mark_sent(delivery_id=d.id, message_id=5, now=T0)
        else:
            await repo.mark_retry(delivery_id=d.id, at=T0, error="x", now=T0)
    await repo.deactivate_chat(chat_id=1, reason="403 blocked", now=T0)
    assert await repo.subscriptions_of(1) == []
    assert [s.value for s in await repo.subscriptions_of(2)] == ["food"]
    mine = [d for a in ("a0", "a1") for d in await repo.deliveries_of(a) if d.chat_id == "1"]
    states = {d.article_id: (d.state, d.last_error) for d in mine}
    assert states["a1"] == (DeliveryState.DEAD, "403 blocked")
    assert states["a0"][0] is DeliveryState.SENT  # history kept
    others = [d for d in await repo.deliveries_of("a1") if d.chat_id != "1"]
    assert all(d.state is DeliveryState.FAILED for d in others)
    assert await repo.active_subscriber_count() == 1
    # A new story reaches only the remaining active reader.
    story = make("a2", topics=("food",))
    await repo.upsert_article(story, now=T0)
    await repo.plan_deliveries(story, channels=[], keyword_matches=[], now=T0)
    assert [d.chat_id for d in await repo.deliveries_of("a2")] == ["2"]
    # Talking to the bot again makes the reader active (subscriptions stay gone).
    await repo.upsert_chat(chat_id=1, first_name="R", username=None, now=T0)
    assert await repo.active_subscriber_count() == 1


async def test_reclaim_dead_workers_and_expired_leases(repo: Repository) -> None:
    await planned_outbox(repo)
    lease = timedelta(minutes=2)
    (dead,) = await repo.claim_due(now=T0, limit=1, worker="w-dead", lease=lease)
    (alive,) = await repo.claim_due(now=T0, limit=1, worker="w-alive", lease=lease)
    short = timedelta(milliseconds=500)
    (slow,) = await repo.claim_due(now=T0, limit=1, worker="w-slow", lease=short)
    assert sorted(await repo.sending_owners()) == ["w-alive", "w-dead", "w-slow"]
    later = T0 + timedelta(seconds=1)
    # w-dead is known dead; w-slow's lease ran out; w-alive still holds a valid lease.
    assert await repo.reclaim(now=later, dead_workers=["w-dead"]) == 2
    rows = {d.id: d for d in await repo.deliveries_of("a1")}
    assert rows[alive.id].state is DeliveryState.SENDING
    for d in (dead, slow):
        assert rows[d.id].state is DeliveryState.PENDING
        assert rows[d.id].next_attempt_at == later
    assert await repo.sending_owners() == ["w-alive"]
    assert await repo.reclaim(now=later, dead_workers=["w-dead"]) == 0
    # Once reclaimed, they are claimable again.
    again = await repo.claim_due(now=later, limit=5, worker="w-new")
    assert sorted(d.id for d in again) == sorted([dead.id, slow.id])


async def test_retries_due_go_before_the_queue(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, first_reader, _ = await repo.claim_due(now=T0, limit=3)
    await repo.mark_sent(delivery_id=channel.id, message_id=1, now=T0)
    await repo.mark_retry(delivery_id=first_reader.id, at=T0, error="timeout", now=T0)
    await repo.requeue_dead(article_id="a1", now=T0)  # no dead rows: a no-op
    story = make("b1", topics=("food",))
    await repo.upsert_article(story, now=T0)
    await repo.plan_deliveries(story, channels=[CHANNEL], keyword_matches=[], now=T0)
    (next_up,) = await repo.claim_due(now=T0, limit=1)
    assert next_up.id == first_reader.id  # the due retry, before b1's channel post
    (then,) = await repo.claim_due(now=T0, limit=1)
    assert (then.article_id, then.kind) == ("b1", DeliveryKind.CHANNEL)


async def test_migrate_chat_moves_unsent_and_subscriptions(repo: Repository) -> None:
    group, supergroup = "-100", "-1009999"
    await repo.upsert_chat(chat_id=-100, first_name="Group", username=None, now=T0)
    await repo.subscribe(chat_id=-100, kind=SubscriptionKind.TOPIC, value="food", now=T0)
    for article_id in ("s1", "s2"):
        story = make(article_id, topics=("food",))
        await repo.upsert_article(story, now=T0)
        await repo.plan_deliveries(story, channels=[], keyword_matches=[], now=T0)
    (sent,) = [d for d in await repo.claim_due(now=T0, limit=5) if d.article_id == "s1"]
    await repo.mark_sent(delivery_id=sent.id, message_id=1, now=T0)
    await repo.migrate_chat(old_chat_id=group, new_chat_id=supergroup, now=T0)
    assert [d.chat_id for d in await repo.deliveries_of("s1")] == [group]  # sent: history
    assert [d.chat_id for d in await repo.deliveries_of("s2")] == [supergroup]
    assert await repo.subscriptions_of(-100) == []
    assert [s.value for s in await repo.subscriptions_of(-1009999)] == ["food"]
    assert await repo.active_subscriber_count() == 1


async def test_outbox_counts(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, r1, r2 = await repo.claim_due(now=T0, limit=3)
    await repo.mark_sent(delivery_id=channel.id, message_id=1, now=T0 - timedelta(hours=2))
    await repo.mark_sent(delivery_id=r1.id, message_id=2, now=T0)
    await repo.mark_dead(delivery_id=r2.id, error="gone", now=T0)
    counts = await repo.outbox_counts(since=T0 - timedelta(hours=1))
    assert counts.by_state == {DeliveryState.SENT: 2, DeliveryState.DEAD: 1}
    assert counts.sent_last_hour == 1
    assert counts.failed_last_hour == 1
    empty = await repo.outbox_counts(since=T0 + timedelta(hours=1))
    assert (empty.sent_last_hour, empty.failed_last_hour) == (0, 0)


@pytest.mark.parametrize(
    ("rate", "peer", "cap"),
    [
        (1000.0, True, 500),  # short claims: each of two workers keeps to half the limit
        (1000.0, False, 1000),  # alone: the whole limit
        (30.0, True, 30),  # 2-second claims: a share would bind and push sends late
    ],
)
async def test_worker_window_holds_its_share_only_when_claims_are_short(
    repo: Repository, rate: float, peer: bool, cap: int
) -> None:
    from bot.delivery.pacing import PacerConfig
    from bot.delivery.worker import DeliveryWorker

    await planned_outbox(repo)
    if peer:  # another machine's worker holds a delivery right now
        await repo.claim_due(now=T0, limit=1, worker="otherhost:4321:peer")
    worker = DeliveryWorker(
        repo=repo,
        bot=None,  # type: ignore[arg-type]  # nothing is sent here
        render=lambda article, kind: None,  # type: ignore[arg-type,return-value]
        clock=lambda: T0,
        wakeup=asyncio.Event(),
        pacing=PacerConfig(global_per_second=rate, safety=1.0),
    )
    await worker._maintain()
    assert worker._window.cap == cap
