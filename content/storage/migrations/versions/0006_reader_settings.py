"""Reader settings (language, zone, digest, quiet hours), mutes, and exclusions per subscription."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("language", sa.String(8)))
        batch.add_column(sa.Column("timezone", sa.String(64)))
        batch.add_column(sa.Column("digest", sa.String(8), nullable=False, server_default="off"))
        batch.add_column(sa.Column("digest_at", sa.String(5)))  # "HH:MM"
        batch.add_column(sa.Column("quiet_start", sa.String(5)))
        batch.add_column(sa.Column("quiet_end", sa.String(5)))
        batch.add_column(
            sa.Column("breaking_in_quiet", sa.Boolean, nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("subscriptions") as batch:
        # JSON list of words, phrases or topics this subscription leaves out ("ukraine -sports").
        batch.add_column(sa.Column("excludes", sa.Text, nullable=False, server_default="[]"))
    with op.batch_alter_table("deliveries") as batch:
        # A held story: NULL while it waits, then the id of the digest it went out in.
        batch.add_column(sa.Column("bundle", sa.Integer))
    # The release job pages through waiting held stories by reader (keyset on chat_id).
    op.create_index(
        "ix_deliveries_held", "deliveries", ["state", "bundle", "chat_id", "next_attempt_at"]
    )
    op.create_table(
        "mutes",
        sa.Column("chat_id", sa.BigInteger, primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mutes")
    op.drop_index("ix_deliveries_held", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("bundle")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("excludes")
    with op.batch_alter_table("chats") as batch:
        for name in (
            "breaking_in_quiet",
            "quiet_end",
            "quiet_start",
            "digest_at",
            "digest",
            "timezone",
            "language",
        ):
            batch.drop_column(name)
