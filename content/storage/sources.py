"""Sources: the content folder's files, the polled feeds and sites, which story each item became."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from content.models import Article
from content.storage._base import Store, insert
from content.storage.articles import UpsertOutcome, archive_in, upsert_in
from content.storage.tables import meta, source_files, source_items, sources


class SourceKind(enum.Enum):
    FEED = "feed"  # RSS, Atom or JSON Feed (or a page whose feed is found by autodiscovery)
    WORDPRESS = "wordpress"  # a WordPress site's REST API


class SourceState(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"  # gone (HTTP 410) or switched off: never polled


@dataclass(frozen=True, slots=True)
class PolledSource:
    """A feed or site polled for stories, and what the last polls said."""

    id: int
    kind: SourceKind
    spec: str  # as registered; items are remembered under `name`, which derives from it
    url: str  # where it is fetched now
    title: str | None
    state: SourceState
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    cursor: str | None
    last_success_at: datetime | None
    last_error: str | None
    failures: int
    failing_since: datetime | None
    notified_failing: bool
    next_poll_at: datetime
    interval: float
    items_seen: int
    created_at: datetime

    @property
    def name(self) -> str:
        """The Entry.source of its items: stable across URL changes."""
        return f"{self.kind.value}:{self.spec}"


@dataclass(frozen=True, slots=True)
class ItemState:
    """What a source's item became when it was last ingested."""

    article_id: str | None
    digest: str
    error: str | None
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One ingested item to store: its story's new version (if any) and what the item became.

    `article`: upserted (`archive`: a new story is archived on insert). A `withdrawn` item
    without one archives its story `article_id` (never posted from then on).
    """

    source: str
    key: str
    digest: str
    article_id: str | None
    error: str | None = None
    withdrawn: bool = False
    article: Article | None = None
    archive: bool = False
    at: datetime | None = None  # when the story was seen (default: the batch's time)


def _source_from_row(row: Any) -> PolledSource:
    return PolledSource(
        id=row.id,
        kind=SourceKind(row.kind),
        spec=row.spec,
        url=row.url,
        title=row.title,
        state=SourceState(row.state),
        etag=row.etag,
        last_modified=row.last_modified,
        content_hash=row.content_hash,
        cursor=row.cursor,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        failures=row.failures,
        failing_since=row.failing_since,
        notified_failing=row.notified_failing,
        next_poll_at=row.next_poll_at,
        interval=row.interval,
        items_seen=row.items_seen,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class SourceFileState:
    path: str
    mtime_ns: int
    size: int
    sha256: str
    article_id: str | None
    error: str | None


class SourceStore(Store):
    """The folder's file states, meta facts, the polled sources and the items' stories."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        # The poller's concurrent polls take turns for their write transactions here, first
        # come first served: SQLite's busy handler is neither, and gives up after busy_timeout.
        self._writing = asyncio.Lock()

    async def files(self) -> dict[str, SourceFileState]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(source_files))).all()
        return {
            r.path: SourceFileState(r.path, r.mtime_ns, r.size, r.sha256, r.article_id, r.error)
            for r in rows
        }

    async def record_file(
        self,
        *,
        path: str,
        mtime_ns: int,
        size: int,
        sha256: str,
        article_id: str | None,
        error: str | None,
        now: datetime,
    ) -> None:
        values = {
            "mtime_ns": mtime_ns,
            "size": size,
            "sha256": sha256,
            "article_id": article_id,
            "error": error,
            "updated_at": now,
        }
        async with self.engine.begin() as conn:
            stmt = insert(source_files, conn).values(path=path, **values)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[source_files.c.path], set_=values)
            )

    async def forget_files(self, paths: Iterable[str]) -> None:
        """The files left the folder: their records go (a file coming back is read anew)."""
        gone = list(paths)
        async with self.engine.begin() as conn:
            for start in range(0, len(gone), 500):  # SQLite bounds a statement's parameters
                chunk = gone[start : start + 500]
                await conn.execute(delete(source_files).where(source_files.c.path.in_(chunk)))

    async def get_meta(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.scalar(select(meta.c.value).where(meta.c.key == key))

    async def set_meta(self, key: str, value: str) -> None:
        async with self.engine.begin() as conn:
            stmt = insert(meta, conn).values(key=key, value=value)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
            )

    # Polled sources.

    async def add(
        self, *, kind: SourceKind, spec: str, url: str, interval: float, now: datetime
    ) -> PolledSource:
        """Register a source (idempotent by spec: a known one is returned unchanged)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(sources, conn)
                .values(
                    kind=kind.value,
                    spec=spec,
                    url=url,
                    state=SourceState.ACTIVE.value,
                    failures=0,
                    notified_failing=False,
                    next_poll_at=now,
                    interval=interval,
                    items_seen=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=[sources.c.spec])
            )
            row = (await conn.execute(select(sources).where(sources.c.spec == spec))).one()
        return _source_from_row(row)

    async def get(self, source_id: int) -> PolledSource | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(sources).where(sources.c.id == source_id))).first()
        return _source_from_row(row) if row else None

    async def all(self) -> list[PolledSource]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(sources).order_by(sources.c.id))).all()
        return [_source_from_row(r) for r in rows]

    async def due(self, *, now: datetime) -> list[PolledSource]:
        """Active sources whose next poll time has come, the longest waiting first."""
        stmt = (
            select(sources)
            .where(sources.c.state == SourceState.ACTIVE.value, sources.c.next_poll_at <= now)
            .order_by(sources.c.next_poll_at, sources.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_source_from_row(r) for r in rows]

    async def update(self, source_id: int, **values: Any) -> None:
        """Store what a poll learned (columns of the sources table by name)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(sources).where(sources.c.id == source_id).values(**_columns(values))
            )

    async def update_many(self, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """`update` of many sources in one transaction: one executemany per set of columns."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for source_id, values in changes:
            columns = _columns(values)
            params = {f"p_{name}": value for name, value in columns.items()}
            params["p__source_id"] = source_id
            groups.setdefault(tuple(sorted(columns)), []).append(params)
        if not groups:
            return
        async with self._writing, self.engine.begin() as conn:
            for names, rows in groups.items():
                stmt = (
                    update(sources)
                    .where(sources.c.id == bindparam("p__source_id"))
                    .values({name: bindparam(f"p_{name}") for name in names})
                )
                await conn.execute(stmt, rows)

    async def remove(self, source_id: int) -> bool:
        """Forget a source (its stories stay); whether there was one."""
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(sources).where(sources.c.id == source_id))
        return bool(result.rowcount)

    # Items: which story each (source, key) became.

    async def items(self, source: str, keys: Iterable[str]) -> dict[str, ItemState]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ItemState] = {}
        async with self.engine.connect() as conn:
            # In chunks: SQLite bounds the number of parameters of one statement.
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = await conn.execute(
                    select(source_items).where(
                        source_items.c.source == source, source_items.c.key.in_(chunk)
                    )
                )
                for r in rows:
                    found[r.key] = ItemState(r.article_id, r.digest, r.error, r.withdrawn)
        return found

    async def record_item(
        self,
        *,
        source: str,
        key: str,
        article_id: str | None,
        digest: str,
        error: str | None,
        withdrawn: bool,
        now: datetime,
    ) -> None:
        write = ItemWrite(source, key, digest, article_id, error=error, withdrawn=withdrawn)
        async with self._writing, self.engine.begin() as conn:
            await _record(conn, write, now=now)

    async def record_items(
        self, writes: Sequence[ItemWrite], *, now: datetime
    ) -> list[UpsertOutcome | None]:
        """Store the items' stories and records, in order, in one transaction.

        Each write's upsert outcome (None when it stored no article).
        """
        outcomes: list[UpsertOutcome | None] = []
        async with self._writing, self.engine.begin() as conn:
            for write in writes:
                outcome = None
                if write.article is not None:
                    outcome = await upsert_in(
                        conn, write.article, now=write.at or now, archive=write.archive
                    )
                elif write.withdrawn and write.article_id is not None:
                    await archive_in(conn, write.article_id, now=now)
                await _record(conn, write, now=now)
                outcomes.append(outcome)
        return outcomes

    async def withdrawn_articles(self) -> set[str]:
        """Stories a source withdrew (for the editors' tools that delete posts)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(source_items.c.article_id).where(
                    source_items.c.withdrawn.is_(True), source_items.c.article_id.is_not(None)
                )
            )
            return {r.article_id for r in rows}


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Column values as stored (the state enum by its value)."""
    state = values.get("state")
    if isinstance(state, SourceState):
        return {**values, "state": state.value}
    return values


async def _record(conn: AsyncConnection, write: ItemWrite, *, now: datetime) -> None:
    """Remember which story a (source, key) became, in the caller's transaction."""
    values = {
        "article_id": write.article_id,
        "digest": write.digest,
        "error": write.error,
        "withdrawn": write.withdrawn,
        "updated_at": now,
    }
    stmt = insert(source_items, conn).values(source=write.source, key=write.key, **values)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[source_items.c.source, source_items.c.key], set_=values
        )
    )
