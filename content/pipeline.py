"""Use-cases: ingest articles, decide what is new, plan who gets it. Time is a parameter."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from functools import partial
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from content.digests import hold_until, release_kind
from content.matching import KeywordIndex, match_all
from content.models import Article, ArticleParseError, IngestReport, SourceStatus, headline_id
from content.parsing import parse_bytes
from content.preferences import ReaderSettings, zone_of
from content.progress import LoggedProgress, Progress, ProgressFactory
from content.routing import Route, targets_for
from content.sources.folder import FolderItem, look
from content.storage import Repository, SourceFileState, UpsertOutcome
from content.storage.sources import ItemWrite
from content.summarizing import Summarizer, fit_summary
from content.topics import derive_topics
from content.visibility import is_embargoed
from content.withdrawals import deletes_queued, withdraw

log = logging.getLogger(__name__)

ARCHIVE_DONE_KEY = "archive_imported"
FOLDER_MISSING_KEY = "content_folder_missing"  # + the folder's path
ARCHIVE_BATCH = 200  # archive files stored per transaction at the first start
SUMMARY_MAX_CHARS = 600
# Seconds one file may take to parse (and again to summarize locally); past it, it is that
# file's error. A thread cannot be stopped: it finishes in the background, its result unused.
PARSE_TIMEOUT_SECONDS = 30.0
# The database being unavailable is not the file's fault: the scan stops and is tried again.
_NOT_THE_FILES_FAULT = (OperationalError, InterfaceError)
# A file's record when it was missing at the last scan (WITHDRAW_ON_FILE_REMOVED): its story is
# withdrawn only if it is still gone at the next, since editors that save by deleting and
# writing the file anew leave it missing for a moment.
MISSING_MTIME = -1


CHANNEL_PRIORITY = 0  # lower goes first
REVIEW_PRIORITY = 0  # editors' previews: ahead of readers, like the channels
BREAKING_PRIORITY = 5
READER_PRIORITY = 10


def is_breaking(article: Article) -> bool:
    """Breaking news (`breaking: true`, or tagged so) jumps the readers' queue."""
    return article.options.breaking or "breaking" in article.tags or "breaking-news" in article.tags


@dataclass(frozen=True, slots=True)
class PlanReport:
    """What planning did: which articles went out, to how many chats."""

    articles: tuple[Article, ...]
    deliveries: int
    reviews: tuple[Article, ...] = ()  # sent to the editors for review instead (REVIEW=true)


async def summarize(article: Article, summarizer: Summarizer) -> str:
    """The article's summary as one short text (async summarizers are awaited)."""
    paragraphs = article.paragraphs or ((article.standfirst,) if article.standfirst else ())
    summarize_async = getattr(summarizer, "summarize_async", None)
    if summarize_async is not None:
        sentences = await summarize_async(paragraphs, title=article.title, max_sentences=3)
    else:
        # CPU work on a long story: in a thread, so the bot keeps answering meanwhile.
        sentences = await asyncio.to_thread(
            summarizer.summarize, paragraphs, title=article.title, max_sentences=3
        )
    return " ".join(fit_summary(sentences, max_chars=SUMMARY_MAX_CHARS))


async def enrich(article: Article, summarizer: Summarizer) -> Article:
    """Add derived topics and the summary to a freshly parsed article."""
    article = replace(article, topics=await asyncio.to_thread(derive_topics, article))
    return replace(article, summary=await summarize(article, summarizer))


def _read_article(data: bytes, path: Path, default_tz: tzinfo) -> Article:
    """Parse a file's bytes and derive its topics (blocking: run in a thread)."""
    article = parse_bytes(data, path, default_tz=default_tz)
    return replace(article, topics=derive_topics(article))


async def scan_folder(
    repo: Repository,
    folder: Path,
    *,
    now: datetime,
    default_tz: tzinfo,
    summarizer: Summarizer,
    parse_timeout: float = PARSE_TIMEOUT_SECONDS,
    show_progress: ProgressFactory | None = None,  # the first start's import; None: log lines
    withdraw_removed: bool = False,
) -> IngestReport:
    """Parse new and changed files into stored articles; report broken files once per version.

    At the very first scan (an empty database), what is already in the folder is imported
    as the archive: readable in the bot, never posted. Whatever goes wrong with one file
    (reading, parsing or storing it) is that file's error; the others go on. A file marked
    `status: withdrawn` withdraws its story; a file that left the folder is forgotten, and
    with `withdraw_removed` (WITHDRAW_ON_FILE_REMOVED) withdraws its story too.
    """
    report = IngestReport()
    first_run = await repo.sources.get_meta(ARCHIVE_DONE_KEY) is None
    known = await repo.sources.files()
    versions = {key: (state.mtime_ns, state.size) for key, state in known.items()}
    files = await asyncio.to_thread(look, folder, versions)
    await _note_folder(repo, folder, present=files is not None, report=report, now=now)
    if files is None:
        return report
    progress = _ArchiveProgress(len(files), show_progress) if first_run else None
    # The first start stores the archive ARCHIVE_BATCH files to a transaction.
    pending: list[_Pending] = []
    for item in files:
        if progress is not None:
            progress.tick()
        previous = known.get(item.key)
        if item.data is None and item.error is None:
            report.unchanged += 1
            continue
        data = item.data or b""
        digest = hashlib.sha256(data).hexdigest()
        record = partial(
            repo.sources.record_file,
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
            article, stored = await _prepare(
                repo,
                item,
                previous,
                now=now,
                default_tz=default_tz,
                summarizer=summarizer,
                parse_timeout=parse_timeout,
            )
            if first_run:
                pending.append(_Pending(item.path, record, article, stored))
                if len(pending) >= ARCHIVE_BATCH:
                    await _store_archive(repo, pending, report, now=now)
                    pending = []
                continue
            await store_version(repo, article, stored, report, now=now, archive=False)
        except _NOT_THE_FILES_FAULT:
            raise
        except Exception as exc:  # any failure is this one file's error
            await _file_failed(item.path, record, exc, report)
            continue
        await record(article_id=article.id, error=None)
    if pending:
        await _store_archive(repo, pending, report, now=now)
    await _files_gone(
        repo, folder, known, files, report, now=now, withdraw_removed=withdraw_removed
    )
    if first_run:
        await repo.sources.set_meta(ARCHIVE_DONE_KEY, now.isoformat())
        if progress is not None:
            progress.done(len(report.new))
    return report


class _ArchiveProgress:
    """The first start's import: shown by the caller (else a log line every few seconds)."""

    EVERY_SECONDS = 5.0

    def __init__(self, total: int, show: ProgressFactory | None = None) -> None:
        self.total = total
        self.started = time.monotonic()
        what = "importing the archive"
        self.shown: Progress = (
            show(what, total)
            if show is not None
            else LoggedProgress(what, total, logger=log, every=self.EVERY_SECONDS, unit="files")
        )

    def tick(self) -> None:
        self.shown.advance()

    def done(self, stored: int) -> None:
        self.shown.close()
        elapsed = time.monotonic() - self.started
        log.info(
            "archive imported: %d stories from %d files in %.1f s", stored, self.total, elapsed
        )


@dataclass(frozen=True, slots=True)
class _Pending:
    """A parsed archive file waiting for its batch to be stored."""

    path: Path
    record: Callable[..., Awaitable[None]]
    article: Article
    stored: Article | None


async def _file_failed(
    path: Path, record: Callable[..., Awaitable[None]], exc: Exception, report: IngestReport
) -> None:
    error = _as_file_error(path, exc)
    report.errors.append(error)
    await record(article_id=None, error=error.reason)


async def _store_archive(
    repo: Repository, pending: Sequence[_Pending], report: IngestReport, *, now: datetime
) -> None:
    """Store a batch of the archive in one transaction; if it fails, each file on its own."""
    batch = [(p.article, not is_embargoed(p.article, now=now)) for p in pending]
    try:
        outcomes = await repo.articles.upsert_many(batch, now=now)
    except _NOT_THE_FILES_FAULT:
        raise
    except Exception:
        # Which file broke the batch is unknown: one by one, each failure is that file's.
        for p in pending:
            try:
                await store_version(repo, p.article, p.stored, report, now=now, archive=True)
            except _NOT_THE_FILES_FAULT:
                raise
            except Exception as exc:
                await _file_failed(p.path, p.record, exc, report)
                continue
            await p.record(article_id=p.article.id, error=None)
        return
    for p, outcome in zip(pending, outcomes, strict=True):
        await _account(repo, p.article, p.stored, outcome, report, now=now)
        await _withdraw_marked(repo, p.article, report, now=now)
        await p.record(article_id=p.article.id, error=None)


async def _withdraw_marked(
    repo: Repository, article: Article, report: IngestReport, *, now: datetime
) -> None:
    """A stored story whose file says `status: withdrawn` is withdrawn (its posts deleted)."""
    if not article.options.withdrawn:
        return
    done = await withdraw(repo, article.id, now=now, reason="status: withdrawn")
    report.deletes += deletes_queued(done)
    if done is not None and done.first:
        report.withdrawn.append(article.id)


async def _files_gone(
    repo: Repository,
    folder: Path,
    known: Mapping[str, SourceFileState],
    files: Sequence[FolderItem],
    report: IngestReport,
    *,
    now: datetime,
    withdraw_removed: bool,
) -> None:
    """Files that left the folder are forgotten; with `withdraw_removed`, their stories go too.

    A story is withdrawn only when its file was missing at two scans in a row and no file
    left in the folder holds it (a file renamed or moved within the folder keeps its story).
    """
    present = {item.key for item in files}
    gone = [path for path in known if path not in present]
    if not gone:
        return
    if not withdraw_removed:
        await repo.sources.forget_files(gone)
        return
    if not files:
        # An unmounted or emptied volume looks like this: withdrawing everything is never
        # what an editor meant. The records stay; the files are seen again when they return.
        log.warning("content folder %s lists no article files: nothing withdrawn", folder)
        return
    confirmed: list[str] = []
    for path in gone:
        state = known[path]
        if state.mtime_ns == MISSING_MTIME:
            confirmed.append(path)
            continue
        # Missing for the first time: remembered so, withdrawn if still gone at the next scan
        # (back meanwhile, its version differs from this one and it is read again).
        await repo.sources.record_file(
            path=path,
            mtime_ns=MISSING_MTIME,
            size=state.size,
            sha256=state.sha256,
            article_id=state.article_id,
            error=state.error,
            now=now,
        )
    if not confirmed:
        return
    current = await repo.sources.files()
    kept = {state.article_id for path, state in current.items() if path in present}
    for path in confirmed:
        article_id = known[path].article_id
        if article_id is None or article_id in kept:
            continue
        done = await withdraw(repo, article_id, now=now, reason=f"file {path} was removed")
        report.deletes += deletes_queued(done)
        if done is not None and done.first:
            report.withdrawn.append(article_id)
    await repo.sources.forget_files(confirmed)


async def _prepare(
    repo: Repository,
    item: FolderItem,
    previous: SourceFileState | None,
    *,
    now: datetime,
    default_tz: tzinfo,
    summarizer: Summarizer,
    parse_timeout: float,
) -> tuple[Article, Article | None]:
    """Parse and enrich one changed file: the article, and the stored version it updates."""
    if item.error is not None or item.data is None:
        raise ArticleParseError(item.path, item.error or "not read")
    try:
        # A thread keeps the event loop free; the timeout bounds how long a scan waits for it.
        parsed = await asyncio.wait_for(
            asyncio.to_thread(_read_article, item.data, item.path, default_tz), parse_timeout
        )
        # A remote summarizer has its own timeout and fallback; only local CPU work is bounded.
        remote = getattr(summarizer, "summarize_async", None) is not None
        summary = await asyncio.wait_for(
            summarize(parsed, summarizer), None if remote else parse_timeout
        )
    except TimeoutError:
        raise ArticleParseError(
            item.path, f"took longer than {parse_timeout:g} s to read"
        ) from None
    article = replace(parsed, summary=summary)
    stored = await _stored_version(repo, previous, article)
    if stored is not None:
        article = replace(article, id=stored.id)
    return article, stored


async def store_version(
    repo: Repository,
    article: Article,
    stored: Article | None,
    report: IngestReport,
    *,
    now: datetime,
    archive: bool,
) -> UpsertOutcome:
    """Store an enriched article (a new version of `stored`, if any); edit posts it changed.

    New and `archive`: imported as the archive (readable, never posted) unless embargoed.
    Every source stores through here: the folder and `content.ingest`.
    """
    # Archived on insert, in the upsert's own transaction (a story marked withdrawn as well:
    # never planned, even for the moment before it is withdrawn).
    archive = archive or article.options.withdrawn
    as_archive = archive and not is_embargoed(article, now=now)
    outcome = await repo.articles.upsert(article, now=now, archive=as_archive)
    await _account(repo, article, stored, outcome, report, now=now)
    await _withdraw_marked(repo, article, report, now=now)
    return outcome


async def store_items(
    repo: Repository,
    writes: Sequence[ItemWrite],
    stored: Sequence[Article | None],
    report: IngestReport,
    *,
    now: datetime,
) -> None:
    """`store_version` for a source's changed items: stories and item records in one commit.

    `stored[i]` is the version `writes[i].article` replaces. A write's `archive` (a first
    import) archives a new story on insert unless it is embargoed.
    """
    writes = [
        replace(w, archive=not is_embargoed(w.article, now=w.at or now))
        if w.article is not None and w.archive
        else w
        for w in writes
    ]
    outcomes = await repo.sources.record_items(writes, now=now)
    for write, before, outcome in zip(writes, stored, outcomes, strict=True):
        if write.article is not None and outcome is not None:
            await _account(repo, write.article, before, outcome, report, now=write.at or now)


async def _account(
    repo: Repository,
    article: Article,
    stored: Article | None,
    outcome: UpsertOutcome,
    report: IngestReport,
    *,
    now: datetime,
) -> None:
    """Report what storing did; a changed post of a stored story is queued for editing."""
    if outcome is UpsertOutcome.NEW:
        report.new.append(article.id)
    elif outcome is UpsertOutcome.UPDATED:
        report.updated.append(article.id)
        # A withdrawn story's posts are deleted, not edited.
        taken_back = article.options.withdrawn or (stored is not None and stored.withdrawn_at)
        # An editor's summary stays (storage keeps it): a new automatic one changes nothing.
        shown = (
            replace(article, summary=stored.summary) if stored and stored.summary_by else article
        )
        if stored is not None and not taken_back and post_of(stored) != post_of(shown):
            report.edits += await repo.outbox.requeue_channel_edits(article.id, now=now)
    else:
        report.unchanged += 1


def _as_file_error(path: Path, exc: Exception) -> ArticleParseError:
    """Any exception while handling one file, as that file's error (logged with its cause)."""
    if isinstance(exc, ArticleParseError):
        return exc
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps what the driver raised
    log.error("article file %s failed unexpectedly", path, exc_info=exc)
    return ArticleParseError(path, f"could not be read or stored ({type(cause).__name__})")


async def _note_folder(
    repo: Repository, folder: Path, *, present: bool, report: IngestReport, now: datetime
) -> None:
    """Report the folder going missing or coming back once per change (kept across restarts)."""
    key = f"{FOLDER_MISSING_KEY}:{folder}"
    was_missing = bool(await repo.sources.get_meta(key))
    if present and was_missing:
        await repo.sources.set_meta(key, "")
        report.status_changes.append(SourceStatus(str(folder), available=True))
    elif not present and not was_missing:
        await repo.sources.set_meta(key, now.isoformat())
        reason = "does not exist"
        report.status_changes.append(SourceStatus(str(folder), available=False, reason=reason))


async def _stored_version(
    repo: Repository, previous: SourceFileState | None, article: Article
) -> Article | None:
    """The stored article that this parse is a new version of, if any.

    The same id: that article. Otherwise, when the file names no id (the id comes from the
    headline) and held another article before with the same publication time, that one:
    a corrected headline is the same story, to be updated, not a new one to post again.
    A new headline *and* a new time in the same file is a new story.
    """
    current = await repo.articles.get(article.id)
    if current is not None:
        return current
    if previous is None or previous.article_id is None or article.published is None:
        return None
    if article.id != headline_id(article.title, article.published):
        return None  # the file names its id (front matter id or url): a new id is meant
    old = await repo.articles.get(previous.article_id)
    if old is not None and old.published == article.published:
        return old
    return None


def post_of(article: Article) -> tuple[object, ...]:
    """What a channel post shows: when this changes, sent posts are edited."""
    return (article.title, article.summary, article.topics, article.url, article.image)


async def plan_due(
    repo: Repository,
    *,
    channels: Sequence[str],
    now: datetime,
    default_zone: tzinfo = UTC,
    routes: Sequence[Route] = (),
    review: bool = False,
    editors: Sequence[str] = (),
) -> PlanReport:
    """Queue every due, unplanned article for the channels and its matching readers.

    A story goes to every channel and to every route whose topics it has, once per target
    (a forum topic's target is "chat:thread", see `Target`). Readers' mutes and exclusions
    leave them out; digests and quiet hours hold their rows
    (`default_zone`: the zone of readers who chose none). With `review`, a story never
    reviewed goes to the `editors` as a preview instead, and waits for one to publish it.
    """
    due = await repo.articles.due_for_planning(now=now)
    reviews: list[Article] = []
    previews = 0
    if review:
        # Never reviewed: to the editors. Published by one of them: planned as usual below.
        reviews = [a for a in due if a.review is None]
        due = [a for a in due if a.review is not None]
        for article in reviews:
            previews += await repo.outbox.plan_review(
                article, editors=editors, now=now, priority=REVIEW_PRIORITY
            )
    if not due:
        return PlanReport((), previews, tuple(reviews))
    keywords = await repo.readers.keyword_values()
    # One pass over each story, off the event loop: readers may hold many thousand keywords.
    index = await asyncio.to_thread(KeywordIndex, keywords)
    matches = await asyncio.to_thread(match_all, index, due)
    # Mutes and exclusions are matched the same way (whole words, phrases or topics).
    terms = await repo.readers.exclusion_terms()
    excluded = (
        [[] for _ in due]
        if not terms
        else await asyncio.to_thread(match_all, await asyncio.to_thread(KeywordIndex, terms), due)
    )
    total = 0
    for article, matched, leaves_out in zip(due, matches, excluded, strict=True):
        breaking = is_breaking(article)

        def hold(settings: ReaderSettings, breaking: bool = breaking) -> datetime | None:
            zone = zone_of(settings.timezone, default_zone)
            return hold_until(settings, zone, now, breaking=breaking)

        targets = targets_for(article.topics, channels=channels, routes=routes)
        total += await repo.outbox.plan(
            article,
            channels=[t.key for t in targets],
            keyword_matches=matched,
            now=now,
            reader_priority=BREAKING_PRIORITY if breaking else READER_PRIORITY,
            hold=hold,
            excluded_terms=leaves_out,
        )
    return PlanReport(tuple(due), total + previews, tuple(reviews))


async def release_due(repo: Repository, *, now: datetime) -> int:
    """Queue one digest (or "While you were away") per reader whose held stories fell due."""
    return await repo.outbox.bundle_due(now=now, kind_of=release_kind, priority=READER_PRIORITY)
