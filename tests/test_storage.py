"""Repository on a real SQLite file: articles, search, subscriptions and the delivery outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from content.models import (
    Article,
    Block,
    BlockKind,
    DeliveryKind,
    DeliveryState,
    SubscriptionKind,
    chat_id_of,
)
from content.storage import Repository, UpsertOutcome
from tests.support.articles import PUBLISHED, make_article
from tests.support.storage import deliveries_of, mark_sent

T0 = PUBLISHED
SGT = timezone(timedelta(hours=8))
CHANNEL = "@newswire_test"


async def reader(repo: Repository, chat_id: int, *subs: tuple[SubscriptionKind, str]) -> None:
    await repo.readers.upsert_chat(chat_id=chat_id, first_name="R", username=None, now=T0)
    for kind, value in subs:
        await repo.readers.subscribe(chat_id=chat_id, kind=kind, value=value, now=T0)


# -- schema ---------------------------------------------------------------------


async def test_migrate_twice_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/sub/dir/t.db"
    repo = Repository.open(url)
    try:
        await repo.migrate()
        await repo.articles.upsert(make_article("a1"), now=T0)
        await repo.migrate()
        assert await repo.articles.count() == 1
    finally:
        await repo.close()
    again = Repository.open(url)
    try:
        await again.migrate()
        assert await again.articles.get("a1") is not None
        async with again.engine.connect() as conn:
            result = await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            names = set(result.scalars().all())
        assert {"articles", "chats", "subscriptions", "deliveries", "source_files"} <= names
    finally:
        await again.close()


async def test_meta_round_trip(repo: Repository) -> None:
    assert await repo.sources.get_meta("k") is None
    await repo.sources.set_meta("k", "1")
    await repo.sources.set_meta("k", "2")
    assert await repo.sources.get_meta("k") == "2"


# -- articles -------------------------------------------------------------------


async def test_upsert_new_unchanged_updated(repo: Repository) -> None:
    story = make_article("a1", topics=("food",))
    assert await repo.articles.upsert(story, now=T0) is UpsertOutcome.NEW
    assert (
        await repo.articles.upsert(story, now=T0 + timedelta(minutes=1)) is UpsertOutcome.UNCHANGED
    )
    changed = make_article("a1", title="Story a1, corrected", topics=("food", "transport"))
    assert await repo.articles.upsert(changed, now=T0) is UpsertOutcome.UPDATED
    assert await repo.articles.count() == 1
    stored = await repo.articles.get("a1")
    assert stored is not None and stored.title == "Story a1, corrected"
    assert await repo.articles.known_topic("transport")
    # Topics follow the update: a removed topic is gone from the counts.
    await repo.articles.upsert(make_article("a1", topics=("transport",)), now=T0)
    counts = {c.topic: c.count for c in await repo.articles.topic_counts(now=T0)}
    assert counts == {"transport": 1}


async def test_same_instant_in_another_zone_is_unchanged(repo: Repository) -> None:
    await repo.articles.upsert(make_article("a1", published=T0), now=T0)
    same = make_article("a1", published=T0.astimezone(SGT))
    assert await repo.articles.upsert(same, now=T0) is UpsertOutcome.UNCHANGED


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
    await repo.articles.upsert(story, now=T0)
    back = await repo.articles.get("r1")
    assert back == story  # aware datetimes compare by instant
    assert back is not None and back.published is not None and back.publish_at is not None
    assert back.published.utcoffset() == timedelta(0)
    assert back.publish_at.utcoffset() == timedelta(0)
    assert back.published == published and back.publish_at == publish_at
    assert back.blocks == story.blocks
    assert await repo.articles.get("missing") is None


async def test_naive_datetime_is_refused(repo: Repository) -> None:
    with pytest.raises(Exception, match="naive"):
        await repo.articles.upsert(make_article("n1", published=datetime(2026, 1, 1)), now=T0)


async def test_latest_newest_first_and_embargo(repo: Repository) -> None:
    await repo.articles.upsert(make_article("old", published=T0 - timedelta(days=2)), now=T0)
    await repo.articles.upsert(make_article("new", published=T0 - timedelta(hours=1)), now=T0)
    # No published date: ranked by when it was first seen.
    await repo.articles.upsert(make_article("undated", published=None), now=T0 - timedelta(days=1))
    embargo = T0 + timedelta(hours=3)
    await repo.articles.upsert(
        make_article("future", published=T0 - timedelta(minutes=5), publish_at=embargo), now=T0
    )
    ids = [a.id for a in await repo.articles.latest(limit=10, now=T0)]
    assert ids == ["new", "undated", "old"]
    assert [a.id for a in await repo.articles.latest(limit=2, now=T0)] == ["new", "undated"]
    later = [a.id for a in await repo.articles.latest(limit=10, now=embargo)]
    assert later == ["future", "new", "undated", "old"]
    assert [
        a.id for a in await repo.articles.latest(limit=10, now=embargo - timedelta(seconds=1))
    ] == ids


async def test_embargo_hides_from_search_and_topics(repo: Repository) -> None:
    embargo = T0 + timedelta(hours=1)
    await repo.articles.upsert(
        make_article("e1", title="Otters secret", topics=("wildlife",), publish_at=embargo), now=T0
    )
    assert await repo.articles.search("otters", limit=5, now=T0) == []
    assert await repo.articles.topic_counts(now=T0) == []
    assert [h.article.id for h in await repo.articles.search("otters", limit=5, now=embargo)] == [
        "e1"
    ]
    assert [c.topic for c in await repo.articles.topic_counts(now=embargo)] == ["wildlife"]


# -- search ---------------------------------------------------------------------


async def test_search_title_beats_body(repo: Repository) -> None:
    await repo.articles.upsert(
        make_article("body", title="Weekend news", body="Otters swim."),
        now=T0,
    )
    await repo.articles.upsert(
        make_article("title", title="Otters at Bishan", published=T0 - timedelta(days=9)), now=T0
    )
    hits = await repo.articles.search("otters", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["title", "body"]
    assert hits[0].score > hits[1].score


async def test_search_more_matched_words_first(repo: Repository) -> None:
    await repo.articles.upsert(
        make_article("one", title="Hawker hawker hawker", body="hawker"),
        now=T0,
    )
    both = (Block(BlockKind.PARAGRAPH, "A new hawker centre with 24-hour stalls."),)
    await repo.articles.upsert(make_article("two", title="Punggol", blocks=both), now=T0)
    await repo.articles.upsert(make_article("none", title="Bus rides"), now=T0)
    hits = await repo.articles.search("hawker stalls", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["two", "one"]


async def test_search_matches_whole_words_case_insensitively(repo: Repository) -> None:
    await repo.articles.upsert(make_article("cat", title="A CAT story"), now=T0)
    await repo.articles.upsert(make_article("cats", title="Concatenate strings"), now=T0)
    assert [h.article.id for h in await repo.articles.search("Cat", limit=5, now=T0)] == ["cat"]
    assert await repo.articles.search("cat", limit=0, now=T0) == []


@pytest.mark.parametrize(
    "query",
    ["%", "%%", "_", "\\", "\\%", "'", '"', "'; DROP TABLE articles;--", "*", ""],
)
async def test_hostile_search_matches_nothing_and_breaks_nothing(
    repo: Repository, query: str
) -> None:
    for n in range(3):
        await repo.articles.upsert(make_article(f"h{n}", title=f"Plain story {n}"), now=T0)
    assert await repo.articles.search(query, limit=10, now=T0) == []
    assert await repo.articles.count() == 3


async def test_like_wildcards_in_words_are_literal(repo: Repository) -> None:
    await repo.articles.upsert(make_article("u", title="Using snake_case names"), now=T0)
    await repo.articles.upsert(make_article("x", title="Using snakeXcase names"), now=T0)
    await repo.articles.upsert(make_article("p", title="Prices up 100% this year"), now=T0)
    assert [h.article.id for h in await repo.articles.search("snake_case", limit=5, now=T0)] == [
        "u"
    ]
    assert [h.article.id for h in await repo.articles.search("100%", limit=5, now=T0)] == ["p"]


async def test_sql_in_a_search_finds_the_words_only(repo: Repository) -> None:
    await repo.articles.upsert(make_article("t", title="Table tennis results"), now=T0)
    await repo.articles.upsert(make_article("z", title="Unrelated"), now=T0)
    hits = await repo.articles.search("'; DROP TABLE articles;--", limit=5, now=T0)
    assert [h.article.id for h in hits] == ["t"]
    assert await repo.articles.count() == 2


# -- chats and subscriptions ----------------------------------------------------


async def test_subscriptions_are_unique_and_removable(repo: Repository) -> None:
    await reader(repo, 1)
    assert await repo.readers.subscribe(
        chat_id=1, kind=SubscriptionKind.TOPIC, value="food", now=T0
    )
    assert not await repo.readers.subscribe(
        chat_id=1, kind=SubscriptionKind.TOPIC, value="food", now=T0
    )
    assert await repo.readers.subscribe(
        chat_id=1, kind=SubscriptionKind.KEYWORD, value="mrt", now=T0
    )
    assert await repo.readers.subscribe(
        chat_id=2, kind=SubscriptionKind.TOPIC, value="food", now=T0
    )
    subs = await repo.readers.subscriptions_of(1)
    assert [(s.kind, s.value) for s in subs] == [
        (SubscriptionKind.TOPIC, "food"),
        (SubscriptionKind.KEYWORD, "mrt"),
    ]
    assert await repo.readers.unsubscribe(chat_id=1, value="food")
    assert not await repo.readers.unsubscribe(chat_id=1, value="food")
    assert [s.value for s in await repo.readers.subscriptions_of(1)] == ["mrt"]
    assert [s.value for s in await repo.readers.subscriptions_of(2)] == ["food"]  # others untouched
    assert await repo.readers.keyword_values() == ["mrt"]


# -- planning and the outbox ----------------------------------------------------


async def test_plan_deliveries_channels_and_matching_readers_once(repo: Repository) -> None:
    story = make_article("a1", topics=("food", "transport"))
    await repo.articles.upsert(story, now=T0)
    topic, keyword = SubscriptionKind.TOPIC, SubscriptionKind.KEYWORD
    await reader(repo, 1, (topic, "food"))
    await reader(repo, 2, (topic, "food"), (topic, "transport"), (keyword, "hawker"))  # 3 matches
    await reader(repo, 3, (keyword, "hawker"))
    await reader(repo, 4, (topic, "sports"), (keyword, "otters"))  # no match
    await reader(repo, 5, (topic, "food"))
    await repo.readers.deactivate(chat_id=5, reason="blocked", now=T0)
    await repo.readers.subscribe(
        chat_id=5, kind=topic, value="food", now=T0
    )  # inactive, subscribed
    # A subscription without a known chat row never gets a delivery.
    await repo.readers.subscribe(chat_id=6, kind=topic, value="food", now=T0)

    planned = await repo.outbox.plan(
        story, channels=[CHANNEL, "-1001"], keyword_matches=["hawker"], now=T0
    )
    rows = await deliveries_of(repo, "a1")
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
    again = await repo.outbox.plan(
        story, channels=[CHANNEL, "-1001"], keyword_matches=["hawker"], now=T0
    )
    assert again == 5  # the article's total: nothing added
    assert len(await deliveries_of(repo, "a1")) == 5
    assert await repo.articles.due_for_planning(now=T0) == []


async def test_articles_to_plan_skips_archived_and_embargoed(repo: Repository) -> None:
    await repo.articles.upsert(make_article("archived"), now=T0)
    await repo.articles.mark_archived("archived", now=T0)
    await repo.articles.upsert(make_article("fresh"), now=T0)
    later = T0 + timedelta(hours=2)
    await repo.articles.upsert(make_article("embargoed", publish_at=later), now=T0)
    assert [a.id for a in await repo.articles.due_for_planning(now=T0)] == ["fresh"]
    assert sorted(a.id for a in await repo.articles.due_for_planning(now=later)) == [
        "embargoed",
        "fresh",
    ]


async def planned_outbox(repo: Repository) -> None:
    story = make_article("a1", topics=("food",))
    await repo.articles.upsert(story, now=T0)
    await reader(repo, 1, (SubscriptionKind.TOPIC, "food"))
    await reader(repo, 2, (SubscriptionKind.TOPIC, "food"))
    await repo.outbox.plan(story, channels=[CHANNEL], keyword_matches=[], now=T0)


async def test_claim_due_channel_first_then_readers(repo: Repository) -> None:
    await planned_outbox(repo)
    assert await repo.outbox.claim_due(now=T0 - timedelta(seconds=1), limit=10) == []  # not yet due
    first = await repo.outbox.claim_due(now=T0, limit=1)
    assert [(d.chat_id, d.kind) for d in first] == [(CHANNEL, DeliveryKind.CHANNEL)]
    assert first[0].state is DeliveryState.SENDING and first[0].attempts == 1
    rest = await repo.outbox.claim_due(now=T0, limit=10)
    assert sorted(d.chat_id for d in rest) == ["1", "2"]
    assert all(d.kind is DeliveryKind.READER for d in rest)
    assert (
        await repo.outbox.claim_due(now=T0, limit=10) == []
    )  # all in flight: nothing claimed twice
    stored = {d.id: d for d in await deliveries_of(repo, "a1")}
    assert all(d.state is DeliveryState.SENDING and d.attempts == 1 for d in stored.values())


async def test_delivery_state_transitions(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, r1, r2 = await repo.outbox.claim_due(now=T0, limit=3)
    await mark_sent(repo, delivery_id=channel.id, message_id=77, now=T0)
    retry_at = T0 + timedelta(seconds=30)
    await repo.outbox.mark_retry(delivery_id=r1.id, at=retry_at, error="boom", now=T0)
    await repo.outbox.mark_dead(delivery_id=r2.id, error="400 chat not found", now=T0)
    rows = {d.id: d for d in await deliveries_of(repo, "a1")}
    assert rows[channel.id].state is DeliveryState.SENT and rows[channel.id].message_id == 77
    assert rows[r1.id].state is DeliveryState.FAILED and rows[r1.id].last_error == "boom"
    assert rows[r1.id].attempts == 1 and rows[r1.id].next_attempt_at == retry_at
    assert rows[r2.id].state is DeliveryState.DEAD
    assert await repo.outbox.next_due_at() == retry_at
    assert await repo.outbox.claim_due(now=retry_at - timedelta(seconds=1), limit=5) == []
    again = await repo.outbox.claim_due(now=retry_at, limit=5)
    assert [(d.id, d.attempts) for d in again] == [(r1.id, 2)]


async def test_a_correction_while_the_post_is_on_the_wire_edits_it_once_recorded(
    repo: Repository,
) -> None:
    await planned_outbox(repo)
    (channel,) = await repo.outbox.claim_due(now=T0, limit=1)  # sending, result not recorded
    assert await repo.outbox.requeue_channel_edits("a1", now=T0) == 1
    later = T0 + timedelta(seconds=1)
    await repo.outbox.mark_sent_many([(channel.id, 77, later)])
    row = next(d for d in await deliveries_of(repo, "a1") if d.id == channel.id)
    assert row.state is DeliveryState.PENDING and row.message_id == 77  # an edit of post 77
    (again,) = [d for d in await repo.outbox.claim_due(now=later, limit=5) if d.id == channel.id]
    await repo.outbox.mark_sent_many([(again.id, 77, later)])
    row = next(d for d in await deliveries_of(repo, "a1") if d.id == channel.id)
    assert row.state is DeliveryState.SENT  # edited once, not again and again


async def test_flood_wait_retry_keeps_attempts(repo: Repository) -> None:
    await planned_outbox(repo)
    (delivery,) = await repo.outbox.claim_due(now=T0, limit=1)
    assert delivery.attempts == 1
    at = T0 + timedelta(seconds=5)
    await repo.outbox.mark_retry(
        delivery_id=delivery.id, at=at, error="429 retry after 5", now=T0, count_attempt=False
    )
    row = next(d for d in await deliveries_of(repo, "a1") if d.id == delivery.id)
    assert row.state is DeliveryState.PENDING
    assert row.attempts == 0  # as before the claim: a flood wait is not a failed try
    (reclaimed,) = [d for d in await repo.outbox.claim_due(now=at, limit=5) if d.id == delivery.id]
    assert reclaimed.attempts == 1


async def test_deactivate_chat_drops_subscriptions_and_kills_pending(repo: Repository) -> None:
    await planned_outbox(repo)
    sent_story = make_article("a0", topics=("food",))
    await repo.articles.upsert(sent_story, now=T0)
    await repo.outbox.plan(sent_story, channels=[], keyword_matches=[], now=T0)
    for d in await repo.outbox.claim_due(now=T0, limit=10):
        if d.article_id == "a0" and d.chat_id == "1":
            await mark_sent(repo, delivery_id=d.id, message_id=5, now=T0)
        else:
            await repo.outbox.mark_retry(delivery_id=d.id, at=T0, error="x", now=T0)
    await repo.readers.deactivate(chat_id=1, reason="403 blocked", now=T0)
    assert await repo.readers.subscriptions_of(1) == []
    assert [s.value for s in await repo.readers.subscriptions_of(2)] == ["food"]
    mine = [d for a in ("a0", "a1") for d in await deliveries_of(repo, a) if d.chat_id == "1"]
    states = {d.article_id: (d.state, d.last_error) for d in mine}
    assert states["a1"] == (DeliveryState.DEAD, "403 blocked")
    assert states["a0"][0] is DeliveryState.SENT  # history kept
    others = [d for d in await deliveries_of(repo, "a1") if d.chat_id != "1"]
    assert all(d.state is DeliveryState.FAILED for d in others)
    assert await repo.readers.active_subscriber_count() == 1
    # A new story reaches only the remaining active reader.
    story = make_article("a2", topics=("food",))
    await repo.articles.upsert(story, now=T0)
    await repo.outbox.plan(story, channels=[], keyword_matches=[], now=T0)
    assert [d.chat_id for d in await deliveries_of(repo, "a2")] == ["2"]
    # Talking to the bot again makes the reader active (subscriptions stay gone).
    await repo.readers.upsert_chat(chat_id=1, first_name="R", username=None, now=T0)
    assert await repo.readers.active_subscriber_count() == 1


async def test_reclaim_dead_workers_and_expired_leases(repo: Repository) -> None:
    await planned_outbox(repo)
    lease = timedelta(minutes=2)
    (dead,) = await repo.outbox.claim_due(now=T0, limit=1, worker="w-dead", lease=lease)
    (alive,) = await repo.outbox.claim_due(now=T0, limit=1, worker="w-alive", lease=lease)
    short = timedelta(milliseconds=500)
    (slow,) = await repo.outbox.claim_due(now=T0, limit=1, worker="w-slow", lease=short)
    assert sorted(await repo.outbox.sending_owners()) == ["w-alive", "w-dead", "w-slow"]
    later = T0 + timedelta(seconds=1)
    # w-dead is known dead; w-slow's lease ran out; w-alive still holds a valid lease.
    assert await repo.outbox.reclaim(now=later, dead_workers=["w-dead"]) == 2
    rows = {d.id: d for d in await deliveries_of(repo, "a1")}
    assert rows[alive.id].state is DeliveryState.SENDING
    for d in (dead, slow):
        assert rows[d.id].state is DeliveryState.PENDING
        assert rows[d.id].next_attempt_at == later
    assert await repo.outbox.sending_owners() == ["w-alive"]
    assert await repo.outbox.reclaim(now=later, dead_workers=["w-dead"]) == 0
    # Once reclaimed, they are claimable again.
    again = await repo.outbox.claim_due(now=later, limit=5, worker="w-new")
    assert sorted(d.id for d in again) == sorted([dead.id, slow.id])


async def test_retries_due_go_before_the_queue(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, first_reader, _ = await repo.outbox.claim_due(now=T0, limit=3)
    await mark_sent(repo, delivery_id=channel.id, message_id=1, now=T0)
    await repo.outbox.mark_retry(delivery_id=first_reader.id, at=T0, error="timeout", now=T0)
    await repo.outbox.requeue_dead(article_id="a1", now=T0)  # no dead rows: a no-op
    story = make_article("b1", topics=("food",))
    await repo.articles.upsert(story, now=T0)
    await repo.outbox.plan(story, channels=[CHANNEL], keyword_matches=[], now=T0)
    (next_up,) = await repo.outbox.claim_due(now=T0, limit=1)
    assert next_up.id == first_reader.id  # the due retry, before b1's channel post
    (then,) = await repo.outbox.claim_due(now=T0, limit=1)
    assert (then.article_id, then.kind) == ("b1", DeliveryKind.CHANNEL)


async def test_migrate_chat_moves_unsent_and_subscriptions(repo: Repository) -> None:
    group, supergroup = "-100", "-1009999"
    await repo.readers.upsert_chat(chat_id=-100, first_name="Group", username=None, now=T0)
    await repo.readers.subscribe(chat_id=-100, kind=SubscriptionKind.TOPIC, value="food", now=T0)
    for article_id in ("s1", "s2"):
        story = make_article(article_id, topics=("food",))
        await repo.articles.upsert(story, now=T0)
        await repo.outbox.plan(story, channels=[], keyword_matches=[], now=T0)
    (sent,) = [d for d in await repo.outbox.claim_due(now=T0, limit=5) if d.article_id == "s1"]
    await mark_sent(repo, delivery_id=sent.id, message_id=1, now=T0)
    await repo.readers.move_chat(old_chat_id=group, new_chat_id=supergroup, now=T0)
    assert [d.chat_id for d in await deliveries_of(repo, "s1")] == [group]  # sent: history
    assert [d.chat_id for d in await deliveries_of(repo, "s2")] == [supergroup]
    assert await repo.readers.subscriptions_of(-100) == []
    assert [s.value for s in await repo.readers.subscriptions_of(-1009999)] == ["food"]
    assert await repo.readers.active_subscriber_count() == 1


async def test_outbox_counts(repo: Repository) -> None:
    await planned_outbox(repo)
    channel, r1, r2 = await repo.outbox.claim_due(now=T0, limit=3)
    await mark_sent(repo, delivery_id=channel.id, message_id=1, now=T0 - timedelta(hours=2))
    await mark_sent(repo, delivery_id=r1.id, message_id=2, now=T0)
    await repo.outbox.mark_dead(delivery_id=r2.id, error="gone", now=T0)
    counts = await repo.outbox.counts(since=T0 - timedelta(hours=1))
    assert counts.by_state == {DeliveryState.SENT: 2, DeliveryState.DEAD: 1}
    assert counts.sent_last_hour == 1
    assert counts.failed_last_hour == 1
    empty = await repo.outbox.counts(since=T0 + timedelta(hours=1))
    assert (empty.sent_last_hour, empty.failed_last_hour) == (0, 0)


# -- concurrent writers (race-free upserts) --------------------------------------


async def test_two_scans_storing_the_same_new_article_make_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/race.db"
    first, second = Repository.open(url), Repository.open(url)
    try:
        await first.migrate()
        for attempt in range(5):
            story = make_article(f"race{attempt}", topics=("food", "transport"))
            outcomes = await asyncio.gather(
                first.articles.upsert(story, now=T0), second.articles.upsert(story, now=T0)
            )
            assert sorted(o.value for o in outcomes) == ["new", "unchanged"]
        assert await first.articles.count() == 5
        counts = {c.topic: c.count for c in await first.articles.topic_counts(now=T0)}
        assert counts == {"food": 5, "transport": 5}
    finally:
        await first.close()
        await second.close()


async def test_concurrent_reader_writes_never_fail(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/race.db"
    first, second = Repository.open(url), Repository.open(url)
    try:
        await first.migrate()
        for repo in (first, second):
            await asyncio.gather(
                *(
                    r.readers.upsert_chat(
                        chat_id=chat_id_of(7), first_name="R", username=None, now=T0
                    )
                    for r in (first, second)
                )
            )
            created = await asyncio.gather(
                *(
                    r.readers.subscribe(
                        chat_id=chat_id_of(7), kind=SubscriptionKind.TOPIC, value="food", now=T0
                    )
                    for r in (first, second)
                )
            )
            assert sorted(created) == ([False, True] if repo is first else [False, False])
        assert await first.readers.active_subscriber_count() == 1
    finally:
        await first.close()
        await second.close()


# -- clock steps --------------------------------------------------------------------

WALL = 1_800_000_000.0  # epoch seconds, as the shared budget keeps them


async def test_budget_reserved_before_a_backward_clock_step_does_not_stall(
    repo: Repository,
) -> None:
    # Reserved an hour "ahead", then the clock stepped back an hour: sending goes on now.
    await repo.budget.reserve_slots(scope="g", count=30, interval=1 / 30, now=WALL + 3600)
    first = await repo.budget.reserve_slots(scope="g", count=30, interval=1 / 30, now=WALL)
    assert first == WALL
    # And the budget still spaces the sends that follow.
    after = await repo.budget.reserve_slots(scope="g", count=1, interval=1 / 30, now=WALL)
    assert after == pytest.approx(WALL + 1.0)


async def test_pause_before_a_backward_clock_step_does_not_stall(repo: Repository) -> None:
    await repo.budget.pause_scope(scope="g", until=WALL + 3600 + 30, now=WALL + 3600)
    assert await repo.budget.reserve_slots(scope="g", count=1, interval=1.0, now=WALL) == WALL
    # A fresh pause after the step replaces the stale one even though it ends earlier.
    await repo.budget.pause_scope(scope="h", until=WALL + 3600 + 30, now=WALL + 3600)
    await repo.budget.pause_scope(scope="h", until=WALL + 20, now=WALL)
    assert await repo.budget.reserve_slots(scope="h", count=1, interval=1.0, now=WALL) == WALL + 20


async def test_a_long_pause_is_kept_without_a_clock_step(repo: Repository) -> None:
    await repo.budget.pause_scope(scope="g", until=WALL + 300, now=WALL)
    later = WALL + 10
    assert await repo.budget.reserve_slots(scope="g", count=1, interval=1.0, now=later) == (
        WALL + 300
    )


async def test_lease_taken_before_a_backward_clock_step_expires_after_one_lease(
    repo: Repository,
) -> None:
    await planned_outbox(repo)
    ahead = T0 + timedelta(hours=1)
    (held,) = await repo.outbox.claim_due(now=ahead, limit=1, worker="w-ahead")
    # Right after the step the claim may still be in flight: it is kept...
    assert await repo.outbox.reclaim(now=T0) == 0
    # ...but one lease later (not one hour later) it goes back to the queue.
    assert await repo.outbox.reclaim(now=T0 + timedelta(seconds=61)) == 1
    row = next(d for d in await deliveries_of(repo, "a1") if d.id == held.id)
    assert row.state is DeliveryState.PENDING


# -- one bot per database --------------------------------------------------------------

TTL = timedelta(seconds=45)


async def test_bot_lock_is_held_renewed_released(repo: Repository) -> None:
    locks = repo.locks
    assert await locks.acquire("bot", owner="h:1:a", now=T0, ttl=TTL) is None
    assert await locks.acquire("bot", owner="h:2:b", now=T0, ttl=TTL) == "h:1:a"
    # Renewing keeps it past the first lease.
    assert (
        await locks.acquire("bot", owner="h:1:a", now=T0 + TTL - timedelta(seconds=1), ttl=TTL)
        is None
    )
    assert (
        await locks.acquire("bot", owner="h:2:b", now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
        == "h:1:a"
    )
    await locks.release("bot", owner="h:2:b")  # not the holder: nothing happens
    assert await locks.holder("bot") == "h:1:a"
    await locks.release("bot", owner="h:1:a")
    assert await locks.acquire("bot", owner="h:2:b", now=T0, ttl=TTL) is None


async def test_bot_lock_of_a_crashed_holder(repo: Repository) -> None:
    locks = repo.locks
    await locks.acquire("bot", owner="h:1:a", now=T0, ttl=TTL)
    # Its lease ran out: anyone takes over.
    assert (
        await locks.acquire("bot", owner="h:2:b", now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
        is None
    )
    # Its process is known dead: taken over at once.
    dead = {"h:2:b"}
    assert (
        await locks.acquire("bot", owner="h:3:c", now=T0 + TTL, ttl=TTL, is_dead=dead.__contains__)
        is None
    )
    assert await locks.holder("bot") == "h:3:c"


async def test_bot_lock_taken_before_a_backward_clock_step_expires_after_one_lease(
    repo: Repository,
) -> None:
    locks = repo.locks
    await locks.acquire("bot", owner="h:1:a", now=T0 + timedelta(hours=1), ttl=TTL)
    assert await locks.acquire("bot", owner="h:2:b", now=T0, ttl=TTL) == "h:1:a"
    assert (
        await locks.acquire("bot", owner="h:2:b", now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
        is None
    )
