"""Pure parsers that turn article sources (plain text, Markdown with front matter) into Articles."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from content.models import Article
from content.parsing.markdown import parse_markdown
from content.parsing.text import decode_bytes, parse_text, read_text_file

__all__ = ["SUPPORTED_SUFFIXES", "parse_bytes", "parse_file", "parse_markdown", "parse_text"]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
SUPPORTED_SUFFIXES = frozenset({".txt"}) | MARKDOWN_SUFFIXES


def parse_file(path: Path, *, default_tz: tzinfo) -> Article:
    """Parse an article file, Markdown by suffix and plain text otherwise; ArticleParseError."""
    return _parse_decoded(read_text_file(path), path, default_tz=default_tz)


def parse_bytes(data: bytes, path: Path, *, default_tz: tzinfo) -> Article:
    """Parse a file's bytes already read (the caller did the I/O); ArticleParseError."""
    return _parse_decoded(decode_bytes(data, str(path)), path, default_tz=default_tz)


def _parse_decoded(text: str, path: Path, *, default_tz: tzinfo) -> Article:
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return parse_markdown(text, default_tz=default_tz, source=str(path))
    return parse_text(text, default_tz=default_tz, source=str(path))
