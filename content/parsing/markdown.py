"""Markdown articles with optional YAML front matter (`---` ... `---`) above the body."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from content.models import (
    ARTICLE_ID_RE,
    Article,
    ArticleParseError,
    Block,
    BlockKind,
    headline_id,
    make_article_id,
)
from content.parsing.boilerplate import find_channel_hint, is_boilerplate
from content.parsing.frontmatter import field_value, load_front_matter
from content.parsing.options import OptionError, read_options
from content.parsing.text import (
    ImpossibleDateError,
    check_year,
    ensure_textual,
    localize,
    normalise_line,
    parse_when,
    shorten,
)
from content.topics import normalise_topic

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX_RE = re.compile(r"^\s{0,3}(?P<marks>#{1,6})(?:\s+(?P<text>.*?))?\s*#*\s*$")
_RULE_RE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_REF_DEF_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_ITEM_RE = re.compile(r"^\s{0,3}(?P<mark>[-*+]|\d{1,9}[.)])\s+(?P<text>.*)$")
_QUOTE_RE = re.compile(r"^\s{0,3}>\s?(?P<text>.*)$")

_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_PRIVATE_BASE = 0xE000  # escaped ASCII is parked in the Private Use Area while emphasis is removed
# Every rule runs in linear time: a span never crosses its own opening mark (or a bracket), so
# a line of a thousand unclosed "*a " or "[a" costs no more than reading it. The regex engine
# holds the GIL, so a quadratic rule would freeze the bot even from a thread.
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), replacement)
    for pattern, flags, replacement in (
        (r"`+\s?(.*?)\s?`+", 0, r"\1"),
        (r"!\[[^\[\]]*\]\([^()]*\)", 0, ""),
        (r"!\[[^\[\]]*\]\[[^\[\]]*\]", 0, ""),
        (r"\[([^\[\]]*)\]\([^()\s]*(?:\s+\"[^\"]*\")?\)", 0, r"\1"),
        (r"\[([^\[\]]+)\]\[[^\[\]]*\]", 0, r"\1"),
        (r"<((?:https?|mailto):[^<>\s]+)>", 0, r"\1"),
        (r"<br\s*/?>", re.I, " "),
        (r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", 0, ""),
        (r"(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1", 0, r"\2"),
        (r"~~(?=\S)((?:(?!~~).)+?)(?<=\S)~~", 0, r"\1"),
        (r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=\S)\*(?![\w*])", 0, r"\1"),
        # Underscores inside a word (snake_case) may sit in an emphasised span.
        (r"(?<!\w)_(?=\S)((?:[^_]|(?<=\w)_(?=\w))+?)(?<=\S)_(?!\w)", 0, r"\1"),
    )
)


@dataclass(slots=True)
class _RawBlock:
    """A block of source lines before inline markup is removed."""

    kind: str  # "heading", "paragraph", "item", "quote"
    lines: list[str] = field(default_factory=list)
    level: int = 0
    prefix: str = ""


def _drop_comments(text: str) -> str:
    """Remove `<!-- ... -->` comments (an unclosed one stays), in one pass."""
    parts: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break  # no comment after this one can close either
        parts.append(text[position:start])
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def strip_inline(text: str) -> str:
    """Plain text from inline Markdown: links keep their text, images and emphasis marks go."""
    text = _ESCAPE_RE.sub(lambda m: chr(_PRIVATE_BASE + ord(m.group(1))), text)
    text = _drop_comments(text)
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    text = "".join(
        chr(ord(c) - _PRIVATE_BASE) if _PRIVATE_BASE <= ord(c) < _PRIVATE_BASE + 128 else c
        for c in text
    )
    return normalise_line(text)


def _split_front_matter(lines: list[str], source: str) -> tuple[str | None, list[str]]:
    """The YAML text (None without front matter) and the body lines."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != "---":
        return None, lines
    for end in range(start + 1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            return "\n".join(lines[start + 1 : end]), lines[end + 1 :]
    raise ArticleParseError(source, "front matter is not closed (no closing '---' line)")


def _text_value(meta: Mapping[str, Any], key: str, source: str) -> str | None:
    """A text front-matter value as collapsed text (a list is joined), None when absent or blank."""
    value = field_value(meta, key, source)
    if value is None:
        return None
    if isinstance(value, list):
        parts = [normalise_line(str(item)) for item in value]
        return ", ".join(part for part in parts if part) or None
    return normalise_line(str(value)) or None


def _first_present(meta: Mapping[str, Any], *keys: str) -> str | None:
    """The first of `keys` that the front matter has, or None."""
    return next((key for key in keys if meta.get(key) is not None), None)


def _date_value(
    meta: Mapping[str, Any], key: str | None, default_tz: tzinfo, source: str
) -> datetime | None:
    """A front-matter date as an aware datetime; naive values are in `default_tz`."""
    if key is None:
        return None
    value = meta[key]
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        parsed = _parse_date_text(value.strip(), default_tz)
    else:
        parsed = None
    if parsed is None:
        raise ArticleParseError(source, f"front matter '{key}' is not a date: {shorten(value)}")
    check_year(parsed, f"front matter '{key}'", shorten(value), source)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return localize(parsed, default_tz)
    return parsed


def _parse_date_text(value: str, default_tz: tzinfo) -> datetime | None:
    """ISO 8601 first, then the byline formats ("March 4, 2022, 2:03 PM")."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parse_when(value, default_tz=default_tz)
    except ImpossibleDateError:
        return None


def _tags_value(meta: Mapping[str, Any], source: str) -> tuple[str, ...]:
    """Tags (list or comma-separated text, plus `categories`) as unique topic slugs."""
    raw: list[str] = []
    for key in ("tags", "categories"):
        value = field_value(meta, key, source)
        if isinstance(value, str):
            raw.extend(value.split(","))
        elif isinstance(value, list):
            raw.extend(str(item) for item in value)
        elif value is not None:
            raw.append(str(value))
    slugs = (normalise_topic(tag) for tag in raw)
    return tuple(dict.fromkeys(slug for slug in slugs if slug))


def _raw_blocks(lines: list[str]) -> list[_RawBlock]:
    """Group body lines into headings, paragraphs, list items and quotes."""
    blocks: list[_RawBlock] = []
    current: _RawBlock | None = None
    in_code = False

    def flush() -> None:
        nonlocal current
        if current is not None and current.lines:
            blocks.append(current)
        current = None

    for line in lines:
        if _FENCE_RE.match(line):
            in_code = not in_code
            flush()
            continue
        if in_code:
            if line.strip():
                current = current or _RawBlock("paragraph")
                current.lines.append(line)
            continue
        if not line.strip():
            flush()
            continue
        setext = _SETEXT_RE.match(line)
        if setext and current is not None and current.kind == "paragraph":
            level = 1 if setext.group(1).startswith("=") else 2
            blocks.append(_RawBlock("heading", current.lines, level=level))
            current = None
            continue
        if _RULE_RE.match(line) or _REF_DEF_RE.match(line):
            flush()
            continue
        atx = _ATX_RE.match(line)
        if atx:
            flush()
            blocks.append(_RawBlock("heading", [atx["text"] or ""], level=len(atx["marks"])))
            continue
        item = _ITEM_RE.match(line)
        if item:
            flush()
            mark = item["mark"]
            prefix = "• " if mark in "-*+" else f"{mark} "
            current = _RawBlock("item", [item["text"]], prefix=prefix)
            continue
        quote = _QUOTE_RE.match(line)
        if quote:
            text = quote["text"]
            while (nested := _QUOTE_RE.match(text)) is not None:
                text = nested["text"]
            if not text.strip():
                flush()
            elif current is not None and current.kind == "quote":
                current.lines.append(text)
            else:
                flush()
                current = _RawBlock("quote", [text])
            continue
        # A plain line continues whatever is open (lazy continuation), else starts a paragraph.
        if current is None:
            current = _RawBlock("paragraph")
        current.lines.append(line)
    flush()
    return blocks


@dataclass(slots=True)
class _Body:
    """The body's blocks plus what was found while reading it."""

    blocks: list[Block] = field(default_factory=list)
    first_h1: str | None = None
    channel_hint: str | None = None


def _read_body(lines: list[str], title: str | None) -> _Body:
    """Blocks without boilerplate; a leading H1 repeating the title is dropped."""
    body = _Body()
    skipping_related_list = False
    for raw in _raw_blocks(lines):
        joined = " ".join(line.strip() for line in raw.lines)
        hint = find_channel_hint(joined)
        if hint is not None and body.channel_hint is None:
            body.channel_hint = hint
        text = strip_inline(joined)
        if not text:
            continue
        if raw.kind == "item" and skipping_related_list:
            continue
        skipping_related_list = False
        if is_boilerplate(text):
            # "Related stories" is followed by a list of links that belong to it.
            skipping_related_list = text.lower().startswith("related")
            continue
        if raw.kind == "heading":
            if raw.level == 1 and body.first_h1 is None:
                body.first_h1 = text
                # Untitled documents take it as title; titled ones often repeat it on top.
                if title is None or (not body.blocks and text.casefold() == title.casefold()):
                    continue
            body.blocks.append(Block(BlockKind.HEADING, text))
        else:
            body.blocks.append(Block(BlockKind.PARAGRAPH, f"{raw.prefix}{text}"))
    return body


def parse_markdown(text: str, *, default_tz: tzinfo, source: str = "<markdown>") -> Article:
    """Parse a Markdown article with optional YAML front matter; raises ArticleParseError."""
    text = text.replace("\ufeff", "")
    if not text.strip():
        raise ArticleParseError(source, "file is empty")
    ensure_textual(text, source)
    yaml_text, body_lines = _split_front_matter(text.splitlines(), source)
    meta = load_front_matter(yaml_text, source) if yaml_text is not None else {}

    title = _text_value(meta, "title", source)
    body = _read_body(body_lines, title)
    if title is None:
        # Without a front-matter title the document's own first "# Heading" names it.
        title = body.first_h1
    if title is None:
        reason = "front matter has no title" if yaml_text is not None else "no title"
        raise ArticleParseError(source, f"{reason} (and no '# ' heading)")
    if not body.blocks:
        raise ArticleParseError(source, "no body text")

    published = _date_value(meta, _first_present(meta, "published", "date"), default_tz, source)
    publish_at = _date_value(meta, _first_present(meta, "publish_at"), default_tz, source)
    url = _text_value(meta, "url", source)
    given_id = _text_value(meta, "id", source)
    if given_id is not None:
        article_id = given_id if ARTICLE_ID_RE.match(given_id) else make_article_id(given_id)
    elif url is not None:
        article_id = make_article_id(url)
    else:
        article_id = headline_id(title, published)

    try:
        options = read_options(meta)
    except OptionError as exc:
        raise ArticleParseError(
            source, f"front matter '{exc.field}' must be {exc.expected}, not {shorten(exc.value)}"
        ) from None
    standfirst_key = _first_present(meta, "standfirst", "description", "subtitle")
    author_key = _first_present(meta, "author", "authors")
    return Article(
        id=article_id,
        title=title,
        blocks=tuple(body.blocks),
        standfirst=_text_value(meta, standfirst_key, source) if standfirst_key else None,
        author=_text_value(meta, author_key, source) if author_key else None,
        published=published,
        tags=_tags_value(meta, source),
        channel_hint=body.channel_hint,
        url=url,
        image=_text_value(meta, "image", source),
        publish_at=publish_at,
        source=source,
        options=options,
    )
