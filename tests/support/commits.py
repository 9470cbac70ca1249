"""Counting a repository's write transactions (commits), to check what is batched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from content.storage import Repository


@contextmanager
def commits(repo: Repository) -> Iterator[list[int]]:
    """A list that gains one entry per commit made through the repository's engine meanwhile."""
    seen: list[int] = []

    def count(_conn: Any) -> None:
        seen.append(len(seen) + 1)

    engine = repo.engine.sync_engine
    event.listen(engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", count)
