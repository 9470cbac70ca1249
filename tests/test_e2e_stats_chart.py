"""End to end: /stats follows its text with a chart of the last 24 hours, as a PNG photo."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from bot.jobs import sample_activity
from bot.sandbox.client import SandboxClient
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import add_readers, alerts, channel_posts
from tests.support.reader import say
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n"


def photos(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.bot_messages(ADMIN) if m["photo_file_id"]]


async def test_stats_sends_a_png_chart_after_its_text(stack: Stack, content_dir: Any) -> None:
    readers = [3201, 3202]
    await add_readers(stack, readers)
    # A short storm: every worker's 429 is counted in the chart's minute.
    stack.sandbox.update_faults({"storm_seconds": 1, "storm_retry_after": 1})
    write(content_dir, "one.txt", NEW_ARTICLE)
    await wait_for(lambda: all(alerts(stack, c) for c in readers), timeout=20, what="alerts")
    await wait_for(lambda: channel_posts(stack), what="the channel post")
    await wait_for(lambda: stack.sandbox.counters["429"] >= 1, what="a 429")
    repo = stack.newswire.repo
    assert await sample_activity(stack.newswire.services) == 0  # nothing waits any more

    text = (await say(stack, "/stats", user=ADMIN))["text"]
    assert text.startswith("📊 Delivery")  # the text first, as before
    photo = (await wait_for(lambda: photos(stack), what="the chart"))[0]

    caption = photo["caption"]
    match = re.fullmatch(
        r"Last 24 hours \(Asia/Singapore\): channel posts 1, reader messages 2, 429s (\d+)",
        caption,
    )
    assert match, caption
    now = stack.newswire.services.clock()
    window = await repo.activity.minutes(
        since=now - timedelta(hours=1), until=now + timedelta(minutes=1)
    )
    assert int(match.group(1)) == sum(m.throttled for m in window) >= 1
    async with SandboxClient(stack.server.url) as client:
        data = await client.file(photo["photo_file_id"])
    assert data.startswith(PNG)
    assert len(data) > 10_000  # a drawn chart, not an empty image


async def test_stats_still_answers_when_the_chart_fails(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # The chart's table is gone (a broken database): the text must still come.
    async with stack.newswire.repo.engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE activity")
    with caplog.at_level(logging.ERROR, logger="bot.handlers.admin"):
        text = (await say(stack, "/stats", user=ADMIN))["text"]
        assert "Worker:" in text
        await wait_for(
            lambda: any("chart failed" in r.getMessage() for r in caplog.records),
            what="the failure logged",
        )
    assert photos(stack) == []
    assert len(stack.sandbox.bot_messages(ADMIN)) == 1
