"""A bad file is one bad file: whatever goes wrong with it, the rest of the folder goes on."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import content.pipeline
from content.models import Article
from content.pipeline import plan_due
from content.storage import Repository
from tests.support.ingest import T0, content_folder, scan, story

CHANNELS = ("@newswire_test",)
LATER = T0 + timedelta(minutes=1)
# Six levels of nine aliases: half a million strings once expanded (the real bomb has more).
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcde", "bcdef", strict=True)
)


@pytest.fixture
async def folder(tmp_path: Path, repo: Repository) -> Path:
    """A folder whose archive is already imported, so new files are posted."""
    path = content_folder(tmp_path)
    await scan(repo, path, T0)
    return path


async def _good_file_still_goes_out(repo: Repository, folder: Path, bad: str) -> str:
    """Scan a folder holding a bad file and a good one; the good one is stored and planned once."""
    (folder / "good.md").write_text(story("good-one"), encoding="utf-8")
    report = await scan(repo, folder, LATER)
    assert report.new == ["good-one"]
    [error] = report.errors
    assert Path(error.source).name == bad
    plan = await plan_due(repo, channels=CHANNELS, now=LATER)
    assert [a.id for a in plan.articles] == ["good-one"]
    again = await scan(repo, folder, LATER + timedelta(seconds=3))
    assert (again.errors, again.new) == ([], [])  # reported once per version
    assert (await plan_due(repo, channels=CHANNELS, now=LATER)).articles == ()  # planned once
    return error.reason


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("tags: " + "[" * 1000 + "]" * 1000 + "\n", "nested deeper than"),
        ("published: 0001-01-01T00:00:00\n", "front matter 'published' is out of range"),
        ("publish_at: 9999-12-31T23:59:59-10:00\n", "front matter 'publish_at' is out of range"),
        (ALIAS_BOMB + "author: *f\n", "front matter refused: anchors (&name)"),
        ("image: {url: x.jpg}\n", "front matter 'image' must be text, not a mapping"),
    ],
    ids=["nesting", "year-1", "year-9999", "alias-bomb", "mapping"],
)
async def test_bad_front_matter_is_that_files_error(
    repo: Repository, folder: Path, front: str, reason: str
) -> None:
    (folder / "bad.md").write_text(story("bad-one", front=front), encoding="utf-8")
    assert reason in await _good_file_still_goes_out(repo, folder, "bad.md")
    assert await repo.articles.get("bad-one") is None


async def test_byline_in_year_one_is_that_files_error(repo: Repository, folder: Path) -> None:
    text = "Old news\n\nJo Lim | January 01, 0001, 10:00 AM\n\nThe council met on Tuesday.\n"
    (folder / "old.txt").write_text(text, encoding="utf-8")
    assert "out of range" in await _good_file_still_goes_out(repo, folder, "old.txt")


async def test_any_exception_while_parsing_is_that_files_error(
    repo: Repository,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = content.pipeline.parse_bytes

    def parse(data: bytes, path: Path, **kwargs: Any) -> Article:
        if path.name == "odd.md":
            raise ZeroDivisionError("a parser bug")
        return real(data, path, **kwargs)

    monkeypatch.setattr(content.pipeline, "parse_bytes", parse)
    (folder / "odd.md").write_text(story("odd-one"), encoding="utf-8")
    reason = await _good_file_still_goes_out(repo, folder, "odd.md")
    assert reason == "could not be read or stored (ZeroDivisionError)"
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "odd.md" in logged.getMessage() and logged.exc_info is not None


async def test_failure_to_store_one_file_is_that_files_error(
    repo: Repository, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repo.articles.upsert

    async def upsert(article: Article, **kwargs: Any) -> Any:
        if article.id == "unstorable":
            raise OverflowError("date value out of range")
        return await real(article, **kwargs)

    monkeypatch.setattr(repo.articles, "upsert", upsert)
    (folder / "odd.md").write_text(story("unstorable"), encoding="utf-8")
    reason = await _good_file_still_goes_out(repo, folder, "odd.md")
    assert reason == "could not be read or stored (OverflowError)"


async def test_database_unavailable_is_not_blamed_on_the_file(
    repo: Repository, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repo.articles.upsert

    async def locked(article: Article, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(repo.articles, "upsert", locked)
    (folder / "good.md").write_text(story("good-one"), encoding="utf-8")
    with pytest.raises(OperationalError):
        await scan(repo, folder, LATER)
    monkeypatch.setattr(repo.articles, "upsert", real)
    report = await scan(repo, folder, LATER)  # tried again, not remembered as broken
    assert (report.new, report.errors) == (["good-one"], [])


async def test_a_file_that_takes_too_long_is_that_files_error(
    repo: Repository, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = content.pipeline.parse_bytes
    release = threading.Event()

    def parse(data: bytes, path: Path, **kwargs: Any) -> Article:
        if path.name == "slow.md":
            release.wait(timeout=30)
        return real(data, path, **kwargs)

    monkeypatch.setattr(content.pipeline, "parse_bytes", parse)
    (folder / "slow.md").write_text(story("slow-one"), encoding="utf-8")
    (folder / "good.md").write_text(story("good-one"), encoding="utf-8")
    try:
        report = await scan(repo, folder, LATER, parse_timeout=0.2)
    finally:
        release.set()  # let the abandoned thread finish
    assert report.new == ["good-one"]
    [error] = report.errors
    assert (Path(error.source).name, error.reason) == ("slow.md", "took longer than 0.2 s to read")


async def test_a_file_over_the_size_limit_is_refused_unread(repo: Repository, folder: Path) -> None:
    padding = "The council met on Tuesday and again on Wednesday.\n\n" * 50_000  # > 2 MB
    (folder / "huge.md").write_text(story("huge-one", body=padding), encoding="utf-8")
    reason = await _good_file_still_goes_out(repo, folder, "huge.md")
    assert reason == "file is larger than 2 MB"


async def test_the_event_loop_keeps_running_while_a_big_file_is_parsed(
    repo: Repository, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = content.pipeline.parse_bytes
    events: list[str] = []
    ticked = threading.Event()

    def parse(data: bytes, path: Path, **kwargs: Any) -> Article:
        ticked.clear()
        events.append("parse-start")
        # Parsed on the event loop, the ticker could not run: this wait would time out.
        ticked.wait(timeout=10)
        article = real(data, path, **kwargs)
        events.append("parse-end")
        return article

    async def ticker() -> None:
        while True:
            events.append("tick")
            ticked.set()
            await asyncio.sleep(0.005)

    monkeypatch.setattr(content.pipeline, "parse_bytes", parse)
    body = "The council met on Tuesday to discuss the new bus routes.\n\n" * 20_000  # ~1.2 MB
    (folder / "big.md").write_text(story("big-one", body=body), encoding="utf-8")
    task = asyncio.create_task(ticker())
    try:
        report = await scan(repo, folder, LATER)
    finally:
        task.cancel()
    assert report.new == ["big-one"]
    start, end = events.index("parse-start"), events.index("parse-end")
    assert "tick" in events[start:end]
