"""The Alembic migrations build exactly the schema tables.py describes, on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from content.storage import Repository
from content.storage.fulltext import managed_here
from content.storage.tables import metadata


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": managed_here,  # the full-text index is per backend, not in tables.py
        },
    )
    return list(compare_metadata(context, metadata))


async def migrated_drift(url: str) -> list[Any]:
    """Run every migration on an empty database, then compare it with tables.py."""
    repo = Repository.open(url)
    try:
        await repo.migrate()
        async with repo.engine.connect() as conn:
            return await conn.run_sync(_drift)
    finally:
        await repo.close()


async def test_migrations_match_tables_on_sqlite(tmp_path: Path) -> None:
    assert await migrated_drift(f"sqlite+aiosqlite:///{tmp_path}/empty.db") == []


@pytest.mark.postgres
async def test_migrations_match_tables_on_postgresql(pg_url: str) -> None:
    assert await migrated_drift(pg_url) == []
