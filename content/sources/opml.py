"""OPML 2.0 lists of sources: read one safely (no entity expansion), write the registered ones.

Reading refuses any DTD entity declaration and any external entity, so a "billion laughs" or an
XXE file fails at once instead of expanding (what defusedxml does, with the standard parser).
Every `<outline>` with an `xmlUrl` is a source, at any depth (folders are outlines too).

Writing: a feed is `type="rss"` with its `xmlUrl` (where it is fetched now) and its title. A
WordPress site is read through its REST API, which no other reader knows: it is written as the
site's own feed (`<site>/feed/`, which every WordPress serves) with `htmlUrl` the site, so other
readers can follow it, and `newswire:source="wordpress:<site>"` so an import here reads it
through the API again. Every outline carries `newswire:source` (its registered spec): an export
imported back is the same list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from content.storage import PolledSource, SourceKind, SourceState

NAMESPACE = "urn:newswire:opml"
_SOURCE_ATTR = f"{NAMESPACE} source"
MAX_OPML_BYTES = 5_000_000


class OpmlError(ValueError):
    """The file is not OPML this reader accepts; the message is one line."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One source of an OPML file: what to register, and its title if given."""

    spec: str
    title: str | None = None


def _refuse_entities(*_args: object) -> NoReturn:
    raise OpmlError("entity declarations are not allowed in OPML (refused, not expanded)")


def _refuse_external(*_args: object) -> NoReturn:
    raise OpmlError("external entities are not allowed in OPML (refused, not read)")


def parse_opml(data: bytes) -> list[Outline]:
    """The sources an OPML file lists, in document order; OpmlError when it is not OPML."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"over {MAX_OPML_BYTES:,} bytes: not read")
    # pyexpat itself (ElementTree's C parser hides its handlers): names are "namespace local".
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_external
    path: list[str] = []
    outlines: list[Outline] = []
    seen_body = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal seen_body
        if not path and name != "opml":
            raise OpmlError(f"not OPML: the root element is <{name.split(' ')[-1]}>")
        path.append(name)
        if path[:2] == ["opml", "body"]:
            seen_body = True
            if name == "outline":
                spec = (attrs.get(_SOURCE_ATTR) or attrs.get("xmlUrl") or "").strip()
                if spec:  # else a folder, or a link that is not a feed
                    title = (attrs.get("title") or attrs.get("text") or "").strip() or None
                    outlines.append(Outline(spec, title))

    def end(_name: str) -> None:
        path.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(
            f"not well-formed XML: {expat.errors.messages[exc.code]} (line {exc.lineno})"
        ) from None
    if not seen_body:
        raise OpmlError("not OPML: no <body>")
    return outlines


def write_opml(sources: Iterable[PolledSource], *, now: datetime, title: str) -> str:
    """The active sources as an OPML 2.0 document (disabled ones are left out)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:newswire="{NAMESPACE}">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
        f"    <dateCreated>{_text(format_datetime(now))}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for source in sources:
        if source.state is not SourceState.ACTIVE:
            continue
        attrs: dict[str, str] = {"type": "rss", "text": source.title or source.url}
        if source.title:
            attrs["title"] = source.title
        if source.kind is SourceKind.WORDPRESS:
            attrs["xmlUrl"] = source.url + "feed/"
            attrs["htmlUrl"] = source.url
        else:
            attrs["xmlUrl"] = source.url
        attrs["newswire:source"] = (
            source.spec if source.kind is SourceKind.FEED else f"wordpress:{source.url}"
        )
        rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attrs.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return escape(value)
