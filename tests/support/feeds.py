"""Feed helpers for tests: RSS bodies built from a few fields, entries, and one ingest call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from content.fetching import Fetcher
from content.ingest import FullText, ingest_entries
from content.models import IngestReport
from content.sources.base import Entry
from content.sources.polling import PollConfig, poll_due
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.ingest import SGT, T0

_SUMMARIZER = ExtractiveSummarizer()

BODY = (
    "<p>The town council said on Thursday that the hawker centre at Tampines Street 11 will "
    "reopen on Monday after a six-month renovation of its roof, drains and stalls.</p>"
    "<p>Stallholders who moved to a temporary site across the road will return this weekend, "
    "and most expect to start selling on the first day, according to the statement.</p>"
)


@dataclass(frozen=True)
class Item:
    """One RSS item."""

    title: str
    link: str | None = None
    guid: str | None = None
    published: datetime | None = None
    description: str | None = None  # the excerpt
    content: str | None = BODY  # content:encoded, the full text; None for excerpt-only


def rss(items: Sequence[Item], *, title: str = "Harbour Times", ttl: int | None = None) -> bytes:
    """An RSS 2.0 feed with the items, in the given order."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title><link>https://harbourtimes.example/</link>",
    ]
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        if item.description:
            parts.append(f"<description>{escape(item.description)}</description>")
        if item.content:
            parts.append(f"<content:encoded><![CDATA[{item.content}]]></content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def entry(
    title: str,
    *,
    source: str = "feed:https://harbourtimes.example/feed",
    key: str | None = None,
    url: str | None = None,
    published: datetime | None = T0,
    body_html: str | None = BODY,
    summary_html: str | None = None,
    image: str | None = "https://cdn.harbourtimes.example/a.jpg",
    **more: object,
) -> Entry:
    """An Entry as a feed would yield it (full text and an image unless told otherwise)."""
    return Entry(
        source=source,
        key=key or url or title,
        title=title,
        url=url,
        published=published,
        body_html=body_html,
        summary_html=summary_html,
        image=image,
        **more,  # type: ignore[arg-type]
    )


async def ingest(
    repo: Repository,
    entries: Sequence[Entry],
    *,
    now: datetime = T0,
    archive: bool = False,
    fetch_page: Callable[[str], Awaitable[bytes | None]] | None = None,
    full_text: FullText = FullText.AUTO,
) -> IngestReport:
    """One ingest of the entries, as a source's poll runs it."""
    return await ingest_entries(
        repo,
        entries,
        now=now,
        summarizer=_SUMMARIZER,
        default_tz=SGT,
        archive=archive,
        fetch_page=fetch_page,
        full_text=full_text,
    )


def at(hour: int, minute: int = 0) -> datetime:
    """A publication time on the tests' day."""
    return datetime(2026, 7, 1, hour, minute, tzinfo=UTC)


@asynccontextmanager
async def fetcher() -> AsyncIterator[Fetcher]:
    """A Fetcher that may reach the local test servers."""
    client = Fetcher(allow_private=True, user_agent="Newswire-tests", timeout=5)
    try:
        yield client
    finally:
        await client.close()


async def poll(
    repo: Repository,
    client: Fetcher,
    now: datetime,
    *,
    interval: float = 300.0,
    full_text: FullText = FullText.NEVER,
) -> IngestReport:
    """One poll cycle of the due sources, without jitter (no article pages unless asked)."""
    return await poll_due(
        repo,
        client,
        now=now,
        summarizer=_SUMMARIZER,
        default_tz=SGT,
        config=PollConfig(interval=interval, full_text=full_text, jitter=0),
    )
