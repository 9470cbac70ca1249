"""Alembic environment: runs on the connection the repository hands over (async engine)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from content.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through content.storage (Repository.migrate)")
_run(connection)
