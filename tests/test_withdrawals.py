"""Withdrawing a story: its deliveries (SQLite and PostgreSQL), the folder and the sources."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from bot.delivery.withdrawals import message_link
from content.ingest import ingest_entries
from content.models import DeliveryState, IngestReport, SubscriptionKind
from content.pipeline import plan_due, scan_folder
from content.sources.base import Entry
from content.storage import Repository
from content.storage.tables import deliveries
from content.summarizing import ExtractiveSummarizer
from content.withdrawals import withdraw
from tests.support.articles import make_article, write
from tests.support.ingest import SGT, T0, content_folder, scan, story
from tests.support.storage import deliveries_of, sqlite_repo

CHANNELS = ("@newswire_test",)


async def _set_state(repo: Repository, delivery_id: int, state: DeliveryState) -> None:
    async with repo.engine.begin() as conn:
        await conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id).values(state=state.value)
        )


async def _planned(repo: Repository, article_id: str = "a1") -> dict[str, int]:
    """The story planned for three channels and three readers: chat -> delivery id."""
    article = make_article(article_id, topics=("transport",))
    await repo.articles.upsert(article, now=T0)
    for chat in (101, 102, 103):
        await repo.readers.upsert_chat(chat_id=chat, first_name=None, username=None, now=T0)
        await repo.readers.subscribe(
            chat_id=chat, kind=SubscriptionKind.TOPIC, value="transport", now=T0
        )
    await repo.outbox.plan(article, channels=["@c", "@d", "@e"], keyword_matches=[], now=T0)
    return {d.chat_id: d.id for d in await deliveries_of(repo, article_id)}


async def _states(repo: Repository, article_id: str = "a1") -> dict[str, tuple[object, ...]]:
    return {
        d.chat_id: (d.state, d.delete_due, d.message_id)
        for d in await deliveries_of(repo, article_id)
    }


async def test_withdraw_deletes_sent_posts_drops_unsent_and_is_idempotent(
    any_repo: Repository,
) -> None:
    repo = any_repo
    ids = await _planned(repo)
    claimed = await repo.outbox.claim_due(now=T0, limit=10, worker="w")
    assert len(claimed) == 6
    await repo.outbox.mark_sent_many([(ids["@c"], 11, T0), (ids["101"], 5, T0)])
    await repo.outbox.mark_retry(delivery_id=ids["@d"], at=T0, error="timeout", now=T0)
    await repo.outbox.mark_retry(delivery_id=ids["102"], at=T0, error="timeout", now=T0)
    await _set_state(repo, ids["103"], DeliveryState.HELD)  # waiting for the reader's digest
    # "@e" is still on the wire (sending).

    t1 = T0 + timedelta(minutes=5)
    done = await withdraw(repo, "a1", now=t1, reason="withdrawn by push")
    assert done is not None
    assert (done.first, done.unsent, done.deletes, done.in_flight) == (True, 3, 1, 1)
    pending, sent = DeliveryState.PENDING, DeliveryState.SENT
    withdrawn, sending = DeliveryState.WITHDRAWN, DeliveryState.SENDING
    assert await _states(repo) == {
        "@c": (pending, True, 11),  # queued to be deleted
        "@d": (withdrawn, False, None),
        "@e": (sending, True, None),  # deleted once its send is recorded
        "101": (sent, False, 5),  # a reader keeps the message
        "102": (withdrawn, False, None),
        "103": (withdrawn, False, None),
    }
    story_ = await repo.articles.get("a1")
    assert story_ is not None and story_.withdrawn_at == t1
    assert await repo.articles.latest(limit=5, now=t1) == []
    assert await repo.articles.search("story", limit=5, now=t1) == []

    again = await withdraw(repo, "a1", now=t1 + timedelta(minutes=1), reason="again")
    assert again is not None
    assert (again.first, again.unsent, again.deletes, again.in_flight) == (False, 0, 0, 0)
    kept = await repo.articles.get("a1")
    assert kept is not None and kept.withdrawn_at == t1  # the first time is kept

    # The post on the wire is recorded: it goes back to the queue, to be deleted.
    await repo.outbox.mark_sent_many([(ids["@e"], 12, t1)])
    assert (await _states(repo))["@e"] == (pending, True, 12)
    third = await withdraw(repo, "a1", now=t1, reason="again")
    assert third is not None and (third.deletes, third.in_flight) == (0, 0)
    due = await repo.outbox.claim_due(now=t1, limit=10, worker="w")
    assert sorted((d.chat_id, d.delete_due, d.message_id) for d in due) == [
        ("@c", True, 11),
        ("@e", True, 12),
    ]
    assert await withdraw(repo, "unknown", now=t1, reason="x") is None


async def test_queued_edits_and_dead_edits_become_deletes_readers_on_the_wire_stay(
    any_repo: Repository,
) -> None:
    repo = any_repo
    ids = await _planned(repo)
    await repo.outbox.claim_due(now=T0, limit=10, worker="w")
    await repo.outbox.mark_sent_many(
        [(ids["@c"], 11, T0), (ids["@d"], 12, T0), (ids["@e"], 13, T0)]
    )
    assert await repo.outbox.requeue_channel_edits("a1", now=T0) == 3  # the story changed
    await repo.outbox.mark_dead(delivery_id=ids["@d"], error="edit refused", now=T0)
    await repo.outbox.claim_due(now=T0, limit=1, worker="w")  # "@c"'s edit: on the wire
    done = await withdraw(repo, "a1", now=T0, reason="test")
    assert done is not None and (done.deletes, done.in_flight) == (2, 4)  # "@c" + 3 readers
    states = await _states(repo)
    assert states["@d"] == (DeliveryState.PENDING, True, 12)  # the post outlived its edit
    assert states["@e"] == (DeliveryState.PENDING, True, 13)
    # Readers' sends on the wire: one is recorded (theirs to keep), one fails (never resent).
    await repo.outbox.mark_sent_many([(ids["101"], 7, T0), (ids["@c"], 11, T0)])
    await repo.outbox.mark_retry(delivery_id=ids["102"], at=T0, error="timeout", now=T0)
    states = await _states(repo)
    assert states["101"] == (DeliveryState.SENT, False, 7)
    assert states["@c"] == (DeliveryState.PENDING, True, 11)
    assert states["102"] == (DeliveryState.FAILED, True, None)  # the worker drops it


async def test_front_matter_status_withdrawn_deletes_the_posted_story(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await scan(repo, folder, T0)  # the archive
        write(folder, "council.md", story("council-1"))
        t1 = T0 + timedelta(minutes=1)
        assert (await scan(repo, folder, t1)).new == ["council-1"]
        assert (await plan_due(repo, channels=CHANNELS, now=t1)).deliveries == 1
        (post,) = await repo.outbox.claim_due(now=t1, limit=5, worker="w")
        await repo.outbox.mark_sent_many([(post.id, 21, t1)])

        write(folder, "council.md", story("council-1", front="status: withdrawn\n"))
        t2 = t1 + timedelta(minutes=1)
        report = await scan(repo, folder, t2)
        assert (report.withdrawn, report.deletes, report.edits) == (["council-1"], 1, 0)
        (row,) = await deliveries_of(repo, "council-1")
        assert (row.state, row.delete_due, row.message_id) == (DeliveryState.PENDING, True, 21)
        assert "council-1" not in {a.id for a in await repo.articles.latest(limit=10, now=t2)}

        # Published again in the file: it stays withdrawn (an editor decides), never reposted.
        write(folder, "council.md", story("council-1", body="The council met again."))
        t3 = t2 + timedelta(minutes=1)
        assert (await scan(repo, folder, t3)).updated == ["council-1"]
        back = await repo.articles.get("council-1")
        assert back is not None and back.withdrawn_at == t2
        assert (await plan_due(repo, channels=CHANNELS, now=t3)).deliveries == 0


async def test_new_file_marked_withdrawn_is_never_planned(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await scan(repo, folder, T0)
        write(folder, "gone.md", story("gone-1", front="status: withdrawn\n"))
        t1 = T0 + timedelta(minutes=1)
        report = await scan(repo, folder, t1)
        assert report.withdrawn == ["gone-1"]
        stored = await repo.articles.get("gone-1")
        assert stored is not None and stored.withdrawn_at == t1
        assert (await plan_due(repo, channels=CHANNELS, now=t1)).deliveries == 0


async def _posted_file(repo: Repository, folder: Path, slug: str) -> None:
    await scan(repo, folder, T0)
    write(folder, f"{slug}.md", story(slug))
    assert (await scan(repo, folder, T0 + timedelta(minutes=1))).new == [slug]
    await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(minutes=1))
    (post,) = await repo.outbox.claim_due(now=T0 + timedelta(minutes=1), limit=5, worker="w")
    await repo.outbox.mark_sent_many([(post.id, 31, T0)])


async def test_removed_file_is_only_forgotten_by_default(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await _posted_file(repo, folder, "kept-1")
        path = str((folder / "kept-1.md").resolve())
        (folder / "kept-1.md").unlink()
        for minutes in (2, 3):
            report = await scan(repo, folder, T0 + timedelta(minutes=minutes))
            assert report.withdrawn == [] and report.deletes == 0
        assert path not in await repo.sources.files()
        kept = await repo.articles.get("kept-1")
        assert kept is not None and kept.withdrawn_at is None
        (row,) = await deliveries_of(repo, "kept-1")
        assert row.state is DeliveryState.SENT


async def _scan_removing(repo: Repository, folder: Path, minutes: int) -> list[str]:
    """A scan with WITHDRAW_ON_FILE_REMOVED=true; the stories it withdrew."""
    report = await scan_folder(
        repo,
        folder,
        now=T0 + timedelta(minutes=minutes),
        default_tz=SGT,
        summarizer=ExtractiveSummarizer(),
        withdraw_removed=True,
    )
    return report.withdrawn


async def test_removed_file_withdraws_its_story_when_asked(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await _posted_file(repo, folder, "gone-2")
        write(folder, "moved-from.md", story("moved-3"))
        await scan(repo, folder, T0 + timedelta(minutes=1))
        path = str((folder / "gone-2.md").resolve())

        (folder / "gone-2.md").unlink()
        (folder / "moved-from.md").rename(folder / "moved-to.md")  # renamed: the same story
        # Missing at one scan only (an editor saving by delete and write): nothing yet.
        assert await _scan_removing(repo, folder, 2) == []
        assert await _scan_removing(repo, folder, 3) == ["gone-2"]
        (row,) = await deliveries_of(repo, "gone-2")
        assert (row.state, row.delete_due) == (DeliveryState.PENDING, True)
        assert path not in await repo.sources.files()
        moved = await repo.articles.get("moved-3")
        assert moved is not None and moved.withdrawn_at is None
        assert await _scan_removing(repo, folder, 4) == []


async def test_a_file_back_before_the_next_scan_is_not_withdrawn(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await _posted_file(repo, folder, "saved-4")
        text = (folder / "saved-4.md").read_text()
        (folder / "saved-4.md").unlink()
        assert await _scan_removing(repo, folder, 2) == []
        write(folder, "saved-4.md", text)
        for minutes in (3, 4):
            assert await _scan_removing(repo, folder, minutes) == []
        kept = await repo.articles.get("saved-4")
        assert kept is not None and kept.withdrawn_at is None


async def test_an_emptied_folder_withdraws_nothing(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    async with sqlite_repo(tmp_path) as repo:
        await _posted_file(repo, folder, "all-5")
        for path in folder.iterdir():
            path.unlink()  # an unmounted volume looks like this
        for minutes in (2, 3, 4):
            assert await _scan_removing(repo, folder, minutes) == []
        kept = await repo.articles.get("all-5")
        assert kept is not None and kept.withdrawn_at is None


def _entry(**fields: object) -> Entry:
    values: dict[str, object] = {
        "source": "push",
        "key": "p-1",
        "title": "Pushed story about the council budget",
        "explicit_id": "p-1",
        "paragraphs": ("The council met on Tuesday to set the budget.",),
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


async def test_a_source_withdrawal_deletes_the_post_and_a_republish_stays_withdrawn(
    repo: Repository,
) -> None:
    async def ingest(entry: Entry, minutes: int) -> IngestReport:
        return await ingest_entries(
            repo,
            [entry],
            now=T0 + timedelta(minutes=minutes),
            summarizer=ExtractiveSummarizer(),
            default_tz=SGT,
        )

    await ingest(_entry(), 0)
    await plan_due(repo, channels=CHANNELS, now=T0)
    (post,) = await repo.outbox.claim_due(now=T0, limit=5, worker="w")
    await repo.outbox.mark_sent_many([(post.id, 41, T0)])

    report = await ingest(_entry(withdrawn=True), 1)
    assert (report.withdrawn, report.deletes) == (["p-1"], 1)
    (row,) = await deliveries_of(repo, "p-1")
    assert (row.state, row.delete_due) == (DeliveryState.PENDING, True)

    await ingest(_entry(title="Pushed story about the council budget, again"), 2)
    back = await repo.articles.get("p-1")
    assert back is not None and back.withdrawn_at == T0 + timedelta(minutes=1)
    assert (await plan_due(repo, channels=CHANNELS, now=T0 + timedelta(minutes=2))).articles == ()


async def test_published_and_withdrawn_in_one_batch_is_withdrawn(repo: Repository) -> None:
    report = await ingest_entries(
        repo,
        [_entry(), replace(_entry(withdrawn=True), key="p-1")],
        now=T0,
        summarizer=ExtractiveSummarizer(),
        default_tz=SGT,
    )
    assert report.withdrawn == ["p-1"]
    stored = await repo.articles.get("p-1")
    assert stored is not None and stored.withdrawn_at == T0
    assert (await plan_due(repo, channels=CHANNELS, now=T0)).deliveries == 0


def test_message_links_for_public_and_private_channels() -> None:
    assert message_link("@newswire", 7) == "https://t.me/newswire/7"
    assert message_link("-1001234567890", 7) == "https://t.me/c/1234567890/7"
    assert message_link("-4242", 7) is None  # a basic group has no message links
