"""An editor's summary sticks: a new version of the story at its source keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from content.storage import Repository
from content.storage.articles import UpsertOutcome
from tests.support.articles import NEW_ARTICLE, make_article, write
from tests.support.outbox import channel_posts, posts_titled
from tests.support.push import PUSH_SETTINGS, Pusher, article
from tests.support.reader import say
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

NOW = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
EDITORS_SUMMARY = "An editor's own summary: the bus captain returned the wallet with all S$800."


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return dict(PUSH_SETTINGS)  # the folder and pushes both feed the stack


async def test_a_new_version_keeps_the_editors_summary_and_stores_the_rest(
    any_repo: Repository,
) -> None:
    await any_repo.articles.upsert(make_article("a1", summary="Automatic one."), now=NOW)
    # Before an editor writes one, a new automatic summary is stored as any change.
    second = make_article("a1", summary="Automatic two.")
    assert await any_repo.articles.upsert(second, now=NOW) is UpsertOutcome.UPDATED
    assert await any_repo.articles.set_summary(
        article_id="a1", summary=EDITORS_SUMMARY, by="Ann", now=NOW
    )

    corrected = make_article("a1", title="Story a1, corrected", summary="Automatic three.")
    assert await any_repo.articles.upsert(corrected, now=LATER) is UpsertOutcome.UPDATED
    stored = await any_repo.articles.get("a1")
    assert stored is not None
    assert (stored.title, stored.summary, stored.summary_by) == (
        "Story a1, corrected",
        EDITORS_SUMMARY,
        "Ann",
    )


async def test_only_a_new_automatic_summary_is_no_change(any_repo: Repository) -> None:
    await any_repo.articles.upsert(make_article("a1", summary="Automatic one."), now=NOW)
    await any_repo.articles.set_summary(article_id="a1", summary=EDITORS_SUMMARY, by="Ann", now=NOW)
    again = make_article("a1", summary="Automatic two.")
    assert await any_repo.articles.upsert(again, now=LATER) is UpsertOutcome.UNCHANGED
    stored = await any_repo.articles.get("a1")
    assert stored is not None and stored.summary == EDITORS_SUMMARY


async def test_sending_the_summary_it_has_makes_it_the_editors(any_repo: Repository) -> None:
    await any_repo.articles.upsert(make_article("a1", summary="Automatic one."), now=NOW)
    kept = await any_repo.articles.set_summary(
        article_id="a1", summary="Automatic one.", by="Bea", now=NOW
    )
    assert kept is False  # nothing to edit
    corrected = make_article("a1", title="Story a1, corrected", summary="Automatic two.")
    await any_repo.articles.upsert(corrected, now=LATER)
    stored = await any_repo.articles.get("a1")
    assert stored is not None
    assert (stored.title, stored.summary, stored.summary_by) == (
        "Story a1, corrected",
        "Automatic one.",
        "Bea",
    )


async def replace_summary(stack: Stack, article_id: str, post: dict[str, Any]) -> None:
    """The editor sends /summary; the channel post is edited to show it."""
    reply = await say(stack, f"/summary {article_id} {EDITORS_SUMMARY}", user=ADMIN)
    assert reply["text"].startswith("Summary replaced")
    await wait_for(
        lambda: [p for p in channel_posts(stack) if EDITORS_SUMMARY in p["text"]],
        timeout=20,
        what="the channel post with the editor's summary",
    )
    assert channel_posts(stack)[0]["message_id"] == post["message_id"]


@pytest.mark.e2e
async def test_a_corrected_file_keeps_the_editors_summary_in_the_post(
    stack: Stack, content_dir: Path
) -> None:
    write(content_dir, "bus.txt", NEW_ARTICLE.replace("Bus captain praised", "Bus captian praised"))
    post = (await wait_for(lambda: channel_posts(stack), what="the channel post"))[0]
    assert EDITORS_SUMMARY not in post["text"]
    stories = await stack.newswire.repo.articles.latest(limit=1, now=datetime.now(UTC))
    await replace_summary(stack, stories[0].id, post)

    write(content_dir, "bus.txt", NEW_ARTICLE)  # the source corrects the headline
    corrected = await wait_for(
        lambda: [p for p in channel_posts(stack) if "Bus captain praised" in p["text"]],
        timeout=20,
        what="the channel post with the corrected headline",
    )
    assert EDITORS_SUMMARY in corrected[0]["text"]
    assert len(channel_posts(stack)) == 1
    stored = await stack.newswire.repo.articles.get(stories[0].id)
    assert stored is not None and stored.summary_by == "Editor"


@pytest.mark.e2e
async def test_a_pushed_update_keeps_the_editors_summary_in_the_post(
    stack: Stack, pusher: Pusher
) -> None:
    first = article(7)
    assert (await pusher.push(first)).status == 202
    post = (await wait_for(lambda: posts_titled(stack, first["title"]), what="the post"))[0]
    await replace_summary(stack, "push-7", post)

    update = article(7, title="Corrected: pushed story 7 about the new MRT line", action="update")
    assert (await pusher.push(update)).status == 202
    corrected = await wait_for(
        lambda: posts_titled(stack, update["title"]),
        timeout=20,
        what="the channel post with the corrected headline",
    )
    assert EDITORS_SUMMARY in corrected[0]["text"]
    assert len(channel_posts(stack)) == 1


async def test_a_version_that_changes_only_what_the_post_hides_edits_no_post(
    any_repo: Repository,
) -> None:
    from content.models import IngestReport
    from content.pipeline import plan_due, store_version
    from tests.support.storage import deliveries_of, mark_sent

    await any_repo.articles.upsert(make_article("a1", summary="Automatic one."), now=NOW)
    await plan_due(any_repo, channels=["@news"], now=NOW)
    (post,) = await deliveries_of(any_repo, "a1")
    await mark_sent(any_repo, delivery_id=post.id, message_id=7, now=NOW)
    await any_repo.articles.set_summary(article_id="a1", summary=EDITORS_SUMMARY, by="Ann", now=NOW)
    stored = await any_repo.articles.get("a1")

    # New tags and a new automatic summary: the post (title, editor's summary) is unchanged.
    quiet = make_article("a1", summary="Automatic two.", tags=("otters",))
    report = IngestReport()
    await store_version(any_repo, quiet, stored, report, now=LATER, archive=False)
    assert report.updated == ["a1"] and report.edits == 0
    # A corrected headline edits the post (which keeps the editor's summary).
    stored = await any_repo.articles.get("a1")
    fixed = make_article("a1", title="Story a1, corrected", summary="Automatic three.")
    report = IngestReport()
    await store_version(any_repo, fixed, stored, report, now=LATER, archive=False)
    assert report.edits == 1
