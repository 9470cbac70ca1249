"""Ingest helpers for tests: one scan call, a clean content folder, a small Markdown story."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from content.models import IngestReport
from content.pipeline import PARSE_TIMEOUT_SECONDS, scan_folder
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.articles import FIXTURES, SGT
from tests.support.storage import sqlite_repo

__all__ = ["SGT", "T0", "content_folder", "scan", "sqlite_repo", "story"]

T0 = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
_SUMMARIZER = ExtractiveSummarizer()


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
