"""Fit a summary into a length budget without breaking sentences."""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "…"


def fit_summary(sentences: Sequence[str], *, max_chars: int = 600) -> list[str]:
    """Keep the leading sentences whose " "-joined text fits `max_chars`.

    Trailing sentences are dropped until the rest fits. If even the first sentence is longer than
    `max_chars`, it is cut at the last word boundary that leaves room for "…" and ends with "…":
    the only case where a summary holds a partial sentence.
    """
    out: list[str] = []
    used = 0
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        extra = len(sentence) + (1 if out else 0)
        if used + extra > max_chars:
            break
        out.append(sentence)
        used += extra
    if out or not sentences:
        return out
    first = next((s.strip() for s in sentences if s.strip()), "")
    if not first or max_chars < 1:
        return []
    room = max_chars - len(ELLIPSIS)
    cut = first[: room + 1]
    # Cut at the last space inside the room; a single overlong word is cut hard.
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 else first[:room]
    return [head.rstrip(" ,;:-–—") + ELLIPSIS]
