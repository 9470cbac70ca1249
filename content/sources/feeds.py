"""Feeds (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.0/1.1) to Entries, and feed autodiscovery.

feedparser reads the XML formats; what it gets wrong on real news feeds is fixed here:
- the encoding is decided before feedparser sees the bytes (BOM, then the HTTP charset, then the
  XML declaration, each only when the bytes really decode that way; else UTF-8 when valid;
  else detected), so undeclared KOI8-R/GB2312/Shift_JIS/EUC-KR/Latin-1 and a file declaring
  UTF-16 that is UTF-8 read right;
- dates are parsed from the raw text: markup stripped, Portuguese names understood, and a time
  without an offset is the source's local time (feedparser would take it as UTC);
- titles are plain text (markup dropped, entities decoded, twice-escaped ones too);
- links are absolute (xml:base, then the feed URL) and lose tracking parameters;
- a truncated CDATA section is closed so the tolerant parser keeps the item.
Pure and synchronous: callers run it in a thread.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import feedparser

from content.parsing.text import localize
from content.sources.base import Entry, canonical_url, fallback_key
from content.sources.html_text import first_image, plain_text

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
_DISCOVERABLE = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
_MIN_YEAR, _MAX_YEAR = 1990, 2100
_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_SINGLE_BYTE_LATIN = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "cp1252"})


class FeedError(ValueError):
    """The bytes are not a feed at all (not even one a tolerant parser can read)."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's title, site link, `<ttl>` in seconds, and its entries in document order."""

    title: str
    link: str | None = None
    ttl: float | None = None
    entries: list[Entry] = field(default_factory=list)


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    default_tz: tzinfo,
    source: str,
) -> ParsedFeed:
    """Parse a feed's bytes; `content_type` is the HTTP header value (charset included)."""
    media, charset = _media_and_charset(content_type)
    start = body.lstrip().removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if media in ("application/feed+json", "application/json") or start == b"{":
        return _parse_json_feed(body, url=url, default_tz=default_tz, source=source)
    text = decode_feed(body, charset)
    data = _close_truncated(_declare_utf8(text)).encode("utf-8")
    parsed = feedparser.parse(
        io.BytesIO(data),  # never a str: feedparser would treat one as a URL or a path
        # No Content-Location: feedparser would resolve guids against it ("item-42" becoming
        # "https://site/item-42"), which makes keys and links up. Links are made absolute here.
        response_headers={"content-type": "application/xml; charset=utf-8"},
    )
    feed = parsed.get("feed", {})
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedError("not a feed: no RSS, Atom or JSON Feed found")
    entries = [
        entry
        for item in parsed.get("entries", [])
        if (entry := _entry(item, url=url, default_tz=default_tz, source=source)) is not None
    ]
    return ParsedFeed(
        title=plain_text(feed.get("title") or ""),
        link=_absolute(feed.get("link"), url),
        ttl=_ttl(feed.get("ttl")),
        entries=entries,
    )


# Encodings.


def decode_feed(body: bytes, charset: str | None) -> str:
    """The feed's text, from the encoding its bytes really have (see the module docstring)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            decoded = _try_decode(body, encoding)
            if decoded is not None:
                return decoded.lstrip("\ufeff")
    utf8 = _try_decode(body, "utf-8")
    latin = {_lookup(name) for name in _SINGLE_BYTE_LATIN}
    for declared in (charset, _xml_declared_encoding(body)):
        if not declared:
            continue
        # A UTF-8 body labelled Latin-1/ASCII is a server default, not the author's choice:
        # valid multi-byte UTF-8 is almost never meant as Latin-1 text.
        if utf8 is not None and not body.isascii() and _lookup(declared) in latin:
            continue
        decoded = _try_decode(body, declared)
        if decoded is not None:
            return decoded
    if utf8 is not None:
        return utf8
    best = charset_normalizer.from_bytes(body).best()
    if best is not None and best.encoding:
        return str(best)
    return body.decode("windows-1252", errors="replace")


def _lookup(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try_decode(body: bytes, encoding: str) -> str | None:
    name = _lookup(encoding)
    if name is None:
        return None
    # Without a BOM, real UTF-16 XML starts "<\0" or "\0<"; anything else only claims it.
    if (
        name.startswith(("utf-16", "utf-32"))
        and not body.startswith(_BOMS)
        and body[:2] not in (b"<\x00", b"\x00<")
    ):
        return None
    try:
        return body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_DECL_TEXT = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']", re.I)


def _xml_declared_encoding(body: bytes) -> str | None:
    match = _XML_DECL.match(body[:200])
    return match.group(1).decode("ascii") if match else None


def _declare_utf8(text: str) -> str:
    """The text with its XML declaration's encoding removed (it is UTF-8 from here on)."""
    return _XML_DECL_TEXT.sub(r"\1", text, count=1)


_ROOT_ENDS = ("</rss>", "</feed>", "</rdf:RDF>", "</RDF>")
_MARKUP = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<[?!][^>]*>|<(/?)([\w:.-]+)[^>]*?(/?)>", re.S)


def _close_truncated(text: str) -> str:
    """A feed cut short (inside a CDATA section or an item) gets what is open closed."""
    start = text.rfind("<![CDATA[")
    if start != -1 and text.find("]]>", start) == -1:
        text += "]]>"
    elif text.rstrip().endswith(_ROOT_ENDS):
        return text  # the usual case: whole, so no scan
    open_elements: list[str] = []
    for match in _MARKUP.finditer(text):
        closing, name, empty = match.groups()
        if name is None or empty:
            continue
        if not closing:
            open_elements.append(name)
        elif name in open_elements:
            while open_elements and open_elements.pop() != name:
                pass
    if not open_elements:
        return text
    return text + "".join(f"</{name}>" for name in reversed(open_elements))


def _media_and_charset(content_type: str | None) -> tuple[str | None, str | None]:
    if not content_type:
        return None, None
    media, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media.strip().lower() or None, charset


def _reason(exc: object) -> str:
    text = str(exc) if exc is not None else "unreadable"
    return (text.splitlines() or ["unreadable"])[0][:200]


# Entries.


def _entry(item: dict[str, Any], *, url: str, default_tz: tzinfo, source: str) -> Entry | None:
    link = _item_link(item, url)
    title = plain_text(item.get("title") or "")
    body_html = _content_html(item)
    summary_html = item.get("summary") or None
    if summary_html and body_html and summary_html.strip() == body_html.strip():
        summary_html = None
    published = parse_date(dict.get(item, "published") or dict.get(item, "created"), default_tz)
    # dict.get: feedparser's own `get("updated")` answers the published date when none is given.
    updated = parse_date(dict.get(item, "updated"), default_tz)
    if published is None:
        published = updated or _struct_date(item.get("published_parsed"))
    if not title:
        title = plain_text(summary_html or body_html or "")[:120].strip()
    if not title and not link:
        return None
    guid = (item.get("id") or "").strip()
    key = guid or (canonical_url(link) if link else fallback_key(title, published))
    return Entry(
        source=source,
        key=key,
        title=title,
        url=canonical_url(link) if link else None,
        published=published,
        updated=updated,
        author=_author(item),
        body_html=body_html,
        summary_html=summary_html,
        tags=_tags(item.get("tags") or ()),
        image=_image(item, body_html or summary_html, link or url),
    )


def _item_link(item: Mapping[str, Any], feed_url: str) -> str | None:
    candidates = [
        entry.get("href")
        for entry in item.get("links") or ()
        if entry.get("rel", "alternate") == "alternate"
    ]
    candidates.append(item.get("link"))
    guid = item.get("id") or ""
    if guid.startswith(("http://", "https://")):  # a guid that is a permalink, when no link
        candidates.append(guid)
    for candidate in candidates:
        absolute = _absolute(candidate, feed_url)
        if absolute:
            return absolute
    return None


def _absolute(link: str | None, base: str) -> str | None:
    if not link or not link.strip():
        return None
    absolute = urljoin(base, link.strip())
    parts = urlsplit(absolute)
    return absolute if parts.scheme in ("http", "https") and parts.netloc else None


def _content_html(item: Mapping[str, Any]) -> str | None:
    contents = item.get("content") or ()
    html = [c.get("value", "") for c in contents if "html" in (c.get("type") or "")]
    text = [c.get("value", "") for c in contents if "html" not in (c.get("type") or "")]
    body = next((value for value in html + text if value and value.strip()), None)
    return body


def _author(item: Mapping[str, Any]) -> str | None:
    detail = item.get("author_detail") or {}
    name = detail.get("name") or item.get("author")
    return plain_text(name) or None if name else None


def _tags(tags: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return _unique(plain_text(tag.get("label") or tag.get("term") or "") for tag in tags)


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    """Non-empty names, the first spelling of each (case-insensitive), in order."""
    seen: dict[str, str] = {}
    for name in names:
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return tuple(seen.values())


def _image(item: Mapping[str, Any], html: str | None, base: str) -> str | None:
    for media in item.get("media_content") or ():
        kind = (media.get("type") or "") + (media.get("medium") or "")
        if media.get("url") and (not kind or "image" in kind):
            return _absolute(media["url"], base)
    for thumb in item.get("media_thumbnail") or ():
        if thumb.get("url"):
            return _absolute(thumb["url"], base)
    for enclosure in item.get("enclosures") or ():
        if (enclosure.get("type") or "").startswith("image/") and enclosure.get("href"):
            return _absolute(enclosure["href"], base)
    if html:
        return _absolute(first_image(html), base)
    return None


def _ttl(value: object) -> float | None:
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


# Dates.

_PORTUGUESE_MONTHS = {
    "janeiro": "Jan",
    "fevereiro": "Feb",
    "março": "Mar",
    "marco": "Mar",
    "abril": "Apr",
    "maio": "May",
    "junho": "Jun",
    "julho": "Jul",
    "agosto": "Aug",
    "setembro": "Sep",
    "outubro": "Oct",
    "novembro": "Nov",
    "dezembro": "Dec",
    "fev": "Feb",
    "abr": "Apr",
    "mai": "May",
    "ago": "Aug",
    "set": "Sep",
    "out": "Oct",
    "dez": "Dec",
}
_PORTUGUESE_DAYS = re.compile(
    r"\b(?:segunda|terça|terca|quarta|quinta|sexta)(?:-feira)?\b|\b(?:sábado|sabado|domingo)\b"
    r"|\b(?:seg|ter|qua|qui|sex|sáb|sab|dom)\b",
    re.I,
)
_WORD = re.compile(r"[^\W\d_]+")
_ISO_WITH_SPACE = re.compile(
    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?\s?([+-]\d{2}:?\d{2}|Z)?"
)


def parse_date(value: str | None, default_tz: tzinfo) -> datetime | None:
    """A feed date (RFC 822, ISO 8601, Portuguese names, markup inside) as an aware datetime."""
    if not value:
        return None
    text = plain_text(value)
    if not text:
        return None
    for attempt in (text, _english(text)):
        when = _rfc822(attempt) or _iso(attempt)
        if when is not None:
            if when.tzinfo is None:
                when = localize(when, default_tz)
            return when if _MIN_YEAR <= when.year <= _MAX_YEAR else None
    return None


def _english(text: str) -> str:
    """Portuguese day and month names made English, and `de` connectors dropped."""
    text = _PORTUGUESE_DAYS.sub("", text)
    text = re.sub(r"\bde\b|\bàs\b|\bas\b", " ", text, flags=re.I)
    text = _WORD.sub(lambda m: _PORTUGUESE_MONTHS.get(m.group(0).lower(), m.group(0)), text)
    return " ".join(text.replace(",", " ").split())


def _rfc822(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons
        return None
    return when


def _iso(text: str) -> datetime | None:
    candidate = text.strip()
    if _ISO_WITH_SPACE.fullmatch(candidate):
        candidate = candidate.replace(" ", "T", 1)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _struct_date(value: object) -> datetime | None:
    """feedparser's own reading (UTC), for the formats it knows and this module does not."""
    if value is None:
        return None
    try:
        when = datetime(*value[:6], tzinfo=UTC)  # type: ignore[index, misc]
    except (TypeError, ValueError):
        return None
    return when if _MIN_YEAR <= when.year <= _MAX_YEAR else None


# JSON Feed.


def _parse_json_feed(body: bytes, *, url: str, default_tz: tzinfo, source: str) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"not a JSON feed: {_reason(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError("not a JSON feed: no items list")
    home = _absolute(_str(data.get("home_page_url")), url)
    entries = []
    for item in data["items"]:
        if isinstance(item, dict):
            entry = _json_entry(item, url=url, default_tz=default_tz, source=source)
            if entry is not None:
                entries.append(entry)
    return ParsedFeed(title=plain_text(_str(data.get("title")) or ""), link=home, entries=entries)


def _json_entry(
    item: Mapping[str, Any], *, url: str, default_tz: tzinfo, source: str
) -> Entry | None:
    link = _absolute(_str(item.get("url")) or _str(item.get("external_url")), url)
    body_html = _str(item.get("content_html"))
    text = _str(item.get("content_text"))
    paragraphs = (
        tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())
        if text and not body_html
        else ()
    )
    summary = _str(item.get("summary"))
    title = plain_text(_str(item.get("title")) or "")
    published = parse_date(_str(item.get("date_published")), default_tz)
    updated = parse_date(_str(item.get("date_modified")), default_tz)
    if not title:
        title = plain_text(summary or body_html or text or "")[:120].strip()
    if not title and not link:
        return None
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, str | int) else ""
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [plain_text(a["name"]) for a in authors if isinstance(a, dict) and _str(a.get("name"))]
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    tags = tuple(plain_text(t) for t in item.get("tags") or () if isinstance(t, str) and t.strip())
    return Entry(
        source=source,
        key=guid or (canonical_url(link) if link else fallback_key(title, published)),
        title=title,
        url=canonical_url(link) if link else None,
        published=published or updated,
        updated=updated,
        author=", ".join(names) or None,
        body_html=body_html,
        summary_html=summary,
        paragraphs=paragraphs,
        tags=_unique(tags),
        image=_absolute(image, link or url) if image else _json_first_image(body_html, link, url),
    )


def _json_first_image(html: str | None, link: str | None, url: str) -> str | None:
    return _absolute(first_image(html), link or url) if html else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# Autodiscovery.


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            kind = values.get("type", "").split(";")[0].strip().lower()
            href = values.get("href", "").strip()
            # WordPress announces each page's REST resource as an application/json alternate.
            if "/wp-json/" in href or "rest_route=" in href:
                return
            if "alternate" in rels and kind in _DISCOVERABLE and href:
                self.feeds.append(href)


def discover_feeds(html: bytes | str, base_url: str) -> list[str]:
    """Feed URLs a page announces with `<link rel="alternate" type=...>`, absolute, in order."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    links = _Links()
    links.feed(html)
    links.close()
    base = urljoin(base_url, links.base) if links.base else base_url
    found: list[str] = []
    for href in links.feeds:
        absolute = _absolute(href, base)
        if absolute and absolute not in found:
            found.append(absolute)
    return found
