"""Feed polls counted by result in `newswire_feed_polls_total` (the poller tells, bot counts)."""

from __future__ import annotations

from datetime import timedelta

from bot import metrics
from content.ingest import FullText
from content.sources.polling import PollConfig, poll_due, register_sources
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.cli import closed_port
from tests.support.feeds import Item, at, fetcher, rss
from tests.support.http import LocalServer
from tests.support.ingest import SGT, T0

RSS = "application/rss+xml; charset=utf-8"
CONFIG = PollConfig(interval=300, full_text=FullText.NEVER, jitter=0, observe=metrics.feed_polled)


def polls(result: str) -> float:
    value = metrics.REGISTRY.get_sample_value("newswire_feed_polls_total", {"result": result})
    return value or 0.0


async def test_polls_are_counted_as_ok_unchanged_and_failed(repo: Repository) -> None:
    before = {result: polls(result) for result in ("ok", "unchanged", "failed")}
    async with LocalServer() as server, fetcher() as client:
        feed = server.serve(
            "/feed.xml",
            rss([Item("MRT line opens", published=at(2))]),
            content_type=RSS,
            etag='"v1"',
        )
        gone = f"http://127.0.0.1:{closed_port()}/feed.xml"
        await register_sources(repo, [feed, gone], now=T0, interval=300)
        for now in (T0, T0 + timedelta(seconds=300)):  # parsed, then a 304
            await poll_due(
                repo,
                client,
                now=now,
                summarizer=ExtractiveSummarizer(),
                default_tz=SGT,
                config=CONFIG,
            )
    assert polls("ok") - before["ok"] == 1
    assert polls("unchanged") - before["unchanged"] == 1
    assert polls("failed") - before["failed"] >= 1  # the closed port (backed off after one)
