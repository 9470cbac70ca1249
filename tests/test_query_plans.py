"""SQLite's planner walks the date index for /latest once it has statistics (refreshed by a job)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from content.storage import Repository
from content.storage.articles import visible
from content.storage.tables import articles
from tests.support.articles import make_article

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def _latest_plan(repo: Repository) -> str:
    stmt = (
        select(articles.c.id)
        .where(visible(NOW))
        .order_by(articles.c.dated_at.desc(), articles.c.id)
        .limit(20)
    )
    compiled = stmt.compile(
        dialect=repo.articles.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    async with repo.articles.engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())
        )
        return " | ".join(str(row[-1]) for row in rows)


async def test_latest_walks_the_date_index_instead_of_sorting_the_archive(
    repo: Repository,
) -> None:
    batch = [
        (make_article(f"s{n}", published=NOW - timedelta(minutes=n)), True) for n in range(300)
    ]
    await repo.articles.upsert_many(batch, now=NOW)
    await repo.refresh_statistics()
    plan = await _latest_plan(repo)
    assert "ix_articles_dated" in plan, plan
    assert "ix_articles_withdrawn_at" not in plan and "ix_articles_review" not in plan, plan
