"""The Summarizer protocol shared by every summarizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Summarizer(Protocol):
    """Anything that turns an article's paragraphs into a few whole sentences."""

    def summarize(
        self, paragraphs: Sequence[str], *, title: str | None = None, max_sentences: int = 3
    ) -> list[str]: ...
