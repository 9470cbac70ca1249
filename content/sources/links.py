"""Readers' links: find the outlet's story a link names, or fetch, extract and store it (archive).

A link is the outlet's when its host is (a subdomain of) one of the outlet's domains: the hosts
of its polled sources and SITE_DOMAINS. A fetched page is stored readable, never posted.
"""

from __future__ import annotations

import asyncio
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from content.extraction import extract
from content.fetching import BlockedAddress, Fetcher, FetchError
from content.ingest import FullText, ingest_entries
from content.models import Article
from content.sources.base import Entry, article_id_for, canonical_url
from content.storage import Repository
from content.summarizing import Summarizer

LINK_SOURCE = "link"
EXTRACT_TIMEOUT_SECONDS = 30.0
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»”’"


class LinkKind(enum.Enum):
    KNOWN = "known"  # a stored story
    FETCHED = "fetched"  # fetched, extracted and stored just now
    OTHER_SITE = "other_site"
    BLOCKED = "blocked"  # leads to a private or local address
    UNREACHABLE = "unreachable"  # the page could not be fetched
    NOT_AN_ARTICLE = "not_an_article"  # fetched, but no story in it


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    kind: LinkKind
    article: Article | None = None


def first_link(text: str) -> str | None:
    """The first http(s) link in a message, without trailing punctuation."""
    found = _URL_RE.search(text)
    return found.group(0).rstrip(_TRAILING) if found else None


def host_of(url: str) -> str | None:
    """The host a URL names, lower-cased, without `www.`."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


def outlet_domains(site_domains: Iterable[str], source_urls: Iterable[str]) -> tuple[str, ...]:
    """The outlet's domains: SITE_DOMAINS and the hosts of its sources, sorted, once each."""
    domains = {d.lower().removeprefix("www.") for d in site_domains if d}
    for url in source_urls:
        host = host_of(url.removeprefix("wordpress:"))
        if host:
            domains.add(host)
    return tuple(sorted(domains))


def is_outlet_link(url: str, domains: Iterable[str]) -> bool:
    host = host_of(url)
    return host is not None and any(host == d or host.endswith("." + d) for d in domains)


async def known_story(repo: Repository, url: str) -> Article | None:
    """The stored story a link names: by its canonical link, or a page fetched before."""
    article = await repo.articles.get(
        article_id_for(explicit_id=None, url=url, title="", published=None)
    )
    if article is not None:
        return article
    seen = await repo.sources.items(LINK_SOURCE, [canonical_url(url)])
    state = seen.get(canonical_url(url))
    if state is not None and state.article_id:
        return await repo.articles.get(state.article_id)
    return None


async def open_link(
    repo: Repository,
    url: str,
    *,
    domains: Iterable[str],
    fetcher: Fetcher,
    now: datetime,
    summarizer: Summarizer,
    default_tz: tzinfo,
) -> LinkOutcome:
    """The story behind a reader's link: known, or fetched and stored as archive."""
    if not is_outlet_link(url, domains):
        return LinkOutcome(LinkKind.OTHER_SITE)
    article = await known_story(repo, url)
    if article is not None:
        return LinkOutcome(LinkKind.KNOWN, article)
    try:
        page = await fetcher.fetch(url)
    except BlockedAddress:
        return LinkOutcome(LinkKind.BLOCKED)
    except FetchError:
        return LinkOutcome(LinkKind.UNREACHABLE)
    try:
        extracted = await asyncio.wait_for(
            asyncio.to_thread(extract, page.body, url=page.url, timezone=default_tz),
            EXTRACT_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        return LinkOutcome(LinkKind.NOT_AN_ARTICLE)
    if not extracted.title or not extracted.paragraphs:
        return LinkOutcome(LinkKind.NOT_AN_ARTICLE)
    entry = Entry(
        source=LINK_SOURCE,
        key=canonical_url(url),  # as the reader gave it: the next paste finds it
        title=extracted.title,
        url=page.url,  # after redirects: the story's own address
        published=extracted.published,
        author=extracted.author,
        paragraphs=extracted.paragraphs,
        image=extracted.image,
    )
    report = await ingest_entries(
        repo,
        [entry],
        now=now,
        summarizer=summarizer,
        default_tz=default_tz,
        archive=True,  # readable, never posted
        full_text=FullText.NEVER,  # the page is already here
    )
    stored = report.new or report.updated
    article = await repo.articles.get(stored[0] if stored else entry.article_id)
    if article is None:
        return LinkOutcome(LinkKind.NOT_AN_ARTICLE)
    return LinkOutcome(LinkKind.FETCHED, article)
