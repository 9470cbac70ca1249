"""`/healthz` and `/metrics` on Newswire's own server, over real HTTP, on the sandbox stack."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.context import Services
from bot.web import HealthConfig, web_server
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.articles import NEW_ARTICLE, write
from tests.support.outbox import channel_posts
from tests.support.reader import say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get(url: str) -> tuple[int, str, str]:
    """Status, Content-Type and body of a GET."""
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, answer.headers["Content-Type"], await answer.text()


async def health(base: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as answer:
        return answer.status, await answer.json()


async def scrape(base: str) -> Samples:
    """Every sample of `/metrics` by name and labels."""
    status, content_type, text = await get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def base_url(stack: Stack) -> str:
    assert stack.newswire.web is not None
    return str(stack.newswire.web.url)


async def test_healthz_ok_then_503_naming_the_worker_when_it_stops(stack: Stack) -> None:
    base = base_url(stack)

    async def healthy() -> dict[str, Any] | None:
        status, body = await health(base)
        return body if status == 200 else None

    body = await wait_for(healthy, what="a healthy /healthz")
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["worker"]["alive"] is True and body["worker"]["last_round_seconds"] < 60
    assert body["version"] and "problems" not in body

    worker = stack.newswire.worker
    assert worker is not None
    worker.stop()
    await wait_for(lambda: not worker.health().alive, what="the worker to stop")
    status, body = await health(base)
    assert status == 503
    assert body["status"] == "failing" and body["problems"] == ["worker: stopped"]
    assert body["database"] == "ok" and body["worker"]["alive"] is False


async def test_healthz_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    repo = Repository.open(f"sqlite+aiosqlite:///{folder}/newswire.db")
    shutil.rmtree(folder)  # SQLite cannot open a file in a folder that is not there
    services = Services(
        repo=repo,
        summarizer=ExtractiveSummarizer(),
        zone=ZoneInfo("Asia/Singapore"),
        channels=(),
        admin_ids=frozenset(),
        content_dir=tmp_path,
    )
    server = web_server(
        services,
        host="127.0.0.1",
        port=0,
        push_secret=None,
        ghost_secret=None,
        health_config=HealthConfig(worker_here=False),
    )
    await server.start()
    try:
        status, body = await health(server.url)
        # A bot-only process: the workers answer for themselves.
        assert (status, body["worker"]) == (503, "elsewhere")
        assert body["problems"] == ["database: not answering (OperationalError)"]
        assert str(tmp_path) not in str(body)  # no paths or hosts to whoever asks
        metrics_status, _, text = await get(f"{server.url}/metrics")
        assert metrics_status == 200 and "newswire_sends_total" in text  # counters still served
    finally:
        await server.stop()
        await repo.close()


async def test_metrics_count_a_send_and_show_deliveries_by_state(
    stack: Stack, content_dir: Path
) -> None:
    base = base_url(stack)
    before = await scrape(base)
    await say(stack, "/start")
    write(content_dir, "bus.txt", NEW_ARTICLE)
    await wait_for(lambda: channel_posts(stack), what="the channel post")

    async def counted() -> Samples | None:
        samples = await scrape(base)
        sent = value(samples, "newswire_deliveries", state="sent")
        return samples if sent >= 1 else None

    after = await wait_for(counted, what="the post among the sent deliveries")
    ok = {"method": "sendMessage", "outcome": "ok"}
    assert value(after, "newswire_sends_total", **ok) > value(before, "newswire_sends_total", **ok)
    assert value(after, "newswire_send_seconds_count") > value(
        before, "newswire_send_seconds_count"
    )
    posted = "newswire_ingest_to_post_seconds_count"
    assert value(after, posted) == value(before, posted) + 1
    message = "newswire_updates_total"
    assert value(after, message, type="message") > value(before, message, type="message")
    for state in ("pending", "sending", "failed", "dead", "held", "withdrawn"):
        assert ("newswire_deliveries", (("state", state),)) in after
    assert value(after, "newswire_oldest_pending_seconds") >= 0
    assert ("newswire_throttled_total", ()) in after


async def test_a_worker_process_answers_healthz_and_metrics_only(stack: Stack) -> None:
    from bot.app import Newswire, Role

    worker = Newswire(
        stack.settings, stack.newswire.endpoint, channels=stack.channels, role=Role.WORKER
    )
    await worker.start()
    try:
        assert worker.web is not None
        base = str(worker.web.url)

        async def healthy() -> dict[str, Any] | None:
            status, body = await health(base)
            return body if status == 200 else None

        body = await wait_for(healthy, what="the worker process's /healthz")
        assert body["worker"]["alive"] is True
        assert "newswire_sends_total" in (await get(f"{base}/metrics"))[2]
        status, _, _ = await get(f"{base}/push/articles")
        assert status == 404  # no pushes and no updates: the bot process takes those
    finally:
        await worker.stop()
