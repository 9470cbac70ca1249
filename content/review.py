"""Editorial review (REVIEW=true): editors publish, hold, and rewrite the summary of a story."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from content.models import Article, ReviewState
from content.pipeline import SUMMARY_MAX_CHARS
from content.storage import Repository


class Decision(enum.Enum):
    """What an editor's publish or hold did."""

    PUBLISHED = "published"  # waiting or held until now: it goes out
    HELD = "held"  # waiting until now: kept back
    STOPPED = "stopped"  # already queued: its unsent posts and messages were stopped
    ALREADY_PUBLISHED = "already_published"  # another editor (or this one) was first
    ALREADY_HELD = "already_held"
    ALREADY_SENT = "already_sent"  # nothing left to stop (sent, or imported as the archive)
    NOT_IN_REVIEW = "not_in_review"  # never under review: it goes out as usual
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """A decision, the story as it now stands, and who decided (for "already ..." answers)."""

    decision: Decision
    article: Article | None = None
    by: str | None = None
    stopped: int = 0  # STOPPED: unsent deliveries taken off the queue


class SummaryResult(enum.Enum):
    REPLACED = "replaced"
    UNCHANGED = "unchanged"  # the summary already reads so
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class SummaryOutcome:
    result: SummaryResult
    edits: int = 0  # sent posts and previews queued to be edited


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """Stories an editor may still publish (waiting or held), newest first; `total`: all of them."""

    stories: tuple[Article, ...]
    total: int


async def awaiting(repo: Repository, *, limit: int) -> ReviewQueue:
    """What waits for an editor: found here even when a preview never reached them."""
    stories, total = await repo.articles.awaiting_editor(limit=limit)
    return ReviewQueue(tuple(stories), total)


async def publish(repo: Repository, article_id: str, *, by: str, now: datetime) -> ReviewOutcome:
    """Publish a story waiting for review or held; exactly once, whoever presses first.

    The editors' previews are edited to say who published it.
    """
    changed = await repo.articles.set_review(
        article_id=article_id,
        state=ReviewState.PUBLISHED,
        by=by,
        only_from=(ReviewState.WAITING, ReviewState.HELD),
    )
    article = await repo.articles.get(article_id)
    if article is None:
        return ReviewOutcome(Decision.NOT_FOUND)
    if changed:
        await repo.outbox.requeue_review_edits(article_id, now=now)
        return ReviewOutcome(Decision.PUBLISHED, article, by)
    if article.review is ReviewState.PUBLISHED:
        return ReviewOutcome(Decision.ALREADY_PUBLISHED, article, article.reviewed_by)
    return ReviewOutcome(Decision.NOT_IN_REVIEW, article)


async def hold(repo: Repository, article_id: str, *, by: str, now: datetime) -> ReviewOutcome:
    """Keep a story back: one waiting for review is held; a queued one has its sends stopped."""
    article = await repo.articles.get(article_id)
    if article is None:
        return ReviewOutcome(Decision.NOT_FOUND)
    if article.review is ReviewState.HELD:
        return ReviewOutcome(Decision.ALREADY_HELD, article, article.reviewed_by)
    if article.review is ReviewState.WAITING:
        held = await repo.articles.set_review(
            article_id=article_id, state=ReviewState.HELD, by=by, only_from=(ReviewState.WAITING,)
        )
        if not held:
            # Another editor decided in between: say what they did.
            current = await repo.articles.get(article_id) or article
            decision = (
                Decision.ALREADY_HELD
                if current.review is ReviewState.HELD
                else Decision.ALREADY_PUBLISHED
            )
            return ReviewOutcome(decision, current, current.reviewed_by)
        await repo.outbox.requeue_review_edits(article_id, now=now)
        return ReviewOutcome(Decision.HELD, await repo.articles.get(article_id) or article, by)
    stopped = await repo.outbox.stop_queued(article_id=article_id, by=by)
    if stopped is None:
        return ReviewOutcome(Decision.ALREADY_SENT, article)
    await repo.outbox.requeue_review_edits(article_id, now=now)
    current = await repo.articles.get(article_id) or article
    return ReviewOutcome(Decision.STOPPED, current, by, stopped=stopped)


async def replace_summary(
    repo: Repository, article_id: str, text: str, *, by: str, now: datetime
) -> SummaryOutcome:
    """An editor's summary replaces the story's and sticks; sent posts and previews are edited."""
    summary = " ".join(text.split())
    if not summary:
        return SummaryOutcome(SummaryResult.EMPTY)
    if len(summary) > SUMMARY_MAX_CHARS:
        return SummaryOutcome(SummaryResult.TOO_LONG)
    if await repo.articles.get(article_id) is None:
        return SummaryOutcome(SummaryResult.NOT_FOUND)
    if not await repo.articles.set_summary(article_id=article_id, summary=summary, by=by, now=now):
        return SummaryOutcome(SummaryResult.UNCHANGED)
    edits = await repo.outbox.requeue_channel_edits(article_id, now=now)
    return SummaryOutcome(SummaryResult.REPLACED, edits=edits)
