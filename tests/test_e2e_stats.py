"""End to end: /stats tells editors whether sending is alive and how long the queue has waited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.ingest import story
from tests.support.reader import say
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


async def test_stats_shows_a_live_worker_and_an_empty_queue(stack: Stack) -> None:
    worker = stack.newswire.worker
    await wait_for(lambda: worker.health().last_tick_age is not None, what="a worker round")
    text = (await say(stack, "/stats", user=ADMIN))["text"]
    assert re.search(r"^Worker: alive, last round \d+s ago$", text, re.MULTILINE), text
    assert "Oldest pending: none" in text


async def test_stats_shows_a_stopped_worker_and_the_age_of_what_waits(
    stack: Stack, content_dir: Path
) -> None:
    newswire = stack.newswire
    newswire.worker.stop()
    await wait_for(lambda: not newswire.worker.health().alive, what="the worker to stop")
    (content_dir / "waiting.md").write_text(story("waiting-story"), encoding="utf-8")
    outbox = newswire.repo.outbox
    await wait_for(outbox.oldest_pending_since, what="a planned, unsent channel post")

    text = (await say(stack, "/stats", user=ADMIN))["text"]
    assert "Worker: not running" in text
    assert re.search(r"^Oldest pending: \d+s$", text, re.MULTILINE), text
    assert "pending: 1" in text


async def test_stats_without_a_worker_in_this_process(stack: Stack) -> None:
    # --role bot: the worker runs elsewhere, so this process cannot tell its state.
    stack.newswire.services.worker_health = None
    text = (await say(stack, "/stats", user=ADMIN))["text"]
    assert "Worker: none in this process" in text
