"""The repository front: the engine, migrations, and one store per aggregate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from content.storage.activity import Activity
from content.storage.articles import ArticleStore
from content.storage.budget import Budget
from content.storage.locks import Locks
from content.storage.outbox import Outbox
from content.storage.readers import ReaderStore
from content.storage.sources import SourceStore

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the bot read while the worker writes; busy_timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for running the migrations on `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


class Repository:
    """Async storage: `articles`, `sources`, `readers`, `outbox`, `budget`, `locks`, `activity`.

    `engine` is public: test helpers and benches that need SQL of their own use it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.articles = ArticleStore(engine)
        self.sources = SourceStore(engine)
        self.readers = ReaderStore(engine)
        self.outbox = Outbox(engine)
        self.budget = Budget(engine)
        self.locks = Locks(engine)
        self.activity = Activity(engine)

    @classmethod
    def open(cls, database_url: str) -> Repository:
        """Create the engine (and the SQLite file's folder); call `migrate` before use."""
        url = make_url(database_url)
        kwargs: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        # SQL parameters carry readers' ids and article text: keep them out of errors and logs.
        engine = create_async_engine(url, hide_parameters=True, **kwargs)
        if url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def migrate(self) -> None:
        """Apply Alembic migrations up to head."""

        def upgrade(connection: Connection) -> None:
            command.upgrade(alembic_config(connection), "head")

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade)

    async def refresh_statistics(self) -> None:
        """Let SQLite's planner know the tables' shapes (PostgreSQL's autovacuum does this).

        Without statistics SQLite reads `withdrawn_at IS NULL` through its index (every row)
        and sorts the whole archive for /latest, instead of walking `ix_articles_dated`.
        `analysis_limit` samples each index, so this stays quick on big tables.
        """
        if self.engine.dialect.name != "sqlite":
            return
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            await conn.exec_driver_sql("ANALYZE")

    async def ping(self) -> None:
        """One trivial query; raises when the database does not answer (health checks)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
