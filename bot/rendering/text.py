"""Text primitives: escaping, lengths, hashtags, times, shortening, and the Rendered message."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from babel.dates import format_datetime, format_skeleton
from babel.dates import format_time as babel_time
from babel.numbers import format_decimal
from telegram import InlineKeyboardMarkup

from bot.rendering import i18n

CAPTION_LIMIT = 1024  # a photo's caption, after entity parsing
MESSAGE_LIMIT = 4096  # characters after entity parsing; we count UTF-16 units to be safe


def escape(text: str) -> str:
    """Escape text for Telegram HTML (only &lt; &gt; &amp; are needed outside attributes)."""
    return html.escape(text, quote=False)


def escape_attr(text: str) -> str:
    return html.escape(text, quote=True)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def hashtag(topic: str) -> str:
    """A topic slug as a Telegram hashtag (letters, digits and underscores only)."""
    return "#" + re.sub(r"\W+", "_", topic).strip("_")


# English keeps its house style ("4 Mar 2022, 2:03 AM"); other languages follow CLDR.
_ENGLISH_TIME = "d MMM y, h:mm a"


def format_time(moment: datetime | None, zone: tzinfo) -> str:
    """A moment in `zone`, written the way the active language writes dates (Babel)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    where = i18n.locale()
    if where.language == "en":
        return format_datetime(local, _ENGLISH_TIME, tzinfo=zone, locale=where)
    day = format_skeleton("yMMMd", local, tzinfo=zone, locale=where)
    clock = babel_time(local, "short", tzinfo=zone, locale=where)
    return str(where.datetime_formats["medium"]).format(clock, day)


def format_number(value: int | float) -> str:
    """A count the way the active language groups digits ("12,34,567" in Tamil)."""
    return format_decimal(value, locale=i18n.locale())


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or text[: limit - 1]) + "…"


def plain_text(rendered_html: str) -> str:
    """The text a reader would see, without markup (fallback when HTML is refused)."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered_html))


def split_long(text: str, limit: int) -> list[str]:
    """Split plain text into pieces of at most `limit` UTF-16 units at sentence or word ends."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[:limit]
        while utf16_len(window) > limit:
            window = window[:-1]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
        if cut < limit // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut >= limit // 4 else len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message: HTML text and an optional inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | None = None  # a photo URL: `html` is then its caption


def notice(text: str) -> Rendered:
    """A short plain notice (text is escaped)."""
    return Rendered(escape(text))
