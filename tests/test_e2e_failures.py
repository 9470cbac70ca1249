"""End to end: each failure policy of the delivery engine, through the real HTTP stack."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import rendering
from content.models import DeliveryState
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import (
    add_readers,
    alerts,
    channel_posts,
    dead_to,
    deliveries_to,
    sent_to,
    subscribe,
)
from tests.support.stack import ADMIN, CHANNEL, Stack
from tests.support.storage import deliveries_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 7, 3, tzinfo=UTC)
SECOND_ARTICLE = NEW_ARTICLE.replace("Bus captain praised", "Bus captain thanked").replace(
    "09:30 AM", "10:30 AM"
)


async def test_flood_on_one_chat_waits_for_that_chat_only(stack: Stack, content_dir: Path) -> None:
    # The server allows this reader one message per 3 s, stricter than the 1/s we pace at.
    stack.sandbox.limits.private_burst = 1
    stack.sandbox.limits.private_per_second = 1 / 3
    slow, other = 3001, 3002
    await add_readers(stack, [slow, other])
    write(content_dir, "one.txt", NEW_ARTICLE)
    write(content_dir, "two.txt", SECOND_ARTICLE)
    await wait_for(lambda: len(alerts(stack, other)) == 2, what="the other reader's two messages")
    # The refused reader still gets both, once each, after waiting retry_after.
    await wait_for(lambda: len(alerts(stack, slow)) == 2, timeout=15, what="both after the wait")
    assert stack.sandbox.counters["429"] >= 1
    texts = sorted(m["text"][:40] for m in alerts(stack, slow))
    assert texts[0] != texts[1]


async def test_global_storm_pauses_everyone_then_delivers_all_once(
    stack: Stack, content_dir: Path
) -> None:
    readers = list(range(3100, 3110))
    await add_readers(stack, readers)
    stack.sandbox.update_faults({"storm_seconds": 2, "storm_retry_after": 1})
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(
        lambda: all(len(alerts(stack, c)) == 1 for c in readers),
        timeout=20,
        what="every reader's message after the storm",
    )
    await wait_for(lambda: channel_posts(stack), what="the channel post after the storm")
    assert stack.sandbox.counters["429"] >= 1
    await stack.scans(2)
    assert all(len(alerts(stack, c)) == 1 for c in readers)
    assert len(channel_posts(stack)) == 1


async def test_reader_who_blocks_mid_broadcast_is_dropped(stack: Stack, content_dir: Path) -> None:
    readers = list(range(3200, 3206))
    await add_readers(stack, readers)
    stack.sandbox.block_mid_broadcast([readers[-1]], after_sends=2)
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(
        lambda: all(len(alerts(stack, c)) == 1 for c in readers[:-1]), what="the other readers"
    )
    repo = stack.newswire.repo
    await wait_for(
        lambda: _subs_of(stack, readers[-1]), what="the blocked reader's subscriptions dropped"
    )
    (dead,) = await deliveries_to(stack, str(readers[-1]))
    assert dead.state is DeliveryState.DEAD and "blocked" in (dead.last_error or "")
    assert await repo.readers.subscriptions_of(readers[-2]) != []


async def _subs_of(stack: Stack, chat_id: int) -> bool:
    return await stack.newswire.repo.readers.subscriptions_of(chat_id) == []


async def test_unknown_chat_is_dead_with_reason_and_admin_told(
    stack: Stack, content_dir: Path
) -> None:
    await subscribe(stack, 3300)  # never talked to the bot: Telegram says chat not found
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    deliveries = await wait_for(
        lambda: dead_to(stack, "3300"), what="the delivery to the unknown chat to die"
    )
    assert "chat not found" in (deliveries[0].last_error or "").lower()
    await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if "3300" in m["text"]],
        what="the admin notice",
    )


async def test_group_upgraded_to_supergroup_gets_the_post_at_its_new_id(
    stack: Stack, content_dir: Path
) -> None:
    group = stack.sandbox.add_group("Newsroom fans")
    await subscribe(stack, group)
    new_id = stack.sandbox.migrate_group(group)
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(lambda: alerts(stack, new_id), what="the post in the supergroup")
    assert alerts(stack, group) == []
    subs = await stack.newswire.repo.readers.subscriptions_of(new_id)
    assert [s.value for s in subs] == ["wallet"]
    assert await stack.newswire.repo.readers.subscriptions_of(group) == []


async def test_server_errors_are_retried_until_delivered(stack: Stack, content_dir: Path) -> None:
    readers = list(range(3400, 3408))
    await add_readers(stack, readers)
    stack.sandbox.update_faults({"error_rate": 0.5, "seed": 7})
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(
        lambda: all(len(alerts(stack, c)) == 1 for c in readers),
        timeout=30,
        what="every reader despite 5xx answers",
    )
    assert stack.sandbox.counters.get("500", 0) + stack.sandbox.counters.get("502", 0) >= 1
    assert len(channel_posts(stack)) == 1


async def test_refused_html_is_sent_as_plain_text_and_logged(
    stack: Stack,
    content_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = rendering.channel_post

    def broken(article: Any, *, bot_username: str) -> rendering.Rendered:
        good = real(article, bot_username=bot_username)
        return rendering.Rendered("<p>" + good.html, good.keyboard)  # a tag Telegram refuses

    monkeypatch.setattr(rendering, "channel_post", broken)
    caplog.set_level(logging.ERROR)
    write(content_dir, "one.txt", NEW_ARTICLE)
    post = (await wait_for(lambda: channel_posts(stack), what="the plain-text post"))[0]
    assert post["text"].startswith("Bus captain praised")
    assert post["entities"] in ([], None)  # sent without parse_mode
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("refused the HTML" in e for e in errors)
    # Results are committed in small batches: wait for the record, don't race it.
    await wait_for(lambda: sent_to(stack, CHANNEL), what="the post recorded as sent")


async def test_stop_mid_broadcast_hands_back_what_waits_and_a_restart_finishes_once(
    stack: Stack, content_dir: Path
) -> None:
    """A clean stop mid fan-out: nothing left claimed, then every reader gets it exactly once."""
    readers = list(range(3001, 3061))  # 60 readers at 30/s: about two seconds of sending
    await add_readers(stack, readers)
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: sum(1 for r in readers if alerts(stack, r)) >= 5, what="some alerts")
    await stack.newswire.stop()
    got = sum(1 for r in readers if alerts(stack, r))
    assert got < len(readers), "the fan-out finished before the stop: the test proves nothing"
    article = (await stack.newswire.repo.articles.latest(limit=1, now=NOW.replace(year=2027)))[0]
    states = [d.state for d in await deliveries_of(stack.newswire.repo, article.id)]
    assert DeliveryState.SENDING not in states  # nothing held by the stopped worker
    assert states.count(DeliveryState.SENT) == got + 1  # + the channel post
    await stack.restart()
    await wait_for(lambda: all(alerts(stack, r) for r in readers), what="every reader alerted")
    assert all(len(alerts(stack, r)) == 1 for r in readers)
    assert len(channel_posts(stack)) == 1
