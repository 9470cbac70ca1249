"""The same product on a real PostgreSQL: migrations, claims under concurrency, shared budget."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Newswire, Role
from content.models import Article, DeliveryState, SubscriptionKind
from content.storage import Repository
from tests.support.articles import NEW_ARTICLE, make_article, write
from tests.support.outbox import channel_posts
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def database_url(pg_url: str) -> str:
    """Every stack in this module runs on PostgreSQL."""
    return pg_url


def article(n: int) -> Article:
    return make_article(f"a{n}", title=f"Story {n}", published=NOW, topics=("bench",))


async def seeded(url: str, readers: int) -> Repository:
    repo = Repository.open(url)
    await repo.migrate()
    for chat_id in range(1, readers + 1):
        await repo.readers.upsert_chat(chat_id=chat_id, first_name=None, username=None, now=NOW)
        await repo.readers.subscribe(
            chat_id=chat_id, kind=SubscriptionKind.TOPIC, value="bench", now=NOW
        )
    return repo


async def test_migrations_and_queries_match_sqlite(pg_url: str) -> None:
    repo = await seeded(pg_url, readers=3)
    try:
        await repo.migrate()  # idempotent
        assert (await repo.articles.upsert(article(1), now=NOW)).value == "new"
        assert (await repo.articles.upsert(article(1), now=NOW)).value == "unchanged"
        hits = await repo.articles.search('story "1" %_\\', limit=5, now=NOW)
        assert [h.article.id for h in hits] == ["a1"]
        planned = await repo.outbox.plan(article(1), channels=["@c"], keyword_matches=[], now=NOW)
        assert planned == 4
        claimed = await repo.outbox.claim_due(now=NOW, limit=10, worker="w")
        assert claimed[0].chat_id == "@c"  # channel first
        assert {d.state for d in claimed} == {DeliveryState.SENDING}
        assert await repo.outbox.reclaim(now=NOW, dead_workers=["w"]) == 4
    finally:
        await repo.close()


async def test_concurrent_claims_never_overlap(pg_url: str) -> None:
    repo = await seeded(pg_url, readers=300)
    other = Repository.open(pg_url)
    try:
        await repo.articles.upsert(article(1), now=NOW)
        await repo.outbox.plan(article(1), channels=[], keyword_matches=[], now=NOW)

        async def drain(r: Repository, name: str) -> list[int]:
            got: list[int] = []
            while batch := await r.outbox.claim_due(now=NOW, limit=7, worker=name):
                got += [d.id for d in batch]
            return got

        first, second = await asyncio.gather(drain(repo, "w1"), drain(other, "w2"))
        assert not set(first) & set(second)
        assert len(first) + len(second) == 300
        assert first and second  # both took part
    finally:
        await other.close()
        await repo.close()


async def test_concurrent_upserts_of_one_new_article_make_one(pg_url: str) -> None:
    repo = await seeded(pg_url, readers=1)
    other = Repository.open(pg_url)
    try:
        for n in range(5):
            outcomes = await asyncio.gather(
                repo.articles.upsert(article(n), now=NOW),
                other.articles.upsert(article(n), now=NOW),
            )
            assert sorted(o.value for o in outcomes) == ["new", "unchanged"]
            created = await asyncio.gather(
                *(
                    r.readers.subscribe(
                        chat_id=1, kind=SubscriptionKind.KEYWORD, value=f"k{n}", now=NOW
                    )
                    for r in (repo, other)
                )
            )
            assert sorted(created) == [False, True]
        assert await repo.articles.count() == 5
    finally:
        await other.close()
        await repo.close()


async def test_bot_lock_and_clock_steps_on_postgres(pg_url: str) -> None:
    from datetime import timedelta

    repo = await seeded(pg_url, readers=0)
    ttl = timedelta(seconds=45)
    try:
        assert await repo.locks.acquire("bot", owner="a", now=NOW, ttl=ttl) is None
        assert await repo.locks.acquire("bot", owner="b", now=NOW, ttl=ttl) == "a"
        assert await repo.locks.acquire("bot", owner="b", now=NOW + ttl * 2, ttl=ttl) is None
        wall = 1_800_000_000.0
        await repo.budget.pause_scope(scope="g", until=wall + 3630, now=wall + 3600)
        assert await repo.budget.reserve_slots(scope="g", count=1, interval=1.0, now=wall) == wall
    finally:
        await repo.close()


async def test_shared_budget_spaces_every_reservation(pg_url: str) -> None:
    repo = Repository.open(pg_url)
    other = Repository.open(pg_url)
    await repo.migrate()
    interval = 0.01
    try:
        now = time.time()

        async def reserve(r: Repository) -> list[tuple[float, int]]:
            out = []
            for size in (3, 1, 5, 2) * 5:
                out.append(
                    (
                        await r.budget.reserve_slots(
                            scope="g", count=size, interval=interval, now=now
                        ),
                        size,
                    )
                )
            return out

        a, b = await asyncio.gather(reserve(repo), reserve(other))
        spans = sorted(a + b)
        for (start, size), (next_start, _) in itertools.pairwise(spans):
            assert next_start >= start + size * interval - 1e-9
        total = sum(size for _, size in spans)
        assert spans[-1][0] + spans[-1][1] * interval == pytest.approx(now + total * interval)
    finally:
        await other.close()
        await repo.close()


async def test_end_to_end_on_postgres(stack: Stack, content_dir: Path) -> None:
    assert stack.settings.database_url.startswith("postgresql+asyncpg://")
    stack.sandbox.send_user_message(1001, "/subscribe wallet")
    await wait_for(lambda: stack.sandbox.bot_messages(1001), what="subscribe reply")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(1001) if "New story" in m["text"]],
        what="the subscriber message",
    )
    await stack.restart()
    await stack.scans(3)
    assert len(channel_posts(stack)) == 1


async def test_two_workers_share_the_outbox_and_the_limit(stack: Stack, content_dir: Path) -> None:
    """A bot process and two worker processes (here: three apps) on one PostgreSQL outbox."""
    readers = list(range(5000, 5060))
    for reader in readers:
        stack.sandbox.add_user(reader, "Reader")
    repo = stack.newswire.repo
    for reader in readers:
        await repo.readers.upsert_chat(chat_id=reader, first_name=None, username=None, now=NOW)
        await repo.readers.subscribe(
            chat_id=reader, kind=SubscriptionKind.KEYWORD, value="wallet", now=NOW
        )
    # The polling app stops sending; two workers take over.
    await stack.newswire.stop()
    # The server refuses a 21st send in any second. Each worker alone may send 12/s; zero
    # 429s proves they shared that budget (unshared, they would send 24/s together). The
    # wide margin absorbs the jitter of running everything on one loop of a busy machine.
    stack.sandbox.limits.global_per_second = 20.0
    settings = stack.settings.model_copy(update={"global_rate_limit": 12.0})
    bot = Newswire(settings, stack.newswire.endpoint, channels=stack.channels, role=Role.BOT)
    workers = [
        Newswire(settings, stack.newswire.endpoint, channels=stack.channels, role=Role.WORKER)
        for _ in range(2)
    ]
    stack.newswire = bot
    for app in (bot, *workers):
        await app.start()
    try:
        before = stack.sandbox.counters.get("429", 0)
        write(content_dir, "bus.txt", NEW_ARTICLE)

        def delivered() -> bool:
            return all(
                any("New story" in m["text"] for m in stack.sandbox.bot_messages(r))
                for r in readers
            )

        await wait_for(delivered, timeout=30, what="every reader's message")
        await wait_for(lambda: channel_posts(stack), what="the channel post")
        assert stack.sandbox.counters.get("429", 0) == before
        for reader in readers:
            assert (
                len([m for m in stack.sandbox.bot_messages(reader) if "New story" in m["text"]])
                == 1
            )
        sent = sum(w.worker.sent for w in workers if w.worker is not None)
        assert sent == len(readers) + 1  # the readers and the channel, by the two workers
    finally:
        for app in workers:
            await app.stop()
