"""Ingest helpers for tests: a migrated SQLite repository, one scan call, a clean folder."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from content.models import IngestReport
from content.pipeline import PARSE_TIMEOUT_SECONDS, scan_folder
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer

SGT = ZoneInfo("Asia/Singapore")
T0 = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent.parent / "fixtures"
_SUMMARIZER = ExtractiveSummarizer()


@asynccontextmanager
async def sqlite_repo(folder: Path) -> AsyncIterator[Repository]:
    """A migrated repository in a SQLite file under `folder`."""
    repository = Repository.open(f"sqlite+aiosqlite:///{folder}/ingest.db")
    await repository.migrate()
    try:
        yield repository
    finally:
        await repository.close()


def content_folder(parent: Path) -> Path:
    """A content folder holding the two synthetic fixture stories."""
    path = parent / "content"
    path.mkdir()
    for name in ("s01.txt", "s02.txt"):
        shutil.copy(FIXTURES / name, path)
    return path


async def scan(
    repo: Repository, folder: Path, now: datetime, *, parse_timeout: float = PARSE_TIMEOUT_SECONDS
) -> IngestReport:
    """One scan of the folder, as the scheduler runs it."""
    return await scan_folder(
        repo,
        folder,
        now=now,
        default_tz=SGT,
        summarizer=_SUMMARIZER,
        parse_timeout=parse_timeout,
    )


def story(slug: str, *, front: str = "", body: str = "The council met on Tuesday.") -> str:
    """A small Markdown story with id `slug`, extra front matter lines and a body."""
    return f"---\ntitle: Story {slug} about the council\nid: {slug}\n{front}---\n\n{body}\n"
