"""Sources: the content folder's files, the polled feeds and sites, which story each item became."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from content.storage._base import Store, insert
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
        if "state" in values and isinstance(values["state"], SourceState):
            values["state"] = values["state"].value
        async with self.engine.begin() as conn:
            await conn.execute(update(sources).where(sources.c.id == source_id).values(**values))

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
        values = {
            "article_id": article_id,
            "digest": digest,
            "error": error,
            "withdrawn": withdrawn,
            "updated_at": now,
        }
        async with self.engine.begin() as conn:
            stmt = insert(source_items, conn).values(source=source, key=key, **values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[source_items.c.source, source_items.c.key], set_=values
                )
            )

    async def withdrawn_articles(self) -> set[str]:
        """Stories a source withdrew (for the editors' tools that delete posts)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(source_items.c.article_id).where(
                    source_items.c.withdrawn.is_(True), source_items.c.article_id.is_not(None)
                )
            )
            return {r.article_id for r in rows}
