"""Storage: SQLAlchemy Core tables, Alembic migrations and the repository."""

from content.storage.repository import OutboxCounts, Repository, SourceFileState, UpsertOutcome

__all__ = ["OutboxCounts", "Repository", "SourceFileState", "UpsertOutcome"]
