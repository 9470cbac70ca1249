"""The one rule for what readers may see: a story under embargo does not exist for them."""

from __future__ import annotations

from datetime import datetime

from content.models import Article

# Columns of `articles` (and fields of Article) that hide a story until the time they hold has
# passed. Storage builds its SQL filter from this tuple, so the two can never disagree.
# A withdrawal ("hidden while set") will be the second kind of rule beside this one.
HIDDEN_UNTIL: tuple[str, ...] = ("publish_at",)


def _passed(moment: datetime | None, now: datetime) -> bool:
    return moment is None or moment <= now


def is_embargoed(article: Article, *, now: datetime) -> bool:
    """Whether the story is still waiting for its publication time."""
    return not _passed(article.publish_at, now)


def is_visible(article: Article, *, now: datetime) -> bool:
    """Whether a reader may see the story (in any list, card, page, search or link)."""
    return all(_passed(getattr(article, name), now) for name in HIDDEN_UNTIL)
