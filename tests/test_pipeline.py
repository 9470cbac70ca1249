"""Pipeline: scanning a folder and planning deliveries, with time passed in (no sleeping)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from content.models import DeliveryKind, SubscriptionKind
from content.pipeline import plan_due
from content.storage import Repository
from tests.support.articles import SAMPLE, SGT, budget_story
from tests.support.ingest import T0, content_folder, scan
from tests.support.storage import deliveries_of

CHANNELS = ("@newswire_test",)

EMBARGOED = budget_story(2026, publish_at="2026-07-01 18:00")

BROKEN = """---
title: [this list never closes
---

Body text that would be fine.
"""

FIXED = """---
title: Now the front matter is fine
id: once-broken
---

Body text that is fine.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return content_folder(tmp_path)


def bump_mtime(path: Path, seconds: int = 10) -> None:
    """A new mtime the scanner will notice, whatever the file system's timestamp resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


async def test_first_scan_imports_the_archive_without_planning(
    repo: Repository, folder: Path
) -> None:
    report = await scan(repo, folder, T0)
    assert len(report.new) == 2 and report.errors == [] and report.updated == []
    assert await repo.articles.count() == 2
    plan = await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(days=1))
    assert plan.articles == () and plan.deliveries == 0
    for article_id in report.new:
        assert await deliveries_of(repo, article_id) == []
        stored = await repo.articles.get(article_id)
        assert stored is not None and stored.summary  # enriched before storing


async def test_second_scan_of_the_same_folder_changes_nothing(
    repo: Repository, folder: Path
) -> None:
    await scan(repo, folder, T0)
    again = await scan(repo, folder, T0 + timedelta(seconds=3))
    assert (again.new, again.updated, again.errors, again.unchanged) == ([], [], [], 2)


async def test_a_new_file_is_planned_for_channels_and_subscribers(
    repo: Repository, folder: Path
) -> None:
    await scan(repo, folder, T0)
    topic, keyword = SubscriptionKind.TOPIC, SubscriptionKind.KEYWORD
    for chat_id, subs in {
        1: [(topic, "world")],
        2: [(topic, "world"), (keyword, "kyiv")],  # two matches, one message
        3: [(keyword, "kyiv")],
        4: [(keyword, "hawker")],  # no match
        5: [(topic, "food")],  # no match
    }.items():
        await repo.readers.upsert_chat(chat_id=chat_id, first_name=None, username=None, now=T0)
        for kind, value in subs:
            await repo.readers.subscribe(chat_id=chat_id, kind=kind, value=value, now=T0)

    shutil.copy(SAMPLE, folder)
    t1 = T0 + timedelta(minutes=5)
    report = await scan(repo, folder, t1)
    assert len(report.new) == 1 and report.unchanged == 2
    (new_id,) = report.new
    stored = await repo.articles.get(new_id)
    assert stored is not None and "world" in stored.topics

    plan = await plan_due(repo, channels=CHANNELS, now=t1)
    assert [a.id for a in plan.articles] == [new_id]
    assert plan.deliveries == 4
    rows = await deliveries_of(repo, new_id)
    assert sorted((d.chat_id, d.kind) for d in rows) == [
        ("1", DeliveryKind.READER),
        ("2", DeliveryKind.READER),
        ("3", DeliveryKind.READER),
        ("@newswire_test", DeliveryKind.CHANNEL),
    ]
    # Planned once: the next tick plans nothing.
    later = await plan_due(repo, channels=CHANNELS, now=t1 + timedelta(minutes=1))
    assert later.articles == () and later.deliveries == 0


async def test_keyword_subscription_catches_a_tagged_topic_of_the_same_name(
    repo: Repository, folder: Path
) -> None:
    await scan(repo, folder, T0)
    await repo.readers.upsert_chat(chat_id=9, first_name=None, username=None, now=T0)
    # "/subscribe economy" before any economy story: stored as a keyword.
    await repo.readers.subscribe(chat_id=9, kind=SubscriptionKind.KEYWORD, value="economy", now=T0)
    (folder / "budget.md").write_text(budget_story(2026, publish_at=None))
    await scan(repo, folder, T0)
    plan = await plan_due(repo, channels=(), now=T0)
    assert [d.chat_id for d in await deliveries_of(repo, "budget-2026")] == ["9"]
    assert plan.deliveries == 1


async def test_embargoed_file_waits_until_publish_at(repo: Repository, folder: Path) -> None:
    await scan(repo, folder, T0)
    (folder / "budget.md").write_text(EMBARGOED)
    seen = T0 + timedelta(minutes=1)  # 12:01 in Singapore; embargo until 18:00 there
    report = await scan(repo, folder, seen)
    assert report.new == ["budget-2026"]
    embargo = datetime(2026, 7, 1, 18, 0, tzinfo=SGT)
    stored = await repo.articles.get("budget-2026")
    assert stored is not None and stored.publish_at == embargo

    for now in (seen, embargo - timedelta(seconds=1)):
        plan = await plan_due(repo, channels=CHANNELS, now=now)
        assert plan.articles == (), f"planned before the embargo at {now}"
        assert "budget-2026" not in [a.id for a in await repo.articles.latest(limit=10, now=now)]

    plan = await plan_due(repo, channels=CHANNELS, now=embargo)
    assert [a.id for a in plan.articles] == ["budget-2026"]
    assert [d.chat_id for d in await deliveries_of(repo, "budget-2026")] == list(CHANNELS)


async def test_embargoed_file_in_the_first_scan_is_not_archived(
    repo: Repository, folder: Path
) -> None:
    (folder / "budget.md").write_text(EMBARGOED)
    report = await scan(repo, folder, T0)
    assert "budget-2026" in report.new
    embargo = datetime(2026, 7, 1, 18, 0, tzinfo=SGT)
    assert (await plan_due(repo, channels=CHANNELS, now=T0)).articles == ()
    plan = await plan_due(repo, channels=CHANNELS, now=embargo + timedelta(hours=1))
    assert [a.id for a in plan.articles] == ["budget-2026"]  # the archive stays unposted


async def test_broken_file_reported_once_per_version_then_fixed(
    repo: Repository, folder: Path
) -> None:
    await scan(repo, folder, T0)
    broken = folder / "broken.md"
    broken.write_text(BROKEN)
    first = await scan(repo, folder, T0 + timedelta(seconds=1))
    assert len(first.errors) == 1 and first.new == []
    assert first.errors[0].source.endswith("broken.md")
    assert first.errors[0].reason

    same = await scan(repo, folder, T0 + timedelta(seconds=2))
    assert same.errors == []
    bump_mtime(broken)  # touched, still broken: not reported again
    touched = await scan(repo, folder, T0 + timedelta(seconds=3))
    assert touched.errors == []

    broken.write_text(BROKEN.replace("never closes", "still never closes"))
    bump_mtime(broken, 20)
    changed = await scan(repo, folder, T0 + timedelta(seconds=4))
    assert len(changed.errors) == 1  # a new broken version is reported

    broken.write_text(FIXED)
    bump_mtime(broken, 30)
    fixed = await scan(repo, folder, T0 + timedelta(seconds=5))
    assert fixed.errors == [] and fixed.new == ["once-broken"]
    plan = await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(seconds=5))
    assert [a.id for a in plan.articles] == ["once-broken"]


async def test_empty_and_binary_files_are_errors(repo: Repository, folder: Path) -> None:
    await scan(repo, folder, T0)
    (folder / "empty.txt").write_text("")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "notes.docx").write_bytes(b"ignored: unsupported suffix")
    (folder / ".hidden.md").write_text("# Hidden\n\nNever read.")
    report = await scan(repo, folder, T0 + timedelta(seconds=1))
    assert sorted(Path(e.source).name for e in report.errors) == ["empty.txt", "image.txt"]
    assert report.new == []


async def test_touched_but_unchanged_file_is_not_reported(repo: Repository, folder: Path) -> None:
    await scan(repo, folder, T0)
    bump_mtime(folder / "s01.txt")
    report = await scan(repo, folder, T0 + timedelta(seconds=1))
    assert (report.new, report.updated, report.errors, report.unchanged) == ([], [], [], 2)
    # The new mtime was remembered: the next scan does not even re-read it.
    again = await scan(repo, folder, T0 + timedelta(seconds=2))
    assert again.unchanged == 2 and again.updated == []


async def test_changed_file_updates_the_same_article(repo: Repository, folder: Path) -> None:
    (folder / "budget.md").write_text(budget_story(2026, publish_at=None))
    first = await scan(repo, folder, T0)
    assert "budget-2026" in first.new
    count = await repo.articles.count()

    path = folder / "budget.md"
    path.write_text(path.read_text().replace("vouchers", "vouchers and rebates"))
    bump_mtime(path)
    report = await scan(repo, folder, T0 + timedelta(minutes=1))
    assert report.updated == ["budget-2026"] and report.new == []
    assert await repo.articles.count() == count
    stored = await repo.articles.get("budget-2026")
    assert stored is not None and "vouchers and rebates" in stored.body_text
    # An update of an archived story does not post it.
    plan = await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(minutes=1))
    assert plan.articles == ()


async def test_missing_folder_is_an_error_not_a_crash(repo: Repository, tmp_path: Path) -> None:
    report = await scan(repo, tmp_path / "nope", T0)
    [change] = report.status_changes
    assert (change.available, change.reason) == (False, "does not exist")


def _story(slug: str, tags: str) -> str:
    return f"""---
title: Story {slug} about the flood warning
id: {slug}
published: 2026-07-01 09:00
tags: [{tags}]
---

The flood warning covers the east of the island tonight.
"""


async def test_breaking_news_goes_before_other_reader_messages_and_posts_interleave(
    repo: Repository, folder: Path
) -> None:
    await scan(repo, folder, T0)  # the archive
    for chat_id in (11, 12, 13):
        await repo.readers.upsert_chat(chat_id=chat_id, first_name=None, username=None, now=T0)
        await repo.readers.subscribe(
            chat_id=chat_id, kind=SubscriptionKind.KEYWORD, value="flood", now=T0
        )
    (folder / "a.md").write_text(_story("plain-a", "weather"), encoding="utf-8")
    (folder / "b.md").write_text(_story("plain-b", "weather"), encoding="utf-8")
    (folder / "c.md").write_text(_story("urgent", "breaking, weather"), encoding="utf-8")
    later = T0 + timedelta(minutes=1)
    await scan(repo, folder, later)
    await plan_due(repo, channels=CHANNELS, now=later)
    order = await repo.outbox.claim_due(now=later, limit=100, worker="w")
    kinds = [(d.kind, d.article_id) for d in order]
    channel_posts = [k for k in kinds if k[0] is DeliveryKind.CHANNEL]
    assert kinds[: len(channel_posts)] == channel_posts  # every channel post first
    readers = [a for kind, a in kinds if kind is DeliveryKind.READER]
    assert readers[:3] == ["urgent"] * 3  # then the breaking story's readers
    assert readers[3:5] in (["plain-a", "plain-b"], ["plain-b", "plain-a"])  # then interleaved


STORY = """Night bus service extended to Punggol from August

Commuters in the north-east will get later buses.

Jo Lim | July 01, 2026, 10:00 AM

The night bus service will run to Punggol from August, the operator said on Wednesday.

Buses will leave the city every 20 minutes between midnight and 2am.

Fares stay the same as for the day service.
"""


async def _published_story(repo: Repository, folder: Path) -> tuple[str, Path]:
    """A story that was posted: its channel delivery is sent, with a message id."""
    await scan(repo, folder, T0)  # the archive
    path = folder / "bus.txt"
    path.write_text(STORY)
    report = await scan(repo, folder, T0 + timedelta(minutes=1))
    [article_id] = report.new
    await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(minutes=1))
    [claimed] = await repo.outbox.claim_due(now=T0 + timedelta(minutes=2), limit=10)
    await repo.outbox.mark_sent_many([(claimed.id, 77, T0 + timedelta(minutes=2))])
    return article_id, path


async def test_corrected_headline_is_the_same_story_and_its_post_is_edited(
    repo: Repository, folder: Path
) -> None:
    article_id, path = await _published_story(repo, folder)
    path.write_text(STORY.replace("Night bus service", "Night bus services"))
    bump_mtime(path)
    report = await scan(repo, folder, T0 + timedelta(minutes=3))
    assert report.new == [] and report.updated == [article_id] and report.edits == 1
    stored = await repo.articles.get(article_id)
    assert stored is not None and stored.title.startswith("Night bus services")
    [edit] = await repo.outbox.claim_due(now=T0 + timedelta(minutes=3), limit=10)
    assert (edit.kind, edit.message_id) == (DeliveryKind.CHANNEL, 77)  # edit message 77
    assert (await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(minutes=3))).articles == ()


async def test_change_that_the_post_does_not_show_edits_nothing(
    repo: Repository, folder: Path
) -> None:
    article_id, path = await _published_story(repo, folder)
    path.write_text(STORY + "\nThe operator will review the route in a year.\n")
    bump_mtime(path)
    report = await scan(repo, folder, T0 + timedelta(minutes=3))
    assert report.updated == [article_id] and report.edits == 0  # summary, title unchanged
    assert await repo.outbox.claim_due(now=T0 + timedelta(minutes=3), limit=10) == []


async def test_new_headline_and_new_time_in_the_same_file_is_a_new_story(
    repo: Repository, folder: Path
) -> None:
    article_id, path = await _published_story(repo, folder)
    path.write_text(
        STORY.replace("Night bus service extended", "Night trains trialled").replace(
            "10:00 AM", "4:00 PM"
        )
    )
    bump_mtime(path)
    report = await scan(repo, folder, T0 + timedelta(minutes=3))
    assert len(report.new) == 1 and report.new[0] != article_id and report.edits == 0
    assert await repo.articles.get(article_id) is not None  # the first story stays
