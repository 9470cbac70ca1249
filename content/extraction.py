"""Article page HTML -> title, author, published time, image and body paragraphs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from content.parsing.boilerplate import is_boilerplate

# Real article pages are well under 2 MB; the cap bounds CPU and memory on hostile input.
MAX_HTML_BYTES = 5_000_000
# The benchmark's pages have at most ~1,600 elements; 20,000 bound a page to a few seconds of CPU.
MAX_ELEMENTS = 20_000
# Under this many characters the fast pass probably missed the body, so trafilatura's slower
# fallbacks (readability, jusText) run too. On the benchmark no page falls under it; a higher
# threshold measured worse (fallbacks pick up more furniture) and slower.
_SHORT_BODY_CHARS = 250
_MAX_JSON_LD_CHARS = 1_000_000
_MAX_FIELD_CHARS = 500

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "techarticle",
        "scholarlyarticle",
        "report",
        "webpage",
    }
)
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Extracted:
    """What an article page says about itself, and its body."""

    title: str | None
    author: str | None
    published: datetime | None
    image: str | None
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The body, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)


def extract(
    html: bytes | str, *, url: str | None = None, timezone: tzinfo | None = None
) -> Extracted:
    """The article in an HTML page; never touches the network (blocking: run it in a thread)."""
    # Text stays text: encoding it again would let a stale <meta charset> decode it wrongly.
    tree = _load(html[:MAX_HTML_BYTES] if isinstance(html, str) else bytes(html[:MAX_HTML_BYTES]))
    if tree is None:
        return Extracted(title=None, author=None, published=None, image=None, paragraphs=())
    base = _base_url(tree, url)
    meta = _Meta.read(tree)
    title = meta.title(tree)
    return Extracted(
        title=title,
        author=meta.author(),
        published=meta.published(timezone),
        image=meta.image(base),
        paragraphs=_without_title(_body(tree, url), title),
    )


def _load(html: bytes | str) -> HtmlElement | None:
    """The parsed page, or None for empty, binary or unparseable input."""
    if not html.strip():
        return None
    try:
        tree = load_html(html)
        # Extraction time grows with the element count: keep the page's first MAX_ELEMENTS or so,
        # cutting its source in proportion (a few rounds at most, as element sizes vary).
        for _ in range(4):
            count = sum(1 for _ in tree.iter()) if isinstance(tree, HtmlElement) else 0
            if count <= MAX_ELEMENTS:
                break
            html = html[: len(html) * MAX_ELEMENTS // count * 9 // 10]
            tree = load_html(html)
    except (ValueError, RecursionError):
        return None
    return tree if isinstance(tree, HtmlElement) else None


def _body(tree: HtmlElement, url: str | None) -> tuple[str, ...]:
    """The body paragraphs: trafilatura's fast pass, its fallbacks when that finds too little."""
    text = _trafilatura(tree, url, fast=True)
    if len(text) < _SHORT_BODY_CHARS:
        fuller = _trafilatura(tree, url, fast=False)
        if len(fuller) > len(text):
            text = fuller
    return tuple(
        line
        for line in (_squash(raw) for raw in text.splitlines())
        if line and not is_boilerplate(line)
    )


def _without_title(paragraphs: tuple[str, ...], title: str | None) -> tuple[str, ...]:
    """The body without a leading copy of the headline, which is not part of the body."""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        return paragraphs[1:]
    return paragraphs


def _trafilatura(tree: HtmlElement, url: str | None, *, fast: bool) -> str:
    """Plain text from trafilatura, settings measured in bench/extraction.py; "" on failure."""
    try:
        text = trafilatura.extract(
            tree,
            url=url,
            fast=fast,
            favor_recall=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
        )
    except (ValueError, RecursionError):
        return ""
    return text or ""


def _squash(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _base_url(tree: HtmlElement, url: str | None) -> str | None:
    """The URL relative links resolve against: <base href> if absolute, else the page's."""
    for href in tree.xpath("//base/@href")[:1]:
        joined = urljoin(url or "", str(href).strip())
        if urlsplit(joined).scheme in ("http", "https"):
            return joined
    return url


class _Meta:
    """Meta tags and the JSON-LD article object of a page."""

    def __init__(self, tags: dict[str, str], ld: dict[str, Any]) -> None:
        self.tags = tags
        self.ld = ld

    @classmethod
    def read(cls, tree: HtmlElement) -> _Meta:
        tags: dict[str, str] = {}
        for node in tree.iter("meta"):
            key = (node.get("property") or node.get("name") or node.get("itemprop") or "").lower()
            value = node.get("content")
            if key and value and value.strip() and key not in tags:
                tags[key] = value.strip()
        return cls(tags, _json_ld_article(tree))

    def title(self, tree: HtmlElement) -> str | None:
        for candidate in (
            self.ld.get("headline"),
            self.tags.get("og:title"),
            self.tags.get("twitter:title"),
            _first_text(tree, "//h1"),
            _first_text(tree, "//title"),
        ):
            text = _clean_field(candidate)
            if text:
                return text
        return None

    def author(self) -> str | None:
        names = [name for name in _names(self.ld.get("author")) if name]
        if names:
            return ", ".join(dict.fromkeys(names))
        for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author"):
            text = _clean_field(self.tags.get(key))
            # article:author is often a profile URL, which is not a name.
            if text and not text.startswith(("http://", "https://", "/")):
                return text
        return None

    def published(self, zone: tzinfo | None) -> datetime | None:
        for candidate in (
            self.ld.get("datePublished"),
            self.tags.get("article:published_time"),
            self.tags.get("og:published_time"),
            self.tags.get("datepublished"),
            self.tags.get("pubdate"),
            self.tags.get("publishdate"),
            self.tags.get("dc.date.issued"),
            self.tags.get("date"),
            self.ld.get("dateCreated"),
        ):
            moment = _parse_time(candidate, zone)
            if moment is not None:
                return moment
        return None

    def image(self, base: str | None) -> str | None:
        for candidate in (
            self.tags.get("og:image"),
            self.tags.get("og:image:url"),
            self.tags.get("og:image:secure_url"),
            self.tags.get("twitter:image"),
            self.tags.get("twitter:image:src"),
            *_image_urls(self.ld.get("image")),
            *_image_urls(self.ld.get("thumbnailUrl")),
        ):
            if not isinstance(candidate, str) or not candidate.strip():
                continue
            absolute = urljoin(base or "", candidate.strip())
            if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).netloc:
                return absolute
        return None


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object of an article type on the page, or {}."""
    for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        raw = script.text or ""
        if len(raw) > _MAX_JSON_LD_CHARS:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        for item in _ld_objects(data, depth=0):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(kind, str) and kind.lower() in _ARTICLE_TYPES for kind in kinds):
                return item
    return {}


def _ld_objects(data: Any, *, depth: int) -> Iterator[dict[str, Any]]:
    """Objects in a JSON-LD document: itself, list items, @graph members (bounded depth)."""
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data[:100]:
            yield from _ld_objects(item, depth=depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _ld_objects(data.get("@graph"), depth=depth + 1)
        yield from _ld_objects(data.get("mainEntity"), depth=depth + 1)


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        text = _clean_field(value)
        if text and not text.startswith(("http://", "https://")):
            yield text
    elif isinstance(value, dict):
        yield from _names(value.get("name"))
    elif isinstance(value, list):
        for item in value[:10]:
            yield from _names(item)


def _image_urls(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        yield from _image_urls(value.get("url") or value.get("contentUrl"))
    elif isinstance(value, list):
        for item in value[:10]:
            yield from _image_urls(item)


def _first_text(tree: HtmlElement, path: str) -> str | None:
    for node in tree.xpath(path)[:1]:
        return str(node.text_content())
    return None


def _clean_field(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = _squash(value)[:_MAX_FIELD_CHARS]
    return text or None


def _parse_time(value: Any, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 time; naive ones count in `zone`, and without a zone they are unknown."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()[:64]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone) if zone is not None else None
    return moment
