"""When a story reaches a reader who holds it back (digest, quiet hours), and what a digest shows.

Pure rules, no I/O: planning asks `hold_until` for each reader a story is planned for (None:
send it now); the release job bundles the held stories that fell due into one delivery of
`release_kind`; the worker asks `choose` which of them the message lists. The clock rules
(next digest, quiet hours, zones across DST) are content/preferences.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from content.models import Article, DeliveryKind
from content.preferences import DigestMode, ReaderSettings, held, next_digest, quiet_ends

DIGEST_SIZE = 10  # stories listed in one digest message; the rest behind "and N more"


def hold_until(
    settings: ReaderSettings, zone: tzinfo, now: datetime, *, breaking: bool
) -> datetime | None:
    """Until when a story planned at `now` waits for this reader; None: send it now.

    A digest reader gets everything in their next digest; an instant reader inside quiet
    hours gets it when they end, unless it is breaking and they let breaking news through.
    """
    digest = next_digest(settings, now, zone)
    if digest is not None:
        return digest.astimezone(UTC)
    if settings.quiet is None or not held(settings, now, zone, breaking=breaking):
        return None
    return quiet_ends(settings.quiet, now, zone).astimezone(UTC)


def release_kind(settings: ReaderSettings) -> DeliveryKind:
    """What held stories go out as: the reader's digest, or "While you were away"."""
    return DeliveryKind.AWAY if settings.digest is DigestMode.OFF else DeliveryKind.DIGEST


@dataclass(frozen=True, slots=True)
class DigestPick:
    """What one digest message lists, and how many more stories wait behind its button."""

    shown: tuple[Article, ...]
    more: tuple[Article, ...]


def choose(stories: Sequence[Article], *, size: int = DIGEST_SIZE) -> DigestPick:
    """The newest `size` stories first; the rest go behind "and N more" (newest first too)."""

    def newest(article: Article) -> tuple[float, str]:
        when = article.published
        return (-(when.timestamp() if when is not None else 0.0), article.id)

    ordered = tuple(sorted(dict((a.id, a) for a in stories).values(), key=newest))
    return DigestPick(ordered[:size], ordered[size:])
