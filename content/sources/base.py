"""What every source yields: an Entry (one story as the source gives it) and the rules naming it.

The folder, feeds, WordPress sites, CMS pushes and readers' links all turn what they read into
Entries; `content.ingest` turns Entries into stored Articles (one path: dedupe, enrich, store,
edit what was posted). No I/O here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from content.models import PublishOptions, make_article_id

# Query parameters that only say where a click came from: never part of a story's identity.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "traffic_source",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "cmpid",
        "ito",
        "ocid",
        "spm",
    }
)


def canonical_url(url: str) -> str:
    """The link without tracking parameters or fragment, scheme and host lower-cased."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMETERS and not k.lower().startswith("utm_")
    ]
    netloc = parts.netloc.lower()
    if parts.scheme.lower() == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    elif parts.scheme.lower() == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def article_id_for(
    *, explicit_id: str | None, url: str | None, title: str, published: datetime | None
) -> str:
    """The story's id, the same whichever source reached it: given id, else link, else headline."""
    if explicit_id:
        return explicit_id
    if url:
        return make_article_id(canonical_url(url))
    stamp = published.isoformat() if published else ""
    return make_article_id(f"{title}|{stamp}")


def fallback_key(title: str, published: datetime | None) -> str:
    """A source key for an item with neither guid nor link: a hash of its title and date."""
    stamp = published.isoformat() if published else ""
    return "h:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Entry:
    """One story as a source gives it, before it becomes an Article.

    `source` names the source ("feed:<url>", "wordpress:<url>", "push", "ghost", "link");
    `key` is stable within it (guid, else canonical link, else `fallback_key`). Times are
    timezone-aware. `body_html` is the full text when the source carries it; `summary_html`
    an excerpt (then the page may be fetched for the full text).
    """

    source: str
    key: str
    title: str
    url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    standfirst: str | None = None
    body_html: str | None = None
    summary_html: str | None = None
    paragraphs: tuple[str, ...] = ()  # when the body is already plain paragraphs
    tags: tuple[str, ...] = ()
    image: str | None = None
    publish_at: datetime | None = None
    withdrawn: bool = False
    explicit_id: str | None = None  # an id the CMS gave (push `id`)
    options: PublishOptions = field(default_factory=PublishOptions)  # push fields, as asked

    @property
    def article_id(self) -> str:
        return article_id_for(
            explicit_id=self.explicit_id, url=self.url, title=self.title, published=self.published
        )

    @property
    def has_full_text(self) -> bool:
        return bool(self.paragraphs or (self.body_html and self.body_html.strip()))
