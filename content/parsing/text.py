"""Plain-text articles: headline, optional standfirst, `Author | date` byline, then the body."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from content.models import Article, ArticleParseError, Block, BlockKind, headline_id
from content.parsing.boilerplate import find_channel_hint, is_boilerplate

MAX_HEADLINE_CHARS = 300
# An article is tens of kilobytes; past this a file is refused unread (and never read whole).
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
# Dates outside these years are typos (0001, 9999) that would overflow when converted to UTC.
EARLIEST_YEAR = 1990
LATEST_YEAR = 2100
# A standfirst is a line or two; past this many lines after the headline there is no byline.
_MAX_STANDFIRST_LINES = 3
_MAX_AUTHOR_CHARS = 120
_MAX_HEADING_CHARS = 80
_MAX_HEADING_WORDS = 12
# Text files are judged on a prefix: enough to tell prose from binary without scanning megabytes.
_TEXTUAL_SAMPLE_CHARS = 100_000
_MAX_CONTROL_SHARE = 0.02

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Abbreviations that name one offset; ambiguous ones (CST, IST in some places) are left out.
_ZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "SGT": 8 * 60,
    "MYT": 8 * 60,
    "HKT": 8 * 60,
    "PHT": 8 * 60,
    "AWST": 8 * 60,
    "WIB": 7 * 60,
    "ICT": 7 * 60,
    "JST": 9 * 60,
    "KST": 9 * 60,
    "AEST": 10 * 60,
    "AEDT": 11 * 60,
    "BST": 60,
    "CET": 60,
    "CEST": 2 * 60,
    "EST": -5 * 60,
    "EDT": -4 * 60,
    "PST": -8 * 60,
    "PDT": -7 * 60,
}

_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH = (
    r"(?P<month_name>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_DATE_RES = (
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+(?P<year>\d{{4}})(?![\d])", re.IGNORECASE),
    re.compile(rf"{_WEEKDAY}{_DAY}\s+{_MONTH},?\s+(?P<year>\d{{4}})(?![\d])", re.IGNORECASE),
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\d])"),
)
_TIME_RE = re.compile(
    r"(?:\s*,\s*|\s+at\s+|\s*T|\s+)(?P<hour>\d{1,2})"
    r"(?:[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?(?![a-z]))?",
    re.IGNORECASE,
)
_ZONE_RE = re.compile(
    r"\s*\(?\s*(?:(?P<offset>[+-]\d{1,2}(?::?\d{2})?)(?![\d])"
    r"|(?P<abbr>[A-Za-z]{1,5})(?P<abbr_offset>[+-]\d{1,2}(?::?\d{2})?)?(?![A-Za-z\d]))"
)
_OFFSET_RE = re.compile(r"(?P<sign>[+-])(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?")
_CLOSING_MARKS = "\"'”’»)]"
_SENTENCE_END = ".!?:;…,"
_LABEL_RE = re.compile(r"^[A-Z][A-Z .&'-]{1,30}:")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
_BY_RE = re.compile(r"^by\s+", re.IGNORECASE)


class ImpossibleDateError(ValueError):
    """A date that has the shape of one but cannot exist (Feb 30, month 13, 25:00)."""


@dataclass(frozen=True, slots=True)
class Byline:
    """The author and publication time from a byline line."""

    author: str | None
    published: datetime


def normalise_line(line: str) -> str:
    """The line with every run of whitespace (tabs, NBSP, ...) collapsed to one space."""
    return " ".join(line.split())


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach `zone` to a naive wall-clock time, honouring DST (pytz zones need `localize`)."""
    pytz_localize = getattr(zone, "localize", None)
    if callable(pytz_localize):
        localized = pytz_localize(naive)
        if isinstance(localized, datetime):
            return localized
    # zoneinfo zones resolve the offset for this wall time from `tzinfo=`, so DST is right.
    return naive.replace(tzinfo=zone)


def _offset_minutes(text: str) -> int:
    """Minutes east of UTC for "+08:00", "+0800", "-5"; raises ImpossibleDateError past 24h."""
    match = _OFFSET_RE.fullmatch(text)
    if match is None:
        raise ImpossibleDateError(f"bad offset {text!r}")
    hours = int(match["hours"])
    minutes = int(match["minutes"] or 0)
    if hours > 23 or minutes > 59:
        raise ImpossibleDateError(f"impossible offset {text!r}")
    total = hours * 60 + minutes
    return -total if match["sign"] == "-" else total


def _zone_from(remainder: str) -> tuple[int | None, str]:
    """An explicit UTC offset at the start of `remainder` and what follows it."""
    match = _ZONE_RE.match(remainder)
    if match is None:
        return None, remainder
    if match["offset"]:
        return _offset_minutes(match["offset"]), remainder[match.end() :]
    abbr = match["abbr"].upper()
    if abbr not in _ZONE_ABBREVIATIONS:
        return None, remainder
    minutes = _ZONE_ABBREVIATIONS[abbr]
    if match["abbr_offset"]:
        minutes += _offset_minutes(match["abbr_offset"])
    return minutes, remainder[match.end() :]


def parse_when(text: str, *, default_tz: tzinfo) -> datetime | None:
    """A timezone-aware datetime from a byline date, None if `text` does not start with one."""
    text = text.strip()
    for date_re in _DATE_RES:
        date_match = date_re.match(text)
        if date_match is not None:
            break
    else:
        return None
    year, day = int(date_match["year"]), int(date_match["day"])
    names = date_match.groupdict()
    if names.get("month_name"):
        month = _MONTHS[names["month_name"][:3].lower()]
    else:
        month = int(names["month"])
    remainder = text[date_match.end() :]

    hour = minute = second = 0
    time_match = _TIME_RE.match(remainder)
    # A bare number after the date is not a time; it needs minutes or am/pm to count.
    if time_match is not None and (time_match["minute"] or time_match["ampm"]):
        hour = int(time_match["hour"])
        minute = int(time_match["minute"] or 0)
        second = int(time_match["second"] or 0)
        if time_match["ampm"]:
            if not 1 <= hour <= 12:
                raise ImpossibleDateError(f"hour {hour} with {time_match['ampm'].upper()}M")
            hour = hour % 12 + (12 if time_match["ampm"].lower() == "p" else 0)
        remainder = remainder[time_match.end() :]

    offset, _ = _zone_from(remainder)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ImpossibleDateError(str(exc)) from exc
    if offset is None:
        return localize(naive, default_tz)
    return naive.replace(tzinfo=timezone(timedelta(minutes=offset)))


def parse_byline(line: str, *, default_tz: tzinfo) -> Byline | None:
    """`Author | date` as a Byline, None if the line is not one; raises ImpossibleDateError."""
    if "|" not in line:
        return None
    left, _, right = line.partition("|")
    author = _BY_RE.sub("", left.strip()).strip()
    if len(author) > _MAX_AUTHOR_CHARS:
        return None
    # Sites sometimes append "| Updated ..." after the date; only the first part is the date.
    when = right.split("|", 1)[0]
    published = parse_when(when, default_tz=default_tz)
    if published is None:
        return None
    return Byline(author=author or None, published=published)


def shorten(value: object, limit: int = 60) -> str:
    """repr() of a value cut to `limit` characters, for error messages people read."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def check_year(when: datetime, what: str, shown: str, source: str) -> datetime:
    """`when` if its year is between EARLIEST_YEAR and LATEST_YEAR, else ArticleParseError."""
    if EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        return when
    raise ArticleParseError(
        source, f"{what} is out of range: {shown} (years {EARLIEST_YEAR} to {LATEST_YEAR})"
    )


def ensure_textual(text: str, source: str) -> None:
    """Raise ArticleParseError unless `text` reads as prose rather than binary data."""
    sample = text[:_TEXTUAL_SAMPLE_CHARS]
    if "\x00" in sample:
        raise ArticleParseError(source, "not a text file")
    bad = sum(
        1
        for char in sample
        if char == "\ufffd" or (unicodedata.category(char) == "Cc" and char not in "\t\n\r\f\v")
    )
    if bad > max(2, len(sample) * _MAX_CONTROL_SHARE):
        raise ArticleParseError(source, "not a text file")


def _bytes_look_textual(data: bytes) -> bool:
    """Whether undecodable bytes still look like a legacy 8-bit text file (mostly ASCII prose)."""
    sample = data[:_TEXTUAL_SAMPLE_CHARS]
    controls = sum(
        1 for byte in sample if (byte < 0x20 and byte not in b"\t\n\r\f\v") or byte == 0x7F
    )
    ascii_bytes = sum(1 for byte in sample if byte < 0x80)
    return controls <= len(sample) * _MAX_CONTROL_SHARE and ascii_bytes >= len(sample) * 0.7


def decode_bytes(data: bytes, source: str) -> str:
    """Text from file bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252 if textual."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleParseError(source, "not a text file") from None
    if not data.strip():
        raise ArticleParseError(source, "file is empty")
    if b"\x00" in data:
        raise ArticleParseError(source, "not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if not _bytes_look_textual(data):
        raise ArticleParseError(source, "not a text file")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ArticleParseError(source, "not a text file") from None


def _ends_sentence(text: str) -> bool:
    """Whether the line ends with sentence punctuation, looking inside closing quotes."""
    stripped = text.rstrip(_CLOSING_MARKS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _heading_like(text: str) -> bool:
    """Short, unpunctuated, not a label like "COMMENTARY:": could be a section heading."""
    return (
        len(text) <= _MAX_HEADING_CHARS
        and len(text.split()) <= _MAX_HEADING_WORDS
        and any(char.isalpha() for char in text)
        and not _ends_sentence(text)
        and _LABEL_RE.match(text) is None
        and _URL_RE.search(text) is None
    )


def _continues(previous: str, line: str) -> bool:
    """Whether `line` is a hard-wrapped continuation of `previous` rather than a new paragraph."""
    return line[:1].islower() and not _ends_sentence(previous)


def classify_blocks(texts: list[str]) -> tuple[Block, ...]:
    """Paragraphs and headings: a heading-like line between two paragraphs is a heading."""
    blocks: list[Block] = []
    for index, text in enumerate(texts):
        follows_paragraph = bool(blocks) and blocks[-1].kind is BlockKind.PARAGRAPH
        # The next line must be prose, so a heading is never last and never one of a pair.
        before_paragraph = index + 1 < len(texts) and not _heading_like(texts[index + 1])
        if follows_paragraph and before_paragraph and _heading_like(text):
            blocks.append(Block(BlockKind.HEADING, text))
        else:
            blocks.append(Block(BlockKind.PARAGRAPH, text))
    return tuple(blocks)


def _body_texts(lines: list[str]) -> list[str]:
    """Body lines to paragraph texts: one per line, joining hard-wrapped continuations."""
    texts: list[str] = []
    joinable = False  # True while the previous kept line is directly above this one
    for line in lines:
        if not line or is_boilerplate(line):
            joinable = False
            continue
        if joinable and texts and _continues(texts[-1], line):
            texts[-1] = f"{texts[-1]} {line}"
        else:
            texts.append(line)
        joinable = True
    return texts


def _channel_hint(lines: list[str]) -> str | None:
    """The first Telegram follow link among the lines."""
    for line in lines:
        hint = find_channel_hint(line)
        if hint is not None:
            return hint
    return None


def parse_text(text: str, *, default_tz: tzinfo, source: str = "<text>") -> Article:
    """Parse a plain-text article; raises ArticleParseError with a reason for people."""
    text = text.replace("\ufeff", "")
    if not text.strip():
        raise ArticleParseError(source, "file is empty")
    ensure_textual(text, source)
    lines = [normalise_line(line) for line in text.splitlines()]

    # Furniture above the headline (a stray "Follow us" line) is skipped, not taken as title.
    start = next((i for i, line in enumerate(lines) if line and not is_boilerplate(line)), None)
    if start is None:
        raise ArticleParseError(source, "no headline")
    title = lines[start]
    if len(title) > MAX_HEADLINE_CHARS:
        raise ArticleParseError(source, f"no headline (first line is {len(title)} characters)")
    if _parse_byline_or_fail(title, default_tz, source) is not None:
        raise ArticleParseError(source, "no headline (the file starts with the byline)")

    rest = lines[start + 1 :]
    byline: Byline | None = None
    byline_at = -1
    seen = 0
    for index, line in enumerate(rest):
        if not line or is_boilerplate(line):
            continue
        byline = _parse_byline_or_fail(line, default_tz, source)
        if byline is not None:
            byline_at = index
            break
        seen += 1
        if seen >= _MAX_STANDFIRST_LINES:
            break

    if byline is None:
        standfirst = None
        body_lines = rest
    else:
        head = [line for line in rest[:byline_at] if line and not is_boilerplate(line)]
        standfirst = " ".join(head) or None
        body_lines = rest[byline_at + 1 :]

    blocks = classify_blocks(_body_texts(body_lines))
    if not blocks:
        raise ArticleParseError(source, "no body text")
    published = byline.published if byline else None
    return Article(
        id=headline_id(title, published),
        title=title,
        blocks=blocks,
        standfirst=standfirst,
        author=byline.author if byline else None,
        published=published,
        channel_hint=_channel_hint(lines),
        source=source,
    )


def _parse_byline_or_fail(line: str, default_tz: tzinfo, source: str) -> Byline | None:
    """parse_byline, turning an impossible date into an ArticleParseError."""
    try:
        byline = parse_byline(line, default_tz=default_tz)
    except ImpossibleDateError as exc:
        raise ArticleParseError(source, f"impossible date in byline: {line!r} ({exc})") from None
    if byline is not None:
        check_year(byline.published, "the date in the byline", shorten(line), source)
    return byline


def read_limited(path: Path, limit: int = MAX_ARTICLE_BYTES) -> bytes:
    """At most `limit` bytes of a file; ArticleParseError if it is larger or unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ArticleParseError(path, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ArticleParseError(path, too_large(limit))
    return data


def too_large(limit: int) -> str:
    """The reason given for a file over the size limit."""
    return f"file is larger than {limit // (1024 * 1024)} MB"


def read_text_file(path: Path) -> str:
    """The decoded text of a file; raises ArticleParseError if it cannot be read or decoded."""
    return decode_bytes(read_limited(path), str(path))
