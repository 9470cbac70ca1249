"""Storage: SQLAlchemy Core tables, Alembic migrations, one store per aggregate, a front."""

from content.storage.articles import UpsertOutcome
from content.storage.outbox import OutboxCounts
from content.storage.repository import Repository
from content.storage.sources import (
    ItemState,
    PolledSource,
    SourceFileState,
    SourceKind,
    SourceState,
)

__all__ = [
    "ItemState",
    "OutboxCounts",
    "PolledSource",
    "Repository",
    "SourceFileState",
    "SourceKind",
    "SourceState",
    "UpsertOutcome",
]
