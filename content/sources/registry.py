"""Editors' changes to the polled sources: check a URL and add it, remove one, import a list.

Adding checks first (fetch; a feed is parsed, a page's feed found by autodiscovery, a WordPress
site's `/wp-json/wp/v2/posts` read), so what is registered is known to work today. What is
registered is polled like a SOURCES entry: its first poll imports the archive.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import urlsplit, urlunsplit

from content.fetching import BlockedAddress, Fetcher, FetchError, FetchResult
from content.sources.feeds import FEED_ACCEPT, FeedError, discover_feeds, parse_feed
from content.sources.polling import WORDPRESS_PREFIX, SourceSpecError, parse_spec
from content.sources.wordpress import WordPressError, parse_posts, posts_url
from content.storage import PolledSource, Repository, SourceKind, SourceState

MAX_SOURCES = 200  # polled sources in all (SOURCES included); a bound on one poll cycle's work
CHECK_TIMEOUT = 45.0  # seconds for the whole check (a page, then its feed)
_NOT_FOUND = frozenset({404, 410})


class AddStatus(enum.Enum):
    ADDED = "added"
    ENABLED = "enabled"  # it was there, disabled: polled again
    ALREADY = "already"
    INVALID = "invalid"  # not an http(s) URL nor wordpress:https://site
    LIMIT = "limit"  # MAX_SOURCES reached
    BLOCKED = "blocked"  # a private or local address
    NOT_FOUND = "not_found"  # HTTP 404/410
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # any other fetch failure (`reason` says which)
    NOT_A_FEED = "not_a_feed"  # fetched, but neither a feed nor a page naming one
    NOT_WORDPRESS = "not_wordpress"  # no WordPress REST API there


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What /addsource did, with what it found."""

    status: AddStatus
    source: PolledSource | None = None
    title: str | None = None
    entries: int | None = None  # items in the feed (WordPress: posts on the site)
    discovered: bool = False  # the URL was a page; its feed was found by autodiscovery
    reason: str | None = None  # the fetch's one-line reason (UNREACHABLE)


@dataclass(frozen=True, slots=True)
class _Found:
    kind: SourceKind
    spec: str
    url: str
    title: str | None
    entries: int
    discovered: bool = False


class _Refused(Exception):
    def __init__(self, status: AddStatus, reason: str | None = None) -> None:
        super().__init__(reason or status.value)
        self.status = status
        self.reason = reason


def same_address(url: str) -> str:
    """A URL reduced for comparison: scheme and host lower-cased, no trailing slash, no port 80."""
    text = url.strip()
    if text.lower().startswith(WORDPRESS_PREFIX):
        text = text[len(WORDPRESS_PREFIX) :].strip()
    try:
        parts = urlsplit(text)
        netloc = parts.netloc.lower()
        if (parts.scheme.lower(), parts.port) in (("http", 80), ("https", 443)):
            netloc = netloc.rsplit(":", 1)[0]
    except ValueError:
        return text
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), parts.query, ""))


def find_known(sources: Iterable[PolledSource], kind: SourceKind, url: str) -> PolledSource | None:
    """The registered source of this kind at this address (its spec or where it is fetched now)."""
    wanted = same_address(url)
    for source in sources:
        if source.kind is kind and wanted in (same_address(source.spec), same_address(source.url)):
            return source
    return None


async def add_source(
    repo: Repository,
    fetcher: Fetcher,
    text: str,
    *,
    now: datetime,
    interval: float,
    default_tz: tzinfo,
    limit: int = MAX_SOURCES,
) -> AddOutcome:
    """Check `text` (a feed/page URL or wordpress:https://site) and register what it leads to."""
    try:
        kind, url = parse_spec(text)
    except (SourceSpecError, ValueError):
        return AddOutcome(AddStatus.INVALID)
    known = await repo.sources.all()
    if (found_before := find_known(known, kind, url)) is not None:
        return await _again(repo, found_before, now=now)
    if len(known) >= limit:
        return AddOutcome(AddStatus.LIMIT, entries=limit)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            if kind is SourceKind.WORDPRESS:
                found = await _check_wordpress(fetcher, url, default_tz=default_tz)
            else:
                found = await _check_feed(fetcher, url, default_tz=default_tz)
    except _Refused as exc:
        return AddOutcome(exc.status, reason=exc.reason)
    except TimeoutError:
        return AddOutcome(AddStatus.TIMEOUT)
    # The feed a page named, or where a permanent redirect led, may be registered already.
    if (found_before := find_known(await repo.sources.all(), found.kind, found.url)) is not None:
        return await _again(repo, found_before, now=now)
    source = await repo.sources.add(
        kind=found.kind, spec=found.spec, url=found.url, interval=interval, now=now
    )
    if found.title and not source.title:
        await repo.sources.update(source.id, title=found.title)
        source = await repo.sources.get(source.id) or source
    return AddOutcome(
        AddStatus.ADDED,
        source=source,
        title=found.title,
        entries=found.entries,
        discovered=found.discovered,
    )


async def _again(repo: Repository, source: PolledSource, *, now: datetime) -> AddOutcome:
    """A known source: a disabled one is polled again (at once), an active one is left alone."""
    if source.state is SourceState.ACTIVE:
        return AddOutcome(AddStatus.ALREADY, source=source, title=source.title)
    await repo.sources.update(
        source.id,
        state=SourceState.ACTIVE,
        failures=0,
        failing_since=None,
        notified_failing=False,
        next_poll_at=now,
    )
    return AddOutcome(
        AddStatus.ENABLED, source=await repo.sources.get(source.id) or source, title=source.title
    )


async def _fetch(fetcher: Fetcher, url: str, accept: str) -> FetchResult:
    try:
        return await fetcher.fetch(url, accept=accept)
    except BlockedAddress as exc:
        raise _Refused(AddStatus.BLOCKED, exc.reason) from None
    except FetchError as exc:
        if exc.status in _NOT_FOUND:
            raise _Refused(AddStatus.NOT_FOUND, exc.reason) from None
        if exc.reason.startswith("no answer from"):
            raise _Refused(AddStatus.TIMEOUT, exc.reason) from None
        raise _Refused(AddStatus.UNREACHABLE, exc.reason) from None


async def _parse(result: FetchResult, *, default_tz: tzinfo) -> tuple[str | None, int] | None:
    """(title, entry count) when the answer is a feed, else None."""
    try:
        feed = await asyncio.to_thread(
            parse_feed,
            result.body,
            url=result.url,
            content_type=result.headers.get("content-type"),
            default_tz=default_tz,
            source="check",
        )
    except FeedError:
        return None
    return feed.title or None, len(feed.entries)


async def _check_feed(fetcher: Fetcher, url: str, *, default_tz: tzinfo) -> _Found:
    result = await _fetch(fetcher, url, FEED_ACCEPT)
    where = result.permanent_redirect or url
    parsed = await _parse(result, default_tz=default_tz)
    if parsed is not None:
        return _Found(SourceKind.FEED, where, where, parsed[0], parsed[1])
    for feed_url in discover_feeds(result.body, result.url)[:3]:
        try:
            feed = await _fetch(fetcher, feed_url, FEED_ACCEPT)
        except _Refused as exc:
            if exc.status is AddStatus.BLOCKED:
                raise
            continue
        parsed = await _parse(feed, default_tz=default_tz)
        if parsed is not None:
            final = feed.permanent_redirect or feed_url
            return _Found(SourceKind.FEED, final, final, parsed[0], parsed[1], discovered=True)
    raise _Refused(AddStatus.NOT_A_FEED)


async def _check_wordpress(fetcher: Fetcher, site: str, *, default_tz: tzinfo) -> _Found:
    # One post is enough to know the API answers; X-WP-Total says how many there are.
    result = await _fetch(fetcher, posts_url(site, page=1, per_page=1), "application/json")
    try:
        posts = await asyncio.to_thread(
            parse_posts, result.body, site=site, default_tz=default_tz, source="check"
        )
    except WordPressError as exc:
        raise _Refused(AddStatus.NOT_WORDPRESS, str(exc)) from None
    total = result.headers.get("x-wp-total", "")
    count = int(total) if total.isdigit() else len(posts)
    return _Found(SourceKind.WORDPRESS, f"{WORDPRESS_PREFIX}{site}", site, None, count)


class RemoveStatus(enum.Enum):
    REMOVED = "removed"
    DISABLED = "disabled"  # configured in SOURCES: deleting it would bring it back at start
    NO_SUCH = "no_such"


@dataclass(frozen=True, slots=True)
class RemoveOutcome:
    status: RemoveStatus
    source: PolledSource | None = None
    count: int = 0  # how many sources there are (for NO_SUCH)


async def remove_source(
    repo: Repository, number: int, *, configured: Sequence[str]
) -> RemoveOutcome:
    """Remove the `number`-th source of the listing (from 1); disable it when SOURCES names it."""
    sources = await repo.sources.all()
    if not 1 <= number <= len(sources):
        return RemoveOutcome(RemoveStatus.NO_SUCH, count=len(sources))
    source = sources[number - 1]
    if source.spec in {spec.strip() for spec in configured}:
        await repo.sources.update(source.id, state=SourceState.DISABLED)
        return RemoveOutcome(RemoveStatus.DISABLED, source=source)
    await repo.sources.remove(source.id)
    return RemoveOutcome(RemoveStatus.REMOVED, source=source)


@dataclass(slots=True)
class ImportReport:
    """What an import did: counts, and the entries refused (for the operator)."""

    added: int = 0
    already: int = 0
    invalid: list[str] = field(default_factory=list)
    over_limit: int = 0


async def import_specs(
    repo: Repository,
    specs: Iterable[str],
    *,
    now: datetime,
    interval: float,
    limit: int = MAX_SOURCES,
) -> ImportReport:
    """Register each spec not known yet, without fetching (they are checked by polling)."""
    report = ImportReport()
    known = await repo.sources.all()
    for spec in specs:
        try:
            kind, url = parse_spec(spec)
        except (SourceSpecError, ValueError):
            report.invalid.append(spec)
            continue
        if find_known(known, kind, url) is not None:
            report.already += 1
            continue
        if len(known) >= limit:
            report.over_limit += 1
            continue
        clean = f"{WORDPRESS_PREFIX}{url}" if kind is SourceKind.WORDPRESS else spec.strip()
        known.append(
            await repo.sources.add(kind=kind, spec=clean, url=url, interval=interval, now=now)
        )
        report.added += 1
    return report
