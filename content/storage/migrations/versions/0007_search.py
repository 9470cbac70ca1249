"""Search at archive scale: articles.dated_at, indexes for lists and counts, full-text index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage import fulltext
from content.storage.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("dated_at", UTCDateTime))
    op.execute("UPDATE articles SET dated_at = coalesce(published, first_seen_at)")
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("dated_at", existing_type=UTCDateTime, nullable=False)
    op.create_index("ix_articles_dated", "articles", ["dated_at", "id"])
    op.create_index("ix_articles_publish_at", "articles", ["publish_at"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(fulltext.SQLITE_DDL)
        fulltext.populate_sqlite(bind)
    else:
        # A generated column: PostgreSQL fills it for existing rows and keeps it in step.
        op.execute(fulltext.PG_COLUMN_DDL)
        op.execute(fulltext.PG_INDEX_DDL)
        op.execute(fulltext.PG_TITLE_COLUMN_DDL)
        op.execute(fulltext.PG_TITLE_INDEX_DDL)
        for statement in fulltext.PG_STATISTICS_DDL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {fulltext.FTS_TABLE}")
    else:
        op.drop_index(fulltext.PG_TITLE_INDEX, "articles")
        op.drop_index(fulltext.PG_INDEX, "articles")
        with op.batch_alter_table("articles") as batch:
            batch.drop_column(fulltext.PG_TITLE_VECTOR)
            batch.drop_column(fulltext.PG_VECTOR)
    op.drop_index("ix_articles_publish_at", "articles")
    op.drop_index("ix_articles_dated", "articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("dated_at")
