"""One ingest path for every source: Entry -> Article -> dedupe -> enrich -> store -> edit posts.

Feeds, WordPress sites, CMS pushes and readers' links yield `Entry`s (content/sources/base.py);
`ingest_entries` turns them into stored articles. The folder parses its own files but stores
through the same step (`content.pipeline.store_version`).

Dedupe: the same story reached through two sources is one story (the article id comes from the
canonical link or the CMS's id, whichever source carries it); within a source, (source, key)
is remembered with the story it became, so a guid-only item or one whose link changed keeps
its story, and an item whose digest did not change costs nothing (no page fetch, no summary).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.exc import InterfaceError, OperationalError

from content.extraction import Extracted, extract
from content.models import Article, ArticleParseError, Block, BlockKind, IngestReport
from content.pipeline import PARSE_TIMEOUT_SECONDS, store_items, summarize
from content.sources.base import Entry
from content.sources.html_text import html_blocks, plain_text
from content.storage import ItemState, Repository
from content.storage.sources import ItemWrite
from content.summarizing import Summarizer
from content.topics import derive_topics, normalise_topic
from content.withdrawals import deletes_queued, withdraw

log = logging.getLogger(__name__)

# The database being unavailable is not the item's fault: the ingest stops and is tried again.
_NOT_THE_ITEMS_FAULT = (OperationalError, InterfaceError)

FetchPage = Callable[[str], Awaitable[bytes | None]]

# Changed items stored per transaction: a feed's first import is one commit, not one per item.
STORE_BATCH = 50
_ENTRY_FIELDS = tuple(f.name for f in fields(Entry) if f.name != "options")


class FullText(enum.Enum):
    """When to fetch an item's page for its full text (FULL_TEXT)."""

    AUTO = "auto"  # only when the source carries just an excerpt
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class _Options:
    now: datetime
    summarizer: Summarizer
    default_tz: tzinfo
    archive: bool
    fetch_page: FetchPage | None
    full_text: FullText
    timeout: float


def entry_digest(entry: Entry) -> str:
    """A fingerprint of everything the source said about the item: unchanged means no work."""
    # The same text `asdict` gave, so stored digests stay valid, without its deep copy.
    values = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
    if entry.options.to_json():  # only when asked: digests stored before options stay valid
        values["options"] = entry.options.to_json()
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def publication_order(entries: Sequence[Entry]) -> list[Entry]:
    """Oldest first (undated items last, in the source's order): the order stories are posted."""

    def key(pair: tuple[int, Entry]) -> tuple[bool, float, int]:
        index, entry = pair
        when = entry.published or entry.updated
        return (when is None, when.timestamp() if when else 0.0, index)

    return [entry for _, entry in sorted(enumerate(entries), key=key)]


async def ingest_entries(
    repo: Repository,
    entries: Sequence[Entry],
    *,
    now: datetime,
    summarizer: Summarizer,
    default_tz: tzinfo,
    archive: bool = False,
    fetch_page: FetchPage | None = None,
    full_text: FullText = FullText.AUTO,
    parse_timeout: float = PARSE_TIMEOUT_SECONDS,
) -> IngestReport:
    """Store the entries as articles, oldest first; one broken entry is that entry's error.

    `archive`: new stories are stored readable but never posted (a source's first import).
    `fetch_page(url)` gives an article page's bytes (None when it cannot be had) for the full
    text (`full_text`) and the `og:image` of items without one.
    """
    options = _Options(now, summarizer, default_tz, archive, fetch_page, full_text, parse_timeout)
    report = IngestReport()
    ordered = publication_order(entries)
    known: dict[str, dict[str, ItemState]] = {}
    for source in dict.fromkeys(entry.source for entry in ordered):
        keys = [entry.key for entry in ordered if entry.source == source]
        known[source] = await repo.sources.items(source, keys)
    batch = _Batch(repo, report, now)
    for index, entry in enumerate(ordered):
        previous = known[entry.source].get(entry.key)
        digest = entry_digest(entry)
        if previous is not None and previous.digest == digest:
            report.unchanged += 1
            continue
        # Stories first seen in one ingest get increasing times: planning takes them in
        # that order, so they are posted oldest first.
        seen_at = now + timedelta(microseconds=index)
        try:
            write, stored = await _ingest_one(
                repo, entry, previous, digest, report, seen_at, options, batch.stories
            )
            if write.withdrawn and write.article_id is not None:
                # Before its record is stored: a crash in between withdraws it again next
                # time (idempotent) instead of never.
                await batch.withdraw(write.article_id, reason=f"withdrawn by {entry.source}")
        except _NOT_THE_ITEMS_FAULT:
            raise
        except Exception as exc:  # any failure is this one item's error
            error = _as_item_error(entry, exc)
            report.errors.append(error)
            await batch.add(_Pending(entry, previous, _failed(entry, previous, digest, error)))
            continue
        await batch.add(_Pending(entry, previous, write, stored))
        # A second item of the same batch naming the same story sees this one.
        known[entry.source][entry.key] = ItemState(write.article_id, digest, None, entry.withdrawn)
    await batch.flush()
    return report


def _failed(
    entry: Entry, previous: ItemState | None, digest: str, error: ArticleParseError
) -> ItemWrite:
    """The record of an item that could not be read or stored (reported once per version)."""
    return ItemWrite(
        entry.source,
        entry.key,
        digest,
        previous.article_id if previous else None,
        error=error.reason,
        withdrawn=entry.withdrawn,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    """A changed item ready to store, and the stored version its story replaces."""

    entry: Entry
    previous: ItemState | None
    write: ItemWrite
    stored: Article | None = None


@dataclass(slots=True)
class _Batch:
    """Changed items stored STORE_BATCH to a transaction (stories with their item records)."""

    repo: Repository
    report: IngestReport
    now: datetime
    pending: list[_Pending] = field(default_factory=list)
    # Stories stored (or about to be) by this ingest: later items see them without a read.
    stories: dict[str, Article] = field(default_factory=dict)

    async def add(self, item: _Pending) -> None:
        self.pending.append(item)
        if item.write.article is not None:
            self.stories[item.write.article.id] = item.write.article
        if len(self.pending) >= STORE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Store what is pending; if the commit fails, each item on its own (its own error)."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            await self._store(pending)
        except _NOT_THE_ITEMS_FAULT:
            raise
        except Exception:
            log.info("storing %d items at once failed: one by one", len(pending))
        else:
            await self._withdraw_marked(pending)
            return
        for item in pending:
            try:
                await self._store([item])
            except _NOT_THE_ITEMS_FAULT:
                raise
            except Exception as exc:  # storing this one item failed: its error
                error = _as_item_error(item.entry, exc)
                self.report.errors.append(error)
                if item.write.article is not None:
                    self.stories.pop(item.write.article.id, None)  # not stored after all
                failed = _failed(item.entry, item.previous, item.write.digest, error)
                await self.repo.sources.record_items([failed], now=self.now)
                continue
            await self._withdraw_marked([item])

    async def withdraw(self, article_id: str, *, reason: str) -> None:
        """Withdraw a story (stored first if this batch still holds it)."""
        if any(
            p.write.article is not None and p.write.article.id == article_id for p in self.pending
        ):
            await self.flush()
        done = await withdraw(self.repo, article_id, now=self.now, reason=reason)
        self.report.deletes += deletes_queued(done)

    async def _withdraw_marked(self, items: Sequence[_Pending]) -> None:
        """Stories stored marked `status: withdrawn` are withdrawn (archived on insert)."""
        for item in items:
            article = item.write.article
            if article is not None and article.options.withdrawn:
                done = await withdraw(
                    self.repo, article.id, now=self.now, reason=f"withdrawn by {article.source}"
                )
                self.report.deletes += deletes_queued(done)
                if article.id not in self.report.withdrawn:
                    self.report.withdrawn.append(article.id)

    async def _store(self, items: Sequence[_Pending]) -> None:
        writes = [item.write for item in items]
        stored = [item.stored for item in items]
        await store_items(self.repo, writes, stored, self.report, now=self.now)


async def _ingest_one(
    repo: Repository,
    entry: Entry,
    previous: ItemState | None,
    digest: str,
    report: IngestReport,
    now: datetime,
    options: _Options,
    stories: dict[str, Article],
) -> tuple[ItemWrite, Article | None]:
    """Build and enrich one changed entry: what to store, and the version it replaces."""
    article_id = (previous.article_id if previous else None) or entry.article_id
    stored = stories.get(article_id)
    if stored is None:
        stored = await repo.articles.get(article_id)
    item = ItemWrite(entry.source, entry.key, digest, article_id, withdrawn=entry.withdrawn)
    if entry.withdrawn:
        # Never posted from now on (if stored); the caller withdraws it (posts deleted).
        report.withdrawn.append(article_id)
        return item, stored
    if stored is not None and previous is None and stored.source != entry.source:
        # The story came through another source first: this one only learns which it is.
        # Its later changes update the story; its first sighting does not overwrite it.
        report.unchanged += 1
        return item, stored
    article = await _article(entry, article_id, options)
    try:
        topics = await asyncio.wait_for(asyncio.to_thread(derive_topics, article), options.timeout)
        article = replace(article, topics=topics)
        # A remote summarizer has its own timeout and fallback; only local CPU work is bounded.
        remote = getattr(options.summarizer, "summarize_async", None) is not None
        summary = await asyncio.wait_for(
            summarize(article, options.summarizer), None if remote else options.timeout
        )
    except TimeoutError:
        raise ArticleParseError(
            _where(entry), f"took longer than {options.timeout:g} s to read"
        ) from None
    article = replace(article, summary=summary)
    # A story already marked withdrawn is archived on insert: never planned, even for a moment.
    archive = options.archive or article.options.withdrawn
    return replace(item, article=article, archive=archive, at=now), stored


async def _article(entry: Entry, article_id: str, options: _Options) -> Article:
    """The entry as an Article (before topics and summary), fetching its page when needed."""
    page = await _page(entry, options)
    use_page = (
        page is not None
        and bool(page.paragraphs)
        and (options.full_text is FullText.ALWAYS or not entry.has_full_text)
    )
    blocks: tuple[Block, ...]
    from_excerpt = False
    if use_page and page is not None:
        blocks = tuple(Block(BlockKind.PARAGRAPH, p) for p in page.paragraphs)
    elif entry.paragraphs:
        blocks = tuple(Block(BlockKind.PARAGRAPH, p) for p in entry.paragraphs if p.strip())
    elif entry.body_html and entry.body_html.strip():
        blocks = await asyncio.to_thread(html_blocks, entry.body_html)
    elif entry.summary_html:
        blocks = await asyncio.to_thread(html_blocks, entry.summary_html)
        from_excerpt = True
    else:
        blocks = ()
    title = entry.title.strip() or (page.title if page and page.title else "")
    if not title:
        raise ArticleParseError(_where(entry), "has no title")
    standfirst = entry.standfirst
    if standfirst is None and entry.summary_html and not from_excerpt:
        standfirst = _standfirst(plain_text(entry.summary_html), blocks)
    if not blocks and not standfirst:
        raise ArticleParseError(_where(entry), "has no text")
    tags = tuple(dict.fromkeys(slug for slug in map(normalise_topic, entry.tags) if slug))
    return Article(
        id=article_id,
        title=title,
        blocks=blocks,
        standfirst=standfirst or None,
        author=entry.author or (page.author if page else None),
        published=entry.published or (page.published if page else None) or entry.updated,
        tags=tags,
        url=entry.url,
        image=entry.image or (page.image if page else None),
        publish_at=entry.publish_at,
        source=entry.source,
        options=entry.options,
    )


async def _page(entry: Entry, options: _Options) -> Extracted | None:
    """The article page, extracted, when the full text or the image is wanted from it."""
    if options.fetch_page is None or not entry.url or options.full_text is FullText.NEVER:
        return None
    wanted = options.full_text is FullText.ALWAYS or not entry.has_full_text or entry.image is None
    if not wanted:
        return None
    try:
        body = await options.fetch_page(entry.url)
    except Exception as exc:  # the page is a bonus: without it the item keeps its excerpt
        log.info("page of %s not fetched: %s", entry.url, exc)
        return None
    if not body:
        return None
    return await asyncio.wait_for(
        asyncio.to_thread(extract, body, url=entry.url, timezone=options.default_tz),
        options.timeout,
    )


def _standfirst(excerpt: str, blocks: tuple[Block, ...]) -> str | None:
    """The excerpt as a standfirst, unless it only repeats the start of the body."""
    excerpt = excerpt.removesuffix("[…]").removesuffix("[&hellip;]").strip()
    if not excerpt:
        return None
    body_start = " ".join(b.text for b in blocks[:3])
    stem = excerpt.rstrip(".…").strip()
    if stem and body_start.startswith(stem[: max(40, len(stem) - 5)]):
        return None
    return excerpt


def _where(entry: Entry) -> str:
    return f"{entry.source} item {entry.url or entry.key}"


def _as_item_error(entry: Entry, exc: Exception) -> ArticleParseError:
    """Any exception while handling one item, as that item's error (logged with its cause)."""
    if isinstance(exc, ArticleParseError):
        return exc
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps what the driver raised
    log.error("%s failed unexpectedly", _where(entry), exc_info=exc)
    return ArticleParseError(_where(entry), f"could not be read or stored ({type(cause).__name__})")
