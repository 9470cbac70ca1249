"""`newswire extract`: print the article extracted from a page (a URL or a saved HTML file)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.logs import cli_logger
from content.extraction import MAX_HTML_BYTES, Extracted, extract


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the `extract` subcommand."""
    p = subparsers.add_parser(
        "extract",
        help="print the article extracted from a page URL or an HTML file",
        description="Extract title, author, time, image and body text from an article page.",
    )
    p.add_argument("source", metavar="URL-OR-FILE")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--allow-private",
        action="store_true",
        help="let the URL reach loopback or private addresses (for a local test server)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the process exit code."""
    source = str(args.source)
    try:
        if urlsplit(source).scheme in ("http", "https"):
            html, url = asyncio.run(_download(source, allow_private=bool(args.allow_private)))
        else:
            html, url = _read(Path(source)), None
    except _SourceError as exc:
        cli_logger().error("newswire: %s: %s", source, exc)
        return 1
    article = extract(html, url=url)
    if not article.paragraphs:
        cli_logger().error("newswire: %s: no article text found", source)
        return 1
    print(_as_json(article, url) if args.json else _as_text(article, url))
    return 0


class _SourceError(Exception):
    """The page could not be read; the message is one line."""


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_HTML_BYTES)
    except OSError as exc:
        raise _SourceError(exc.strerror or "cannot read the file") from exc


async def _download(url: str, *, allow_private: bool) -> tuple[bytes, str]:
    from content.fetching import Fetcher, FetchError, default_user_agent

    fetcher = Fetcher(allow_private=allow_private, user_agent=default_user_agent())
    try:
        result = await fetcher.fetch(url)
    except FetchError as exc:
        raise _SourceError(exc.reason) from exc
    finally:
        await fetcher.close()
    return result.body, result.url


def _as_json(article: Extracted, url: str | None) -> str:
    data = {
        "url": url,
        "title": article.title,
        "author": article.author,
        "published": article.published.isoformat() if article.published else None,
        "image": article.image,
        "text": article.text,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _as_text(article: Extracted, url: str | None) -> str:
    lines = [article.title or "(no title)"]
    for label, value in (
        ("url", url),
        ("author", article.author),
        ("published", article.published.isoformat() if article.published else None),
        ("image", article.image),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines) + "\n\n" + article.text
