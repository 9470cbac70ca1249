"""Shared rules for the site furniture that news pages wrap around an article's own text."""

from __future__ import annotations

import re

# Furniture lines are short; a long line that happens to start like one is real prose.
_MAX_BOILERPLATE_CHARS = 200
_MAX_CREDIT_CHARS = 120

_BOILERPLATE_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^follow us on (telegram|instagram|facebook|tiktok|twitter|x|threads|whatsapp|youtube)\b",
        r"^follow and listen to our podcast\b",
        r"^(also )?(listen|subscribe) to our podcast\b",
        r"^related (stories|story|articles?|reads?|reading|links?)\b",
        r"^(read|see) (more|also)\s*:",
        r"^click here\b",
        r"^(subscribe|sign up)\b.*\bnewsletters?\b",
        r"^share (this|the) (article|story|post|page)\b",
        r"^download (our|the) app\b",
        r"^(advertisement|sponsored|sponsored content|ad)$",
        r"^(this article|the article) (first )?appeared (first )?(on|in)\b.{0,80}$",
    )
)

# Image and video credits: "Top image via X", "Photo courtesy of X", "Images by X", "Photo: X".
_CREDIT_RE = re.compile(
    r"^((top|cover|header|featured|main|all|file)\s+)?"
    r"(image|images|photo|photos|picture|pictures|video|videos|screenshots?|graphics?)"
    r"(\s+(via|by|from|courtesy(\s+of)?|credits?)\b|\s*:\s*\S|\s+credits?\s*:)",
    re.IGNORECASE,
)

_FOLLOW_TELEGRAM_RE = re.compile(r"\bfollow\b.*\btelegram\b", re.IGNORECASE)
_TELEGRAM_LINK_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?P<path>[A-Za-z0-9_+/-]+)", re.IGNORECASE
)


def _clean(line: str) -> str:
    """The line with whitespace collapsed and leading markup bullets removed."""
    return " ".join(line.split()).lstrip("•*-> ").strip()


def is_boilerplate(line: str) -> bool:
    """Whether a line is site furniture (follow/podcast prompts, image credits, related links)."""
    text = _clean(line)
    if not text or len(text) > _MAX_BOILERPLATE_CHARS:
        return False
    if any(rule.search(text) for rule in _BOILERPLATE_RES):
        return True
    return len(text) <= _MAX_CREDIT_CHARS and _CREDIT_RE.search(text) is not None


def find_channel_hint(line: str) -> str | None:
    """The outlet's https://t.me/... link in a "Follow us on Telegram" line, if there is one."""
    text = _clean(line)
    if not _FOLLOW_TELEGRAM_RE.search(text):
        return None
    match = _TELEGRAM_LINK_RE.search(text)
    if match is None:
        return None
    path = match.group("path").rstrip("/")
    return f"https://t.me/{path}" if path else None
