"""The content folder as a source: links, a folder that goes missing, and bounded reads."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.context import Services
from bot.jobs import scan_and_plan
from content.models import ArticleParseError, SourceStatus
from content.parsing.text import read_limited
from content.sources.folder import OUTSIDE_LINK, look
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.ingest import SGT, T0, content_folder, scan, story

LATER = T0 + timedelta(minutes=1)


async def test_a_link_out_of_the_folder_is_not_read_and_reported_once(
    repo: Repository, tmp_path: Path
) -> None:
    folder = content_folder(tmp_path)
    await scan(repo, folder, T0)
    private = tmp_path / "private"
    private.mkdir()
    (private / "notes.md").write_text(story("private-notes"), encoding="utf-8")
    (folder / "memo.md").symlink_to(Path("..") / "private" / "notes.md")
    report = await scan(repo, folder, LATER)
    assert report.new == []
    [error] = report.errors
    assert (Path(error.source).name, error.reason) == ("memo.md", OUTSIDE_LINK)
    assert await repo.articles.get("private-notes") is None
    again = await scan(repo, folder, LATER + timedelta(seconds=3))
    assert (again.errors, again.new) == ([], [])


async def test_a_link_inside_the_folder_is_the_same_file(repo: Repository, tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    await scan(repo, folder, T0)
    (folder / "real.md").write_text(story("linked"), encoding="utf-8")
    (folder / "alias.md").symlink_to("real.md")
    report = await scan(repo, folder, LATER)
    assert (report.new, report.errors) == (["linked"], [])


async def test_a_content_folder_reached_through_a_link_is_read(
    repo: Repository, tmp_path: Path
) -> None:
    folder = content_folder(tmp_path)
    linked = tmp_path / "current"
    linked.symlink_to(folder)
    report = await scan(repo, linked, T0)
    assert len(report.new) == 2 and report.errors == []


def test_fifo_and_folders_with_article_names_are_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")  # opening it for reading would block the scan
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "ok.md").write_text(story("ok"), encoding="utf-8")
    items = look(tmp_path, {})
    assert items is not None and [item.path.name for item in items] == ["ok.md"]


def test_reads_stop_after_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 11)
    assert read_limited(path, limit=11) == b"x" * 11
    with pytest.raises(ArticleParseError, match="larger than"):
        read_limited(path, limit=10)


async def test_a_missing_folder_is_reported_when_it_goes_and_when_it_is_back(
    repo: Repository, tmp_path: Path
) -> None:
    folder = tmp_path / "content"
    gone = await scan(repo, folder, T0)
    assert gone.status_changes == [
        SourceStatus(str(folder), available=False, reason="does not exist")
    ]
    assert (await scan(repo, folder, T0)).status_changes == []
    content_folder(tmp_path)
    back = await scan(repo, folder, LATER)
    assert back.status_changes == [SourceStatus(str(folder), available=True)]
    assert len(back.new) == 2  # the first scan that sees it imports the archive
    assert (await scan(repo, folder, LATER)).status_changes == []


class RecordingNotifier:
    """Stands in for AdminNotifier: keeps what would be sent to the admins."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)


async def test_admins_hear_once_that_the_folder_is_gone_and_once_that_it_is_back(
    repo: Repository, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "content"
    services = Services(
        repo=repo,
        summarizer=ExtractiveSummarizer(),
        zone=SGT,
        channels=("@newswire_test",),
        admin_ids=frozenset({1}),
        content_dir=folder,
        clock=lambda: T0,
    )
    notifier = RecordingNotifier()
    for _ in range(3):
        await scan_and_plan(services, notifier)  # type: ignore[arg-type]
    assert notifier.sent == [
        f"Content folder {folder} does not exist: nothing new is read until it is back."
    ]
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1
    content_folder(tmp_path)
    for _ in range(2):
        await scan_and_plan(services, notifier)  # type: ignore[arg-type]
    assert notifier.sent[1:] == [f"Content folder {folder} is back: reading articles again."]
