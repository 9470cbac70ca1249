"""`newswire summarize`: print an article's extractive summary, or summarize JSON lines."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.logs import cli_logger
from content.summarizing import ExtractiveSummarizer, Summarizer

DEFAULT_TZ = "Asia/Singapore"
_BLANK_LINES = re.compile(r"\n\s*\n")


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the `summarize` subcommand."""
    p = subparsers.add_parser(
        "summarize",
        help="print the summary of an article, one sentence a line",
        description="Summarize one article (FILE or stdin) or, with --jsonl, "
        'lines of {"id": ..., "article": ...} into {"id": ..., "summary": [...]}.',
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="article file, - = stdin")
    p.add_argument("--sentences", type=_positive_int, default=3, metavar="N")
    p.add_argument("--jsonl", action="store_true", help="read JSON lines on stdin (or FILE)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, summarizer: Summarizer | None = None) -> int:
    """Run the subcommand; returns the process exit code."""
    summarizer = summarizer or ExtractiveSummarizer()
    sentences = int(args.sentences)
    if args.jsonl:
        return _run_jsonl(args.file, summarizer, sentences)
    try:
        title, paragraphs = _read_article(args.file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _report(f"newswire summarize: {exc}")
        return 2
    summary = summarizer.summarize(paragraphs, title=title, max_sentences=sentences)
    if not summary:
        _report("newswire summarize: no sentences to summarize")
        return 1
    for sentence in summary:
        print(sentence)
    return 0


def _report(message: str) -> None:
    """One line on stderr, through the redacting logger."""
    cli_logger().error("%s", message)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _read_article(file: str) -> tuple[str | None, list[str]]:
    """Title and paragraphs of the article in `file` ("-" is stdin)."""
    if file == "-":
        return None, paragraphs_of(sys.stdin.read())
    path = Path(file)
    if not path.is_file():
        raise ValueError(f"{file}: no such file")
    parse_file = _parse_file()
    if parse_file is not None and path.suffix.lower() in (".txt", ".md"):
        article = parse_file(path, default_tz=ZoneInfo(DEFAULT_TZ))
        return article.title, list(article.paragraphs)
    return None, paragraphs_of(path.read_text(encoding="utf-8"))


def _parse_file() -> Callable[..., Any] | None:
    """`content.parsing.parse_file` when that module is installed, else None (raw text)."""
    try:
        module = importlib.import_module("content.parsing")
    except ImportError:
        return None
    func = getattr(module, "parse_file", None)
    return func if callable(func) else None


def paragraphs_of(text: str) -> list[str]:
    """Paragraphs of raw article text: split on blank lines, or on lines when there are none."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return []
    parts = _BLANK_LINES.split(text) if _BLANK_LINES.search(text) else text.split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


def _run_jsonl(file: str, summarizer: Summarizer, sentences: int) -> int:
    """Summarize each JSON line; bad lines are reported with their number and skipped (exit 1)."""
    try:
        stream: contextlib.AbstractContextManager[TextIO] = (
            # The with-block below closes the file; stdin is wrapped so that it stays open.
            contextlib.nullcontext(sys.stdin) if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        )
    except OSError as exc:
        _report(f"newswire summarize: {exc}")
        return 2
    bad = 0
    with stream as lines:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("article"), str):
                    raise ValueError('expected an object with an "article" string')
            except ValueError as exc:
                _report(f"newswire summarize: line {lineno}: {exc}")
                bad += 1
                continue
            title = row.get("title")
            summary = summarizer.summarize(
                paragraphs_of(row["article"]),
                title=title if isinstance(title, str) else None,
                max_sentences=sentences,
            )
            print(json.dumps({"id": row.get("id"), "summary": summary}, ensure_ascii=False))
    return 1 if bad else 0
