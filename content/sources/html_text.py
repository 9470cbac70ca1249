"""HTML fragments (feed content, CMS bodies) to plain text: one-line text, or body blocks.

Deliberately small: block-level elements split paragraphs, h1-h6 become headings, scripts,
styles, forms and figure captions are dropped, entities are decoded, whitespace collapsed.
Whole-page extraction (boilerplate, navigation) is `content.extraction`'s job, not this one.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from content.models import Block, BlockKind

# Elements whose text is never article text.
_DROPPED = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "math",
        "object",
        "canvas",
        "form",
        "button",
        "select",
        "figcaption",
        "head",
        "title",
    }
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "figure",
        "hr",
        "address",
        "details",
        "summary",
        "nav",
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")


class _Splitter(HTMLParser):
    """Collects text runs split at block boundaries, each marked heading or paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[bool, str]] = []
        self._parts: list[str] = []
        self._dropping: list[str] = []
        self._heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            if tag == self._dropping[-1] and tag not in _VOID:
                self._dropping.append(tag)
            return
        if tag in _DROPPED:
            self._dropping.append(tag)
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _HEADINGS:
            self._flush()
            self._heading += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID or tag not in _DROPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading = max(0, self._heading - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            # Newlines in the source are spaces in HTML; only <br> breaks a line.
            self._parts.append(data.replace("\r", " ").replace("\n", " "))

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        # A <br> splits lines but not paragraphs; runs of <br><br> are paragraph breaks.
        for chunk in re.split(r"\n[ \t\r\f\v\u00a0]*\n", text):
            line = " ".join(chunk.split())
            if line:
                self.blocks.append((self._heading > 0, line))


def _split(html: str) -> _Splitter:
    splitter = _Splitter()
    splitter.feed(html)
    splitter.close()
    return splitter


def html_blocks(html: str) -> tuple[Block, ...]:
    """Body HTML as headings and paragraphs, in reading order."""
    return tuple(
        Block(BlockKind.HEADING if heading else BlockKind.PARAGRAPH, text)
        for heading, text in _split(html).blocks
    )


def html_paragraphs(html: str) -> tuple[str, ...]:
    """Body HTML as plain paragraphs (headings included, as their own paragraphs)."""
    return tuple(text for _, text in _split(html).blocks)


def plain_text(value: str) -> str:
    """One line of plain text from a title or excerpt: markup dropped, entities decoded."""
    # Two rounds: twice-escaped titles (`&amp;#8217;`, `&lt;em&gt;`) are common from CMSs.
    for _ in range(2):
        if _TAG.search(value):
            value = " ".join(text for _, text in _split(value).blocks)
        if not _ENTITY.search(value):
            break
        value = _ENTITY.sub(lambda m: unescape(m.group(0)), value)
    return " ".join(value.split())


def first_image(html: str) -> str | None:
    """The `src` of the first <img> (not a data: URI), entities decoded."""
    # A regex, not a parse: it runs on every feed item without media, and on long bodies.
    for match in _IMG_SRC.finditer(html):
        src = unescape(match.group(1) or match.group(2) or "").strip()
        if src and not src.lower().startswith("data:"):
            return src
    return None
