"""Storage helpers for tests: migrated repositories (SQLite, each backend), the outbox, one send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from content.models import Delivery
from content.storage import Repository
from content.storage._base import delivery_from_row
from content.storage.tables import deliveries


@asynccontextmanager
async def sqlite_repo(folder: Path) -> AsyncIterator[Repository]:
    """A migrated repository in a SQLite file under `folder`."""
    repository = Repository.open(f"sqlite+aiosqlite:///{folder}/ingest.db")
    await repository.migrate()
    try:
        yield repository
    finally:
        await repository.close()


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    """A migrated repository in a SQLite file of the test's own."""
    async with sqlite_repo(tmp_path) as repository:
        yield repository


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each supported database in turn: a SQLite file of the test's own, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/backend.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def any_repo(backend_url: str) -> AsyncIterator[Repository]:
    """A migrated repository on each supported database in turn."""
    repository = Repository.open(backend_url)
    await repository.migrate()
    try:
        yield repository
    finally:
        await repository.close()


async def deliveries_of(repo: Repository, article_id: str) -> list[Delivery]:
    """Every outbox row of one article, in id order."""
    stmt = select(deliveries).where(deliveries.c.article_id == article_id)
    async with repo.engine.connect() as conn:
        rows = (await conn.execute(stmt.order_by(deliveries.c.id))).all()
    return [delivery_from_row(r) for r in rows]


async def mark_sent(repo: Repository, *, delivery_id: int, message_id: int, now: datetime) -> None:
    """Record one send, as the worker's batched recorder would."""
    await repo.outbox.mark_sent_many([(delivery_id, message_id, now)])
