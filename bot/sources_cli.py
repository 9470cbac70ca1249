"""`newswire sources import FILE.opml` and `newswire sources export`: the sources as OPML."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.logs import cli_logger
from bot.progress import show_progress
from content.sources.opml import MAX_OPML_BYTES, OpmlError, parse_opml, write_opml
from content.sources.registry import ImportReport, import_specs
from content.storage import Repository

EXPORT_TITLE = "Newswire sources"
_INVALID_SHOWN = 5
_IMPORT_SLICE = 10  # sources registered between two steps of the progress display


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the `sources` subcommand (import, export)."""
    p = subparsers.add_parser(
        "sources",
        help="import sources from OPML, or export them as OPML",
        description="Import feeds from an OPML file into the database (DATABASE_URL), or print"
        " the registered sources as OPML 2.0. Imported sources are not fetched here: they are"
        " checked by their first poll, which imports what they hold as the archive.",
    )
    actions = p.add_subparsers(dest="action", required=True)
    imported = actions.add_parser("import", help="add each outline's xmlUrl as a source")
    imported.add_argument("file", metavar="FILE.opml")
    actions.add_parser("export", help="print the active sources as OPML 2.0")
    p.set_defaults(func=run)


class _Failed(Exception):
    """A failure reported in one line (exit 1)."""


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the process exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        cli_logger().error("newswire: bad setting: %s", exc)
        return 2
    try:
        if args.action == "import":
            outlines = parse_opml(_read(Path(args.file)))
            specs = [outline.spec for outline in outlines]
            print(asyncio.run(_import(settings.database_url, specs, settings.feed_interval)))
        else:
            print(asyncio.run(_export(settings.database_url)), end="")
    except OpmlError as exc:
        cli_logger().error("newswire: %s: %s", args.file, exc)
        return 1
    except _Failed as exc:
        cli_logger().error("newswire: %s", exc)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        # The first line only: SQLAlchemy appends the statement and its parameters.
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        cli_logger().error("newswire: cannot use the database (DATABASE_URL): %s", first)
        return 1
    return 0


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise _Failed(f"{path}: {exc.strerror or 'cannot read the file'}") from None
    if len(data) > MAX_OPML_BYTES:
        raise _Failed(f"{path}: over {MAX_OPML_BYTES:,} bytes: not read")
    return data


async def _import(database_url: str, specs: list[str], interval: float) -> str:
    repo = Repository.open(database_url)
    progress = show_progress("importing sources", len(specs))
    report = ImportReport()
    try:
        await repo.migrate()
        # In slices, to show progress: each call sees the sources the ones before added.
        for start in range(0, len(specs), _IMPORT_SLICE):
            part = await import_specs(
                repo, specs[start : start + _IMPORT_SLICE], now=datetime.now(UTC), interval=interval
            )
            report.added += part.added
            report.already += part.already
            report.invalid += part.invalid
            report.over_limit += part.over_limit
            progress.advance(len(specs[start : start + _IMPORT_SLICE]))
    finally:
        progress.close()
        await repo.close()
    line = f"{report.added} added, {report.already} already there, {len(report.invalid)} invalid"
    if report.over_limit:
        line += f", {report.over_limit} over the limit of sources"
    lines = [line]
    for spec in report.invalid[:_INVALID_SHOWN]:
        lines.append(f"  invalid: {spec[:200]}")
    if len(report.invalid) > _INVALID_SHOWN:
        lines.append(f"  … and {len(report.invalid) - _INVALID_SHOWN} more")
    return "\n".join(lines)


async def _export(database_url: str) -> str:
    repo = Repository.open(database_url)
    try:
        await repo.migrate()
        sources = await repo.sources.all()
    finally:
        await repo.close()
    return write_opml(sources, now=datetime.now(UTC), title=EXPORT_TITLE)
