"""Pushed JSON -> Entry: Newswire's own article format and Ghost's webhook payload (pure).

Ghost's payload is `{"post": {"current": {...}, "previous": {...}}}`, built by
ghost/core/core/server/services/webhooks/serialize.js (TryGhost/Ghost): `current` is the post as
the Admin API serializes it (html and plaintext formats, tags and authors included), or `{}` when
the post no longer exists; `previous` holds only the fields that changed. The event name is not
in the body, so it is read from the post: `current` empty is `post.deleted`; a status other than
`published` is `post.unpublished`; otherwise `post.published` or `post.published.edited` (the
same thing to Newswire: ingest stores a new story or updates the known one).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from content.models import is_article_id
from content.parsing.options import OptionError, read_options
from content.sources.base import Entry, canonical_url, fallback_key

PUSH_SOURCE = "push"
GHOST_SOURCE = "ghost"
# A body that holds a tag is HTML; anything else is plain text, paragraphs split by blank lines.
_HTML_TAG = re.compile(
    r"<(p|div|br|h[1-6]|ul|ol|li|blockquote|figure|img|a|span|strong|em|b|i)\b", re.I
)
_BLANK_LINES = re.compile(r"\n\s*\n")
_MAX_TAGS = 50


class PayloadError(ValueError):
    """A pushed body that cannot become a story; the message names the field."""


class Action(enum.Enum):
    PUBLISH = "publish"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Pushed:
    """What a push asks for: the entry and what to do with it."""

    entry: Entry
    action: Action


def load_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("body: not valid JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("body: expected a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(f"{name}: required")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{name}: expected a string")
    return value.strip()


def _web_address(data: dict[str, Any], name: str) -> str | None:
    value = _text(data, name)
    if value is not None and not re.match(r"^https?://[^\s/]+", value, re.I):
        raise PayloadError(f"{name}: expected an http(s) URL")
    return value


def _time(data: dict[str, Any], name: str, zone: tzinfo) -> datetime | None:
    value = _text(data, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{name}: expected an ISO 8601 time") from None
    if not 1990 <= moment.year <= 2100:
        raise PayloadError(f"{name}: year out of range (1990-2100)")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _tags(value: Any, name: str = "tags") -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise PayloadError(f"{name}: expected a list of strings")
    tags = tuple(t.strip() for t in value if t.strip())
    return tags[:_MAX_TAGS]


def _body(text: str) -> tuple[str | None, tuple[str, ...]]:
    """(body_html, paragraphs): HTML as it is, plain text split into paragraphs."""
    if _HTML_TAG.search(text):
        return text, ()
    parts = _BLANK_LINES.split(text.replace("\r\n", "\n"))
    return None, tuple(p.strip() for p in parts if p.strip())


def push_entry(data: dict[str, Any], *, zone: tzinfo) -> Pushed:
    """A `POST /push/articles` body as an Entry; PayloadError names the bad field."""
    action_name = _text(data, "action") or Action.PUBLISH.value
    try:
        action = Action(action_name.lower())
    except ValueError:
        raise PayloadError("action: expected publish, update or delete") from None
    explicit_id = _text(data, "id")
    if explicit_id is not None and not is_article_id(explicit_id):
        raise PayloadError("id: 1 to 40 letters, digits, '_' or '-'")
    url = _web_address(data, "url")
    deleting = action is Action.DELETE
    if deleting and explicit_id is None and url is None:
        raise PayloadError("id: required (or url) to delete")
    title = _text(data, "title", required=not deleting) or ""
    body = _text(data, "body", required=not deleting)
    published = _time(data, "published", zone)
    body_html, paragraphs = _body(body) if body else (None, ())
    key = explicit_id or (canonical_url(url) if url else fallback_key(title, published))
    try:
        # The front matter's fields, by the same names (`status: withdrawn` included).
        options = read_options(data)
    except OptionError as exc:
        raise PayloadError(str(exc)) from None
    entry = Entry(
        source=PUSH_SOURCE,
        key=key,
        title=title,
        url=url,
        published=published,
        author=_text(data, "author"),
        standfirst=_text(data, "standfirst"),
        body_html=body_html,
        paragraphs=paragraphs,
        tags=_tags(data.get("tags")),
        image=_web_address(data, "image"),
        publish_at=_time(data, "publish_at", zone),
        withdrawn=deleting,
        explicit_id=explicit_id,
        options=options,
    )
    return Pushed(entry, action)


def _object(data: Any, name: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PayloadError(f"{name}: expected an object")
    return data


def ghost_entry(data: dict[str, Any], *, zone: tzinfo) -> Pushed:
    """A Ghost post webhook body as an Entry (see the module docstring for the events)."""
    post = _object(data.get("post"), "post")
    if not post:
        raise PayloadError("post: required (a Ghost post webhook)")
    current = _object(post.get("current"), "post.current")
    previous = _object(post.get("previous"), "post.previous")
    if not current:
        action = Action.DELETE
    elif current.get("status", "published") != "published":
        action = Action.DELETE  # unpublished: withdrawn, as a deletion is
    else:
        action = Action.PUBLISH
    # A post leaving "published" gets a preview URL (/p/<uuid>/): the story is at the old one.
    fields = {**current, **previous} if action is Action.DELETE else current
    ghost_id = _text(fields, "id") or _text(fields, "uuid")
    url = _web_address(fields, "url")
    if ghost_id is None and url is None:
        raise PayloadError("post.current.id: required (or url)")
    title = _text(fields, "title", required=action is Action.PUBLISH) or ""
    html = _text(fields, "html")
    plaintext = _text(fields, "plaintext")
    if action is Action.PUBLISH and html is None and plaintext is None:
        raise PayloadError("post.current.html: required")
    author = _object(fields.get("primary_author"), "post.current.primary_author")
    tags = [
        tag.get("name")
        for tag in fields.get("tags") or []
        # Internal tags (#name) are the editors' housekeeping, not topics.
        if isinstance(tag, dict)
        and isinstance(tag.get("name"), str)
        and not tag["name"].startswith("#")
    ]
    published = _time(fields, "published_at", zone)
    entry = Entry(
        source=GHOST_SOURCE,
        key=ghost_id or canonical_url(url or ""),
        title=title,
        url=url,
        published=published,
        updated=_time(fields, "updated_at", zone),
        author=_text(author, "name"),
        standfirst=_text(fields, "custom_excerpt"),
        body_html=html,
        paragraphs=() if html else _body(plaintext or "")[1],
        summary_html=_text(fields, "excerpt"),
        tags=_tags(tags, "post.current.tags"),
        image=_web_address(fields, "feature_image"),
        withdrawn=action is Action.DELETE,
        # Without a link, Ghost's own id names the story (24 hex digits: a valid article id).
        explicit_id=ghost_id if url is None and ghost_id and is_article_id(ghost_id) else None,
    )
    return Pushed(entry, action)
