"""Articles for tests: one builder (`make_article`), the ones built on it, and sample texts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from content.models import Article, Block, BlockKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE = FIXTURES / "ukraine-tells-russian-mothers-to-pick-up-captured-sons.txt"
SGT = ZoneInfo("Asia/Singapore")
PUBLISHED = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
LONG_ID = "A1b2C3d4E5f6G7h8I9j0_-K1l2M3n4O5p6Q7r8S9"  # 40 characters, the longest id allowed
HOSTILE = 'Tom & Jerry <script>alert("x")</script> > "quotes" \'single\' 🎉 مرحبا بالعالم'

# A story in the plain-text shape the scanner reads; the e2e tests drop it into the folder.
NEW_ARTICLE = """Bus captain praised for returning lost wallet in Bedok

The commuter said she was "speechless".

Sam Teo | July 03, 2026, 09:30 AM

Follow us on Telegram for the latest updates: https://t.me/mothershipsg

A bus captain has been praised online after he returned a wallet left on his bus in Bedok.

The wallet held S$800 in cash and several cards, the commuter said.

What happened next

The commuter posted about the incident on Facebook, thanking the bus captain.

Follow and listen to our podcast here
"""


def budget_story(year: int, *, publish_at: str | None) -> str:
    """The Budget story in Markdown (id `budget-YEAR`), under embargo until `publish_at` if set."""
    embargo = f"publish_at: {publish_at}\n" if publish_at else ""
    return f"""---
title: Budget {year} highlights for households
id: budget-{year}
published: 2026-07-01 09:00
{embargo}tags: [Economy]
---

The Budget statement will be read in Parliament this evening.

Households will receive vouchers, the finance minister is expected to say.
"""


def paragraphs(*texts: str) -> tuple[Block, ...]:
    """One paragraph block per text."""
    return tuple(Block(BlockKind.PARAGRAPH, text) for text in texts)


def make_article(article_id: str = "a1", *, body: str | None = None, **overrides: Any) -> Article:
    """An Article with plain defaults; `body` is one paragraph ("" for none), else pass `blocks`."""
    values: dict[str, Any] = {
        "id": article_id,
        "title": f"Story {article_id}",
        "blocks": paragraphs(f"Body of {article_id}."),
        "published": PUBLISHED,
    }
    if body is not None:
        values["blocks"] = paragraphs(body) if body else ()
    values.update(overrides)
    return Article(**values)


def rich_article(**overrides: Any) -> Article:
    """An article with every field set, and HTML-special characters in its title."""
    values: dict[str, Any] = {
        "title": "Otters & <friends> at Bishan",
        "blocks": (
            Block(BlockKind.PARAGRAPH, "A family of otters was seen at the park."),
            Block(BlockKind.HEADING, "What the experts say"),
            Block(BlockKind.PARAGRAPH, "Keep your distance."),
        ),
        "standfirst": "Keep your distance & do not feed them.",
        "author": "Alex Lim",
        "published": datetime(2026, 7, 3, 1, 30, tzinfo=UTC),
        "topics": ("wildlife", "bishan-park"),
        "summary": "Otters were seen at Bishan. Experts say: keep away.",
        "url": "https://example.com/otters",
    }
    return make_article("abc123", **{**values, **overrides})


def hostile_article(**overrides: Any) -> Article:
    """A rich article whose every text field is markup, quotes, emoji and right-to-left text."""
    values: dict[str, Any] = {
        "id": LONG_ID,
        "title": HOSTILE,
        "standfirst": HOSTILE,
        "author": HOSTILE,
        "summary": HOSTILE,
        "blocks": (Block(BlockKind.HEADING, HOSTILE), Block(BlockKind.PARAGRAPH, HOSTILE)),
    }
    return rich_article(**{**values, **overrides})


def write(folder: Path, name: str, text: str) -> Path:
    """Write via a temporary name, then rename: the scanner never sees half a file."""
    tmp = folder / f".{name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    return tmp.rename(folder / name)
