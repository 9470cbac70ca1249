"""Use-cases: ingest articles, decide what is new, plan who gets it. Time is a parameter."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path

from content.models import Article, ArticleParseError, IngestReport, headline_id
from content.parsing import SUPPORTED_SUFFIXES, parse_bytes
from content.storage import Repository, SourceFileState, UpsertOutcome
from content.summarizing import Summarizer, fit_summary
from content.topics import derive_topics, keyword_matches, normalise_topic

log = logging.getLogger(__name__)

ARCHIVE_DONE_KEY = "archive_imported"
SUMMARY_MAX_CHARS = 600
MAX_FILE_BYTES = 5 * 1024 * 1024


CHANNEL_PRIORITY = 0  # lower goes first
BREAKING_PRIORITY = 5
READER_PRIORITY = 10


def is_breaking(article: Article) -> bool:
    """Tagged breaking news jumps the readers' queue (after the channel posts)."""
    return "breaking" in article.tags or "breaking-news" in article.tags


@dataclass(frozen=True, slots=True)
class PlanReport:
    """What planning did: which articles went out, to how many chats."""

    articles: tuple[Article, ...]
    deliveries: int


async def summarize(article: Article, summarizer: Summarizer) -> str:
    """The article's summary as one short text (async summarizers are awaited)."""
    paragraphs = article.paragraphs or ((article.standfirst,) if article.standfirst else ())
    summarize_async = getattr(summarizer, "summarize_async", None)
    if summarize_async is not None:
        sentences = await summarize_async(paragraphs, title=article.title, max_sentences=3)
    else:
        sentences = summarizer.summarize(paragraphs, title=article.title, max_sentences=3)
    return " ".join(fit_summary(sentences, max_chars=SUMMARY_MAX_CHARS))


async def enrich(article: Article, summarizer: Summarizer) -> Article:
    """Add derived topics and the summary to a freshly parsed article."""
    article = replace(article, topics=derive_topics(article))
    return replace(article, summary=await summarize(article, summarizer))


@dataclass(frozen=True, slots=True)
class _FileSeen:
    path: Path
    key: str
    mtime_ns: int
    size: int
    data: bytes | None = None  # read only when the file changed
    error: str | None = None


def _look(folder: Path, known: dict[str, SourceFileState]) -> list[_FileSeen] | None:
    """Blocking part of a scan (run in a thread): list, stat, read what changed."""
    if not folder.is_dir():
        return None
    seen: list[_FileSeen] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            if not path.is_file():
                continue
            stat = path.stat()
        except OSError:  # vanished between listing and stat
            continue
        key = str(path.resolve())
        item = _FileSeen(path, key, stat.st_mtime_ns, stat.st_size)
        previous = known.get(key)
        if previous and (previous.mtime_ns, previous.size) == (stat.st_mtime_ns, stat.st_size):
            seen.append(item)
            continue
        if stat.st_size > MAX_FILE_BYTES:
            seen.append(replace(item, error=f"file is larger than {MAX_FILE_BYTES} bytes"))
            continue
        try:
            seen.append(replace(item, data=path.read_bytes()))
        except OSError as exc:
            seen.append(replace(item, error=f"cannot read: {exc.strerror}"))
    return seen


async def scan_folder(
    repo: Repository,
    folder: Path,
    *,
    now: datetime,
    default_tz: tzinfo,
    summarizer: Summarizer,
) -> IngestReport:
    """Parse new and changed files into stored articles; report broken files once per version.

    At the very first scan (an empty database), what is already in the folder is imported
    as the archive: readable in the bot, never posted.
    """
    report = IngestReport()
    first_run = await repo.get_meta(ARCHIVE_DONE_KEY) is None
    known = await repo.source_files()
    files = await asyncio.to_thread(_look, folder, known)
    if files is None:
        report.errors.append(ArticleParseError(folder, "content folder does not exist"))
        return report
    for item in files:
        previous = known.get(item.key)
        if item.data is None and item.error is None:
            report.unchanged += 1
            continue
        data = item.data or b""
        digest = hashlib.sha256(data).hexdigest()
        record = partial(
            repo.record_source_file,
            path=item.key,
            mtime_ns=item.mtime_ns,
            size=item.size,
            sha256=digest,
            now=now,
        )
        if previous is not None and previous.sha256 == digest and item.error is None:
            # Touched but not changed: remember the new mtime, report nothing again.
            await record(article_id=previous.article_id, error=previous.error)
            report.unchanged += 1
            continue
        try:
            if item.error is not None:
                raise ArticleParseError(item.path, item.error)
            parsed = parse_bytes(data, item.path, default_tz=default_tz)
            article = await enrich(parsed, summarizer)
        except ArticleParseError as exc:
            report.errors.append(exc)
            await record(article_id=None, error=exc.reason)
            continue
        stored = await _stored_version(repo, previous, article)
        if stored is not None:
            article = replace(article, id=stored.id)
        outcome = await repo.upsert_article(article, now=now)
        if outcome is UpsertOutcome.NEW:
            report.new.append(article.id)
            embargoed = article.publish_at is not None and article.publish_at > now
            if first_run and not embargoed:
                await repo.mark_archived(article.id, now=now)
        elif outcome is UpsertOutcome.UPDATED:
            report.updated.append(article.id)
            if stored is not None and _post_of(stored) != _post_of(article):
                report.edits += await repo.requeue_channel_edits(article.id, now=now)
        else:
            report.unchanged += 1
        await record(article_id=article.id, error=None)
    if first_run:
        await repo.set_meta(ARCHIVE_DONE_KEY, now.isoformat())
    return report


async def _stored_version(
    repo: Repository, previous: SourceFileState | None, article: Article
) -> Article | None:
    """The stored article that this parse is a new version of, if any.

    The same id: that article. Otherwise, when the file names no id (the id comes from the
    headline) and held another article before with the same publication time, that one:
    a corrected headline is the same story, to be updated, not a new one to post again.
    A new headline *and* a new time in the same file is a new story.
    """
    current = await repo.get_article(article.id)
    if current is not None:
        return current
    if previous is None or previous.article_id is None or article.published is None:
        return None
    if article.id != headline_id(article.title, article.published):
        return None  # the file names its id (front matter id or url): a new id is meant
    old = await repo.get_article(previous.article_id)
    if old is not None and old.published == article.published:
        return old
    return None


def _post_of(article: Article) -> tuple[object, ...]:
    """What a channel post shows: when this changes, sent posts are edited."""
    return (article.title, article.summary, article.topics, article.url, article.image)


async def plan_due(repo: Repository, *, channels: Sequence[str], now: datetime) -> PlanReport:
    """Queue every due, unplanned article for the channels and its matching readers."""
    due = await repo.articles_to_plan(now=now)
    if not due:
        return PlanReport((), 0)
    keywords = await repo.keyword_values()
    total = 0
    for article in due:
        body = article.body_text
        topics = set(article.topics)
        # A keyword also matches a topic of the same name: "/subscribe wildlife" before any
        # wildlife story exists is a keyword, and should still catch the first tagged one.
        matched = [
            k
            for k in keywords
            if normalise_topic(k) in topics
            or keyword_matches(k, title=article.title, standfirst=article.standfirst, body=body)
        ]
        total += await repo.plan_deliveries(
            article,
            channels=channels,
            keyword_matches=matched,
            now=now,
            reader_priority=BREAKING_PRIORITY if is_breaking(article) else READER_PRIORITY,
        )
    return PlanReport(tuple(due), total)
