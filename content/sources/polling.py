"""Polling feeds and WordPress sites: when to poll, conditional GETs, backoff, failure notices.

Time is a parameter. Bounds (documented in the README):
- a source is polled every `interval` (FEED_INTERVAL, default 300 s), jittered by ±10 %;
- `Cache-Control: max-age`, RSS `<ttl>` and a `Retry-After` on success can only lengthen that,
  and never past 6 h;
- failures back off exponentially (interval × 2^(failures-1)), capped at one day; a
  `Retry-After` (≤ 1 day) is honoured when it asks for longer;
- a 301/308 chain moves the stored URL; a 410 disables the source;
- a source failing for 24 h is reported once, and once again when it recovers;
- a 304, or a body identical to the last one parsed, costs no parsing;
- the first successful poll imports what the source holds as the archive (never posted);
- a cycle writes what its polls learned about the sources SOURCE_WRITE_BATCH to a transaction
  (most polls are a 304: one commit each would keep SQLite's one writer busy for the bot).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from content.fetching import Fetcher, FetchError, FetchResult
from content.ingest import FullText, ingest_entries
from content.models import IngestReport, SourceStatus
from content.sources.base import Entry
from content.sources.feeds import (
    FEED_ACCEPT,
    FeedError,
    ParsedFeed,
    discover_feeds,
    parse_feed,
)
from content.sources.wordpress import WordPressError, parse_posts, posts_url, site_root
from content.storage import PolledSource, Repository, SourceKind, SourceState
from content.summarizing import Summarizer

log = logging.getLogger(__name__)

MAX_INTERVAL = 6 * 3600.0  # max-age / ttl never push the next poll further than this
MAX_BACKOFF = 24 * 3600.0
MAX_RETRY_AFTER = 24 * 3600.0
FAILING_NOTICE_AFTER = timedelta(hours=24)
JITTER = 0.1
WP_PER_PAGE = 20
WP_MAX_PAGES = 10  # per poll; a site that changed more than 200 posts is read on later polls
WORDPRESS_PREFIX = "wordpress:"
SOURCE_WRITE_BATCH = 100
_JSON_ACCEPT = "application/json"


class SourceSpecError(ValueError):
    """A SOURCES entry that is neither a feed/page URL nor `wordpress:https://site`."""


def parse_spec(spec: str) -> tuple[SourceKind, str]:
    """A SOURCES entry as (kind, URL to fetch)."""
    text = spec.strip()
    kind = SourceKind.FEED
    if text.lower().startswith(WORDPRESS_PREFIX):
        kind = SourceKind.WORDPRESS
        text = text[len(WORDPRESS_PREFIX) :].strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourceSpecError(f"{spec!r} is not an http(s) URL (or wordpress:https://site)")
    if kind is SourceKind.WORDPRESS:
        return kind, site_root(text)
    return kind, text


@dataclass(frozen=True, slots=True)
class PollConfig:
    """How sources are polled (FEED_INTERVAL, FULL_TEXT) and how many at once."""

    interval: float = 300.0
    full_text: FullText = FullText.AUTO
    jitter: float = JITTER
    concurrency: int = 8
    # Told each poll's result: "ok", "unchanged" (304 or the same body) or "failed" (metrics).
    observe: Callable[[str], None] | None = None


async def register_sources(
    repo: Repository, specs: Iterable[str], *, now: datetime, interval: float
) -> list[PolledSource]:
    """Register the configured sources (idempotent: known ones are left as they are)."""
    registered = []
    for spec in specs:
        kind, url = parse_spec(spec)
        registered.append(
            await repo.sources.add(
                kind=kind, spec=spec.strip(), url=url, interval=interval, now=now
            )
        )
    return registered


async def probe(
    fetcher: Fetcher, spec: str, *, url: str | None = None, now: datetime, default_tz: tzinfo
) -> int:
    """Fetch and parse a source as its first poll would, storing nothing; its entry count.

    `url`: where a registered source is fetched now (a redirect may have moved it). Raises
    FetchError, FeedError or WordPressError (`newswire doctor` reports them).
    """
    kind, spec_url = parse_spec(spec)
    source = PolledSource(
        id=0,
        kind=kind,
        spec=spec,
        url=url or spec_url,
        title=None,
        state=SourceState.ACTIVE,
        etag=None,
        last_modified=None,
        content_hash=None,
        cursor=None,
        last_success_at=None,  # a first poll: WordPress reads one page only
        last_error=None,
        failures=0,
        failing_since=None,
        notified_failing=False,
        next_poll_at=now,
        interval=0.0,
        items_seen=0,
        created_at=now,
    )
    poll = _poll_wordpress if kind is SourceKind.WORDPRESS else _poll_feed
    return len((await poll(fetcher, source, default_tz=default_tz)).entries)


@dataclass(slots=True)
class _Outcome:
    """What one successful poll learned."""

    entries: list[Entry] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # source columns to store
    hints: list[float] = field(default_factory=list)  # seconds the server asks us to wait


class SourceWrites:
    """What a cycle's polls learned about their sources, stored a batch to a transaction."""

    def __init__(self, repo: Repository, *, batch: int = SOURCE_WRITE_BATCH) -> None:
        self.repo = repo
        self.batch = max(1, batch)
        self.pending: list[tuple[int, dict[str, Any]]] = []

    async def add(self, source_id: int, values: dict[str, Any]) -> None:
        self.pending.append((source_id, values))
        if len(self.pending) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending:
            await self.repo.sources.update_many(pending)


async def poll_due(
    repo: Repository,
    fetcher: Fetcher,
    *,
    now: datetime,
    summarizer: Summarizer,
    default_tz: tzinfo,
    config: PollConfig,
    rng: random.Random | None = None,
) -> IngestReport:
    """Poll every due source (a few at once); one source's failure is only that source's."""
    due = await repo.sources.due(now=now)
    report = IngestReport()
    limit = asyncio.Semaphore(max(1, config.concurrency))
    writes = SourceWrites(repo)

    async def one(source: PolledSource) -> IngestReport:
        async with limit:
            return await poll_source(
                repo,
                fetcher,
                source,
                now=now,
                summarizer=summarizer,
                default_tz=default_tz,
                config=config,
                rng=rng,
                writes=writes,
            )

    try:
        for part in await asyncio.gather(*(one(source) for source in due)):
            _merge(report, part)
    finally:
        await writes.flush()
    await _notice_long_failures(repo, report, now=now)
    return report


async def poll_source(
    repo: Repository,
    fetcher: Fetcher,
    source: PolledSource,
    *,
    now: datetime,
    summarizer: Summarizer,
    default_tz: tzinfo,
    config: PollConfig,
    rng: random.Random | None = None,
    writes: SourceWrites | None = None,
) -> IngestReport:
    """Poll one source, ingest what changed, and schedule its next poll.

    `writes`: the source's new state joins that batch (stored at once without one).
    """
    writes = writes or SourceWrites(repo, batch=1)
    report = IngestReport()
    try:
        if source.kind is SourceKind.WORDPRESS:
            outcome = await _poll_wordpress(fetcher, source, default_tz=default_tz)
        else:
            outcome = await _poll_feed(fetcher, source, default_tz=default_tz)
    except FetchError as exc:
        _observe(config, "failed")
        await _failed(
            writes, source, report, exc.reason, exc.status, exc.retry_after, now, config, rng
        )
        return report
    except (FeedError, WordPressError) as exc:
        _observe(config, "failed")
        await _failed(writes, source, report, str(exc), None, None, now, config, rng)
        return report
    except Exception as exc:  # a bug in one source's handling must not stop the others
        log.exception("polling %s failed unexpectedly", source.spec)
        reason = f"unexpected error ({type(exc).__name__})"
        _observe(config, "failed")
        await _failed(writes, source, report, reason, None, None, now, config, rng)
        return report

    _observe(config, "ok" if outcome.entries else "unchanged")

    async def fetch_page(url: str) -> bytes | None:
        try:
            return (await fetcher.fetch(url)).body
        except FetchError as exc:
            log.info("article page %s not fetched: %s", url, exc.reason)
            return None

    if outcome.entries:
        ingested = await ingest_entries(
            repo,
            outcome.entries,
            now=now,
            summarizer=summarizer,
            default_tz=default_tz,
            archive=source.last_success_at is None,
            fetch_page=fetch_page,
            full_text=config.full_text,
        )
        _merge(report, ingested)
    if source.notified_failing:
        report.status_changes.append(SourceStatus(source.spec, available=True))
    delay = _bounded(max([config.interval, *outcome.hints]), config.interval, MAX_INTERVAL)
    await writes.add(
        source.id,
        {
            **outcome.values,
            "last_success_at": now,
            "last_error": None,
            "failures": 0,
            "failing_since": None,
            "notified_failing": False,
            "items_seen": source.items_seen + len(report.new),
            "next_poll_at": now
            + timedelta(seconds=_jittered(delay, config.jitter, rng, MAX_INTERVAL)),
        },
    )
    return report


async def _poll_feed(fetcher: Fetcher, source: PolledSource, *, default_tz: tzinfo) -> _Outcome:
    outcome = _Outcome()
    result = await fetcher.fetch(
        source.url, etag=source.etag, last_modified=source.last_modified, accept=FEED_ACCEPT
    )
    if result.permanent_redirect:
        outcome.values["url"] = result.permanent_redirect
    _remember_validators(outcome, result, source)
    if result.not_modified:
        return outcome
    digest = hashlib.sha256(result.body).hexdigest()
    if digest == source.content_hash:
        return outcome

    def parse(answer: FetchResult) -> ParsedFeed:
        return parse_feed(
            answer.body,
            url=answer.url,
            content_type=answer.headers.get("content-type"),
            default_tz=default_tz,
            source=source.name,
        )

    try:
        parsed = await asyncio.to_thread(parse, result)
    except FeedError:
        found = _discovered(result)
        if found is None:
            raise
        # A page, not a feed: its <link rel="alternate"> names the feed, polled from now on.
        result = await fetcher.fetch(found, accept=FEED_ACCEPT)
        outcome.values["url"] = result.permanent_redirect or found
        outcome.values["etag"] = result.etag
        outcome.values["last_modified"] = result.last_modified
        digest = hashlib.sha256(result.body).hexdigest()
        parsed = await asyncio.to_thread(parse, result)
    outcome.values["content_hash"] = digest
    if parsed.title:
        outcome.values["title"] = parsed.title
    if parsed.ttl:
        outcome.hints.append(parsed.ttl)
    outcome.entries = parsed.entries
    return outcome


def _discovered(result: FetchResult) -> str | None:
    """The first feed an HTML page names, if the answer is an HTML page."""
    head = result.body[:512].lstrip().lower()
    html = (result.content_type or "").endswith("html") or head.startswith((b"<!doctype", b"<html"))
    if not html:
        return None
    feeds = discover_feeds(result.body, result.url)
    return feeds[0] if feeds else None


async def _poll_wordpress(
    fetcher: Fetcher, source: PolledSource, *, default_tz: tzinfo
) -> _Outcome:
    outcome = _Outcome()
    first = source.last_success_at is None
    cursor = None if first or not source.cursor else datetime.fromisoformat(source.cursor)
    entries: list[Entry] = []
    for page in range(1, (1 if first else WP_MAX_PAGES) + 1):
        url = posts_url(source.url, page=page, per_page=WP_PER_PAGE, modified_after=cursor)
        try:
            if page == 1:
                result = await fetcher.fetch(
                    url, etag=source.etag, last_modified=source.last_modified, accept=_JSON_ACCEPT
                )
            else:
                result = await fetcher.fetch(url, accept=_JSON_ACCEPT)
        except FetchError as exc:
            if page > 1 and exc.status == 400:
                break  # rest_post_invalid_page_number: past the last page
            raise
        if page == 1:
            _remember_validators(outcome, result, source)
            if result.not_modified:
                return outcome
            digest = hashlib.sha256(result.body).hexdigest()
            if digest == source.content_hash:
                return outcome
            outcome.values["content_hash"] = digest
        batch = await asyncio.to_thread(
            parse_posts, result.body, site=source.url, default_tz=default_tz, source=source.name
        )
        entries.extend(batch)
        total = _int(result.headers.get("x-wp-totalpages"))
        if len(batch) < WP_PER_PAGE or (total is not None and page >= total):
            break
    times = [e.updated or e.published for e in entries if (e.updated or e.published)]
    if times:
        latest = max(t for t in times if t is not None)
        if cursor is None or latest > cursor:
            outcome.values["cursor"] = latest.isoformat()
    outcome.entries = entries
    return outcome


def _remember_validators(outcome: _Outcome, result: FetchResult, source: PolledSource) -> None:
    """Keep the ETag/Last-Modified for the next conditional GET, and the server's wait hints."""
    outcome.values["etag"] = result.etag or (source.etag if result.not_modified else None)
    outcome.values["last_modified"] = result.last_modified or (
        source.last_modified if result.not_modified else None
    )
    if result.max_age:
        outcome.hints.append(result.max_age)
    if result.retry_after:
        outcome.hints.append(min(result.retry_after, MAX_RETRY_AFTER))


async def _failed(
    writes: SourceWrites,
    source: PolledSource,
    report: IngestReport,
    reason: str,
    status: int | None,
    retry_after: float | None,
    now: datetime,
    config: PollConfig,
    rng: random.Random | None,
) -> None:
    """Record a failed poll: back off, disable a gone source, notice a day of failures once."""
    log.warning("source %s failed: %s", source.spec, reason)
    failures = source.failures + 1
    failing_since = source.failing_since or now
    values: dict[str, Any] = {
        "last_error": reason,
        "failures": failures,
        "failing_since": failing_since,
    }
    if status == 410:
        values["state"] = SourceState.DISABLED
        text = f"is gone (HTTP 410): no longer polled ({reason})"
        report.status_changes.append(SourceStatus(source.spec, available=False, reason=text))
        values["notified_failing"] = True
    delay = backoff(config.interval, failures, retry_after)
    values["next_poll_at"] = now + timedelta(
        seconds=_jittered(delay, config.jitter, rng, MAX_BACKOFF)
    )
    await writes.add(source.id, values)


def _observe(config: PollConfig, result: str) -> None:
    if config.observe is not None:
        config.observe(result)


def backoff(interval: float, failures: int, retry_after: float | None = None) -> float:
    """Seconds to wait after `failures` failed polls in a row (Retry-After honoured, ≤ 1 day)."""
    delay = min(interval * 2.0 ** max(0, min(failures - 1, 32)), MAX_BACKOFF)
    if retry_after:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return min(delay, MAX_BACKOFF)


async def _notice_long_failures(repo: Repository, report: IngestReport, *, now: datetime) -> None:
    """One notice per source that has failed for 24 h (checked every cycle, not only at polls)."""
    for source in await repo.sources.all():
        if (
            source.state is SourceState.ACTIVE
            and source.failing_since is not None
            and not source.notified_failing
            and now - source.failing_since >= FAILING_NOTICE_AFTER
        ):
            reason = f"has failed for 24 h: {source.last_error or 'unknown error'}"
            report.status_changes.append(SourceStatus(source.spec, available=False, reason=reason))
            await repo.sources.update(source.id, notified_failing=True)


def _bounded(value: float, low: float, high: float) -> float:
    return max(low, min(value, max(low, high)))


def _jittered(delay: float, jitter: float, rng: random.Random | None, cap: float) -> float:
    """±`jitter` of the delay, so sources added together do not poll together forever."""
    if jitter <= 0:
        return delay
    spread = (rng or random).uniform(-jitter, jitter)
    return min(delay * (1 + spread), max(cap, delay))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _merge(into: IngestReport, part: IngestReport) -> None:
    into.new.extend(part.new)
    into.updated.extend(part.updated)
    into.edits += part.edits
    into.unchanged += part.unchanged
    into.errors.extend(part.errors)
    into.status_changes.extend(part.status_changes)
    into.withdrawn.extend(part.withdrawn)
    into.deletes += part.deletes


def specs_of(sources: Sequence[PolledSource]) -> list[str]:
    """The registered specs (for listings and export)."""
    return [source.spec for source in sources]
