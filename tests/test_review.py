"""Editorial review's use-cases and storage, on SQLite and PostgreSQL (time passed in)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from content import review
from content.models import Delivery, DeliveryKind, DeliveryState, ReviewState, SubscriptionKind
from content.pipeline import SUMMARY_MAX_CHARS, plan_due
from content.review import Decision, SummaryResult
from content.storage import Repository
from tests.support.articles import make_article
from tests.support.ingest import content_folder, scan, story
from tests.support.storage import deliveries_of, mark_sent, sqlite_repo

NOW = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)
CHANNELS = ("@newswire_test",)
EDITORS = ("4242", "4343")


async def plan(repo: Repository, now: datetime = NOW, *, review_on: bool = True) -> int:
    report = await plan_due(repo, channels=CHANNELS, now=now, review=review_on, editors=EDITORS)
    return report.deliveries


async def waiting_story(repo: Repository, article_id: str = "a1") -> None:
    """A new story with a reader following it, sent to the two editors for review."""
    await repo.readers.upsert_chat(chat_id="77", first_name=None, username=None, now=NOW)
    await repo.readers.subscribe(
        chat_id="77", kind=SubscriptionKind.KEYWORD, value="council", now=NOW
    )
    article = make_article(article_id, body="The council met on Tuesday.")
    await repo.articles.upsert(article, now=NOW)
    assert await plan(repo) == 2


def by_kind(rows: list[Delivery], kind: DeliveryKind) -> list[Delivery]:
    return [d for d in rows if d.kind is kind]


async def test_a_new_story_goes_to_the_editors_only_and_waits(any_repo: Repository) -> None:
    await waiting_story(any_repo)
    rows = await deliveries_of(any_repo, "a1")
    assert sorted(d.chat_id for d in rows) == list(EDITORS)
    assert {d.kind for d in rows} == {DeliveryKind.REVIEW}
    assert all(d.priority < 10 for d in rows)  # ahead of readers
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.review is ReviewState.WAITING
    assert await any_repo.articles.latest(limit=5, now=NOW) == []
    assert await plan(any_repo, NOW + timedelta(minutes=1)) == 0  # not picked again


async def test_review_off_plans_as_before(any_repo: Repository) -> None:
    await any_repo.articles.upsert(make_article("a1"), now=NOW)
    assert await plan(any_repo, review_on=False) == 1
    rows = await deliveries_of(any_repo, "a1")
    assert [d.kind for d in rows] == [DeliveryKind.CHANNEL]
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.review is None


async def test_two_editors_publishing_at_once_publish_once(any_repo: Repository) -> None:
    await waiting_story(any_repo)
    outcomes = await asyncio.gather(
        review.publish(any_repo, "a1", by="Ann", now=NOW),
        review.publish(any_repo, "a1", by="Bea", now=NOW),
    )
    decisions = sorted(o.decision.value for o in outcomes)
    assert decisions == ["already_published", "published"]
    winner = next(o.by for o in outcomes if o.decision is Decision.PUBLISHED)
    loser = next(o for o in outcomes if o.decision is Decision.ALREADY_PUBLISHED)
    assert loser.by == winner
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.reviewed_by == winner
    assert await plan(any_repo) == 4  # the two previews, the channel and the reader
    assert len(by_kind(await deliveries_of(any_repo, "a1"), DeliveryKind.CHANNEL)) == 1


async def test_publishing_edits_sent_previews(any_repo: Repository) -> None:
    await waiting_story(any_repo)
    first = (await deliveries_of(any_repo, "a1"))[0]
    await mark_sent(any_repo, delivery_id=first.id, message_id=9, now=NOW)
    await review.publish(any_repo, "a1", by="Ann", now=NOW)
    again = next(d for d in await deliveries_of(any_repo, "a1") if d.id == first.id)
    assert again.state is DeliveryState.PENDING and again.message_id == 9  # an edit


async def test_hold_then_publish(any_repo: Repository) -> None:
    await waiting_story(any_repo)
    held = await review.hold(any_repo, "a1", by="Ann", now=NOW)
    assert held.decision is Decision.HELD
    assert (await review.hold(any_repo, "a1", by="Bea", now=NOW)).by == "Ann"
    assert await plan(any_repo) == 0
    published = await review.publish(any_repo, "a1", by="Bea", now=NOW)
    assert published.decision is Decision.PUBLISHED
    assert await plan(any_repo) == 4


async def test_hold_stops_a_queued_story_and_publishing_plans_it_again(
    any_repo: Repository,
) -> None:
    await waiting_story(any_repo)
    await review.publish(any_repo, "a1", by="Ann", now=NOW)
    await plan(any_repo)
    channel = by_kind(await deliveries_of(any_repo, "a1"), DeliveryKind.CHANNEL)[0]
    await mark_sent(any_repo, delivery_id=channel.id, message_id=5, now=NOW)

    outcome = await review.hold(any_repo, "a1", by="Bea", now=NOW)
    assert outcome.decision is Decision.STOPPED and outcome.stopped == 1  # the reader's
    rows = await deliveries_of(any_repo, "a1")
    assert by_kind(rows, DeliveryKind.READER) == []
    assert [d.state for d in by_kind(rows, DeliveryKind.CHANNEL)] == [DeliveryState.SENT]
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.review is ReviewState.HELD
    assert stored.reviewed_by == "Bea"
    assert await any_repo.articles.latest(limit=5, now=NOW) == []

    assert (await review.publish(any_repo, "a1", by="Ann", now=NOW)).decision is Decision.PUBLISHED
    await plan(any_repo)
    rows = await deliveries_of(any_repo, "a1")
    assert len(by_kind(rows, DeliveryKind.READER)) == 1  # planned again
    assert [d.message_id for d in by_kind(rows, DeliveryKind.CHANNEL)] == [5]  # not twice


async def test_hold_of_a_story_sent_everywhere_changes_nothing(any_repo: Repository) -> None:
    await any_repo.articles.upsert(make_article("a1"), now=NOW)
    await plan(any_repo, review_on=False)
    for row in await deliveries_of(any_repo, "a1"):
        await mark_sent(any_repo, delivery_id=row.id, message_id=3, now=NOW)
    outcome = await review.hold(any_repo, "a1", by="Ann", now=NOW)
    assert outcome.decision is Decision.ALREADY_SENT
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.review is None


async def test_unknown_and_unreviewed_stories(any_repo: Repository) -> None:
    assert (
        await review.publish(any_repo, "nope", by="Ann", now=NOW)
    ).decision is Decision.NOT_FOUND
    assert (await review.hold(any_repo, "nope", by="Ann", now=NOW)).decision is Decision.NOT_FOUND
    await any_repo.articles.upsert(make_article("a1"), now=NOW)
    await plan(any_repo, review_on=False)
    outcome = await review.publish(any_repo, "a1", by="Ann", now=NOW)
    assert outcome.decision is Decision.NOT_IN_REVIEW


async def test_replacing_a_summary_edits_sent_posts_and_previews(any_repo: Repository) -> None:
    await waiting_story(any_repo)
    await review.publish(any_repo, "a1", by="Ann", now=NOW)
    await plan(any_repo)
    for row in await deliveries_of(any_repo, "a1"):
        await mark_sent(any_repo, delivery_id=row.id, message_id=row.id + 100, now=NOW)

    too_long = "x" * (SUMMARY_MAX_CHARS + 1)
    result = await review.replace_summary(any_repo, "a1", too_long, by="Ann", now=NOW)
    assert result.result is SummaryResult.TOO_LONG
    assert (await review.replace_summary(any_repo, "nope", "New.", by="Ann", now=NOW)).result is (
        SummaryResult.NOT_FOUND
    )
    outcome = await review.replace_summary(
        any_repo, "a1", "  A better\nsummary. ", by="Ann", now=NOW
    )
    assert outcome.result is SummaryResult.REPLACED and outcome.edits == 3  # channel, 2 previews
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.summary == "A better summary."
    again = await review.replace_summary(any_repo, "a1", "A better summary.", by="Ann", now=NOW)
    assert again.result is SummaryResult.UNCHANGED
    readers = by_kind(await deliveries_of(any_repo, "a1"), DeliveryKind.READER)
    assert [d.state for d in readers] == [DeliveryState.SENT]  # readers' messages stay


async def test_the_archive_and_embargoed_stories(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await scan(repo, folder, NOW)  # the first scan: the archive
        assert await plan(repo) == 0  # never reviewed
        later = NOW + timedelta(hours=2)
        (folder / "later.md").write_text(
            story("later", front=f"publish_at: {later.isoformat()}\n"), encoding="utf-8"
        )
        await scan(repo, folder, NOW + timedelta(minutes=1))
        assert await plan(repo, NOW + timedelta(minutes=2)) == 0  # reviewed when due
        assert await plan(repo, later) == 2
        stored = await repo.articles.get("later")
        assert stored is not None and stored.review is ReviewState.WAITING
