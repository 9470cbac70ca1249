"""Sources: what was last seen of each article file, and small facts about the import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from content.storage._base import Store, insert
from content.storage.tables import meta, source_files


@dataclass(frozen=True, slots=True)
class SourceFileState:
    path: str
    mtime_ns: int
    size: int
    sha256: str
    article_id: str | None
    error: str | None


class SourceStore(Store):
    """Per-file states of the content folder, and the meta facts (e.g. archive imported)."""

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
