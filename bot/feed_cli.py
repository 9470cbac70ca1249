"""`newswire feed`: print a parsed feed (a URL, fetched, or a saved file) as text or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.logs import cli_logger
from content.sources.feeds import ParsedFeed
from content.sources.html_text import plain_text

MAX_FEED_BYTES = 5_000_000


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the `feed` subcommand."""
    p = subparsers.add_parser(
        "feed",
        help="print the entries of a feed URL or file",
        description="Parse an RSS, Atom or JSON feed and print its entries. A URL reaches"
        " loopback or private addresses only with ALLOW_PRIVATE_URLS=true.",
    )
    p.add_argument("source", metavar="URL-OR-FILE")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


class _SourceError(Exception):
    """The feed could not be read or parsed; the message is one line."""


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the process exit code."""
    from content.sources.feeds import FeedError, parse_feed

    source = str(args.source)
    try:
        zone, allow_private = _settings()
        if urlsplit(source).scheme in ("http", "https"):
            body, url, content_type = asyncio.run(_download(source, allow_private=allow_private))
        else:
            body, url, content_type = _read(Path(source)), Path(source).resolve().as_uri(), None
        feed = parse_feed(
            body, url=url, content_type=content_type, default_tz=zone, source=f"feed:{url}"
        )
    except (_SourceError, FeedError) as exc:
        cli_logger().error("newswire: %s: %s", source, exc)
        return 1
    print(_as_json(feed) if args.json else _as_text(feed))
    return 0


def _settings() -> tuple[tzinfo, bool]:
    """The time zone for naive feed times, and whether private addresses may be fetched."""
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _SourceError(f"bad setting: {exc}") from None
    allow = getattr(settings, "allow_private_urls", None)
    if allow is None:  # the setting is not there yet: read the variable itself
        allow = os.environ.get("ALLOW_PRIVATE_URLS", "").strip().lower() in ("1", "true", "yes")
    zone = getattr(settings, "zone", None)
    return (zone if isinstance(zone, tzinfo) else ZoneInfo(settings.timezone)), bool(allow)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FEED_BYTES + 1)
    except OSError as exc:
        raise _SourceError(exc.strerror or "cannot read the file") from exc
    if len(data) > MAX_FEED_BYTES:
        raise _SourceError(f"over {MAX_FEED_BYTES:,} bytes: not read")
    return data


async def _download(url: str, *, allow_private: bool) -> tuple[bytes, str, str | None]:
    from content.fetching import Fetcher, FetchError, default_user_agent
    from content.sources.feeds import FEED_ACCEPT

    fetcher = Fetcher(
        allow_private=allow_private, user_agent=default_user_agent(), max_bytes=MAX_FEED_BYTES
    )
    try:
        result = await fetcher.fetch(url, accept=FEED_ACCEPT)
    except FetchError as exc:
        raise _SourceError(exc.reason) from exc
    finally:
        await fetcher.close()
    return result.body, result.url, result.headers.get("content-type")


def _as_json(feed: ParsedFeed) -> str:
    entries = [
        {
            "id": entry.key,
            "title": entry.title,
            "url": entry.url,
            "published": entry.published.isoformat() if entry.published else None,
            "summary": plain_text(entry.summary_html) if entry.summary_html else None,
            "image": entry.image,
        }
        for entry in feed.entries
    ]
    return json.dumps({"title": feed.title, "entries": entries}, ensure_ascii=False, indent=2)


def _as_text(feed: ParsedFeed) -> str:
    lines = [feed.title or "(no title)", f"{len(feed.entries)} entries"]
    for entry in feed.entries:
        when = entry.published.isoformat() if entry.published else "(no date)"
        lines += ["", f"{when}  {entry.title}"]
        lines += [f"  {value}" for value in (entry.url, entry.image) if value]
    return "\n".join(lines)
