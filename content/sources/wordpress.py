"""WordPress sites through their REST API (`/wp-json/wp/v2/posts?_embed=1`) to Entries.

The post shape is WP_REST_Posts_Controller's (WordPress core): `id`, `date`/`date_gmt`,
`modified`/`modified_gmt` (no offset; the `_gmt` ones are UTC), `status`, `link`,
`title`/`content`/`excerpt` as `{"rendered": html}`, and with `_embed` the author, the featured
media and the terms (categories, tags) under `_embedded`. An embedded resource the site will not
show (a private author or image) comes as an error object (`{"code": ...}`), skipped here.
Pure and synchronous; fetching is the poller's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from content.parsing.text import localize
from content.sources.base import Entry, canonical_url
from content.sources.html_text import first_image, plain_text

PER_PAGE_MAX = 100  # WordPress refuses a larger per_page
# Categories every WordPress site has by default: not a topic.
_DEFAULT_CATEGORIES = frozenset({"uncategorized"})


class WordPressError(ValueError):
    """The answer is not a page of WordPress posts."""


def site_root(site: str) -> str:
    """The site's address with one trailing slash (`https://wp.example/`)."""
    parts = urlsplit(site.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WordPressError(f"not a site address: {site[:200]}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"


def posts_url(
    site: str, *, page: int, per_page: int = 20, modified_after: datetime | None = None
) -> str:
    """The REST URL of one page of posts, most recently modified first, with embeds."""
    query: dict[str, str] = {
        "_embed": "1",
        "orderby": "modified",
        "order": "desc",
        "per_page": str(max(1, min(per_page, PER_PAGE_MAX))),
        "page": str(max(1, page)),
    }
    if modified_after is not None:
        # With an explicit offset: without one WordPress reads it in the site's own zone.
        when = modified_after.astimezone(UTC).replace(microsecond=0)
        query["modified_after"] = when.isoformat()
    return urljoin(site_root(site), "wp-json/wp/v2/posts") + "?" + urlencode(query)


def parse_posts(data: bytes, *, site: str, default_tz: tzinfo, source: str) -> list[Entry]:
    """One page of `/wp/v2/posts` as Entries (`default_tz` reads a post without `date_gmt`)."""
    try:
        posts = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        first = (str(exc).splitlines() or ["unreadable"])[0][:200]
        raise WordPressError(f"not WordPress posts: {first}") from None
    if isinstance(posts, dict) and "code" in posts:
        raise WordPressError(f"WordPress answered {posts.get('code')}: {posts.get('message')}")
    if not isinstance(posts, list):
        raise WordPressError("not WordPress posts: not a list")
    root = site_root(site)
    return [
        entry
        for post in posts
        if isinstance(post, dict)
        and (entry := _entry(post, root=root, default_tz=default_tz, source=source)) is not None
    ]


def _entry(post: Mapping[str, Any], *, root: str, default_tz: tzinfo, source: str) -> Entry | None:
    post_id = post.get("id")
    if not isinstance(post_id, int | str) or str(post_id) == "":
        return None
    link = _str(post.get("link"))
    url = canonical_url(urljoin(root, link)) if link else None
    content = _rendered(post.get("content"))
    excerpt = _rendered(post.get("excerpt"))
    title = plain_text(_rendered(post.get("title")) or "")
    if not title:
        title = plain_text(excerpt or content or "")[:120].strip()
    published = _time(post.get("date_gmt"), UTC) or _time(post.get("date"), default_tz)
    updated = _time(post.get("modified_gmt"), UTC) or _time(post.get("modified"), default_tz)
    raw_embedded = post.get("_embedded")
    embedded: Mapping[str, Any] = raw_embedded if isinstance(raw_embedded, dict) else {}
    status = post.get("status", "publish")
    return Entry(
        source=source,
        key=str(post_id),
        title=title,
        url=url,
        published=published,
        updated=updated,
        author=_author(embedded),
        body_html=content,
        summary_html=excerpt,
        tags=_terms(embedded),
        image=_featured_image(embedded) or _absolute_image(content, url or root),
        withdrawn=status != "publish",
    )


def _rendered(value: object) -> str | None:
    if isinstance(value, dict):
        if value.get("protected"):
            return None  # a password-protected post: its text is not public
        value = value.get("rendered")
    return value if isinstance(value, str) and value.strip() else None


def _time(value: object, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return localize(when, zone) if when.tzinfo is None else when


def _resources(embedded: Mapping[str, Any], rel: str) -> list[Mapping[str, Any]]:
    """Embedded resources under `rel`, without the error objects WordPress puts in their place."""
    found = embedded.get(rel)
    if not isinstance(found, list):
        return []
    return [item for item in found if isinstance(item, dict) and "code" not in item]


def _author(embedded: Mapping[str, Any]) -> str | None:
    names = [plain_text(_str(a.get("name")) or "") for a in _resources(embedded, "author")]
    return ", ".join(name for name in names if name) or None


def _terms(embedded: Mapping[str, Any]) -> tuple[str, ...]:
    """Category and tag names, categories first, without WordPress's default category."""
    seen: dict[str, str] = {}
    groups = embedded.get("wp:term")
    for group in groups if isinstance(groups, list) else []:
        for term in group if isinstance(group, list) else []:
            if not isinstance(term, dict) or term.get("slug") in _DEFAULT_CATEGORIES:
                continue
            if term.get("taxonomy") not in ("category", "post_tag"):
                continue
            name = plain_text(_str(term.get("name")) or "")
            if name and name.lower() not in seen:
                seen[name.lower()] = name
    return tuple(seen.values())


def _featured_image(embedded: Mapping[str, Any]) -> str | None:
    for media in _resources(embedded, "wp:featuredmedia"):
        source_url = _str(media.get("source_url"))
        if source_url and media.get("media_type", "image") == "image":
            return source_url
    return None


def _absolute_image(html: str | None, base: str) -> str | None:
    src = first_image(html) if html else None
    return urljoin(base, src) if src else None


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
