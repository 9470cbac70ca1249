"""The one rule for what readers may see: a story under embargo, withdrawn or waiting for an
editor does not exist for them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

from content.models import Article, ReviewState

# Columns of `articles` (and fields of Article) that hide a story. Storage builds its SQL
# filter from these, so the two can never disagree.
# ... until the time they hold has passed (an embargo):
HIDDEN_UNTIL: tuple[str, ...] = ("publish_at",)
# ... while they are set (a withdrawal):
HIDDEN_WHILE: tuple[str, ...] = ("withdrawn_at",)
# ... when set to a value outside these (review: only a published story shows):
HIDDEN_UNLESS: Mapping[str, frozenset[enum.Enum]] = {
    "review": frozenset({ReviewState.PUBLISHED}),
}


def _passed(moment: datetime | None, now: datetime) -> bool:
    return moment is None or moment <= now


def is_embargoed(article: Article, *, now: datetime) -> bool:
    """Whether the story is still waiting for its publication time."""
    return not _passed(article.publish_at, now)


def is_visible(article: Article, *, now: datetime) -> bool:
    """Whether a reader may see the story (in any list, card, page, search or link)."""
    return (
        all(_passed(getattr(article, name), now) for name in HIDDEN_UNTIL)
        and all(getattr(article, name) is None for name in HIDDEN_WHILE)
        and all(
            getattr(article, name) is None or getattr(article, name) in shown
            for name, shown in HIDDEN_UNLESS.items()
        )
    )


def is_withdrawn(article: Article) -> bool:
    """Whether the story was taken back (by its source or an editor)."""
    return article.withdrawn_at is not None
