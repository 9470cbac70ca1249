"""Importing a subscriber list: readers and subscriptions in bulk, idempotent, chunked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from content.models import Subscription, SubscriptionKind, chat_id_of
from content.storage import Repository

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
TOPIC = SubscriptionKind.TOPIC
KEYWORD = SubscriptionKind.KEYWORD


def rows(*items: tuple[int, SubscriptionKind, str]) -> list[Subscription]:
    return [Subscription(chat_id_of(chat), kind, value) for chat, kind, value in items]


async def test_import_creates_active_readers_and_their_subscriptions(repo: Repository) -> None:
    listed = rows((1, TOPIC, "food"), (1, KEYWORD, "mrt"), (2, TOPIC, "food"), (3, TOPIC, "tech"))

    # chunk=3: the fourth row goes in a second transaction.
    assert await repo.readers.import_subscribers(listed, now=T0, chunk=3) == 4

    assert await repo.readers.active_subscriber_count() == 3
    assert [(s.kind, s.value) for s in await repo.readers.subscriptions_of(1)] == [
        (TOPIC, "food"),
        (KEYWORD, "mrt"),
    ]
    assert [s.value for s in await repo.readers.subscriptions_of(3)] == ["tech"]


async def test_import_twice_adds_nothing_and_keeps_a_blocked_reader_inactive(
    repo: Repository,
) -> None:
    listed = rows((1, TOPIC, "food"), (2, TOPIC, "food"))
    await repo.readers.import_subscribers(listed, now=T0)
    await repo.readers.deactivate(chat_id=chat_id_of(2), reason="blocked", now=T0)

    await repo.readers.import_subscribers(iter(listed), now=T0)

    assert [s.value for s in await repo.readers.subscriptions_of(1)] == ["food"]
    # The subscription row comes back (it is on the list) but the reader stays inactive,
    # so nothing is ever sent to someone who blocked the bot.
    assert await repo.readers.active_subscriber_count() == 1


async def test_import_refuses_a_channel_name(repo: Repository) -> None:
    with pytest.raises(ValueError, match="not a reader"):
        await repo.readers.import_subscribers(
            [*rows((1, TOPIC, "food")), Subscription(chat_id_of("@news"), TOPIC, "food")], now=T0
        )


@pytest.mark.postgres
async def test_import_on_postgres(pg_url: str) -> None:
    repository = Repository.open(pg_url)
    await repository.migrate()
    try:
        listed = rows((1, TOPIC, "food"), (1, TOPIC, "food"), (2, KEYWORD, "mrt"))
        assert await repository.readers.import_subscribers(listed, now=T0, chunk=2) == 3
        await repository.readers.import_subscribers(listed, now=T0)
        assert await repository.readers.active_subscriber_count() == 2
        assert [s.value for s in await repository.readers.subscriptions_of(1)] == ["food"]
    finally:
        await repository.close()
