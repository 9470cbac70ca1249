"""Long work shows progress: a bar on a terminal, a log line every few seconds otherwise."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.progress import TerminalBar, progress_factory, show_progress
from content.pipeline import scan_folder
from content.progress import LoggedProgress
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.ingest import SGT, T0, content_folder

LOGGER = "test.progress"


class Ticks:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stream that says it is a terminal (what a person's stderr is)."""

    def isatty(self) -> bool:
        return True


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_off_a_terminal_a_line_every_few_seconds(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    logger = logging.getLogger(LOGGER)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        shown = show_progress(
            "seeding", 1000, stream=io.StringIO(), logger=logger, every=5.0, clock=clock
        )
        assert isinstance(shown, LoggedProgress)
        for step in range(1, 11):  # one step a second: lines at 5 s and 10 s, not in between
            clock.now += 1.0
            shown.advance(100)
            if step == 4:
                assert lines(caplog) == []
        shown.close()
    assert lines(caplog) == ["seeding: 500 of 1000", "seeding: 1000 of 1000"]


def test_a_unit_names_what_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    shown = LoggedProgress(
        "importing", 3, logger=logging.getLogger(LOGGER), every=2.0, unit="files", clock=clock
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        shown.advance()
        clock.now += 2.5
        shown.advance()
    assert lines(caplog) == ["importing: 2 of 3 files"]


def test_on_a_terminal_a_bar(caplog: pytest.LogCaptureFixture) -> None:
    terminal = Terminal()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        shown = show_progress("seeding", 4, stream=terminal, logger=logging.getLogger(LOGGER))
        assert isinstance(shown, TerminalBar)
        shown.advance(4)
        shown.close()
    assert "seeding" in terminal.getvalue()
    assert "4/4" in terminal.getvalue()
    assert lines(caplog) == []  # the bar instead of log lines


async def test_the_first_starts_archive_import_shows_its_progress(
    tmp_path: Path, repo: Repository
) -> None:
    folder = content_folder(tmp_path)
    steps: list[tuple[str, int]] = []

    class Recorder:
        def __init__(self, what: str, total: int) -> None:
            steps.append((what, total))

        def advance(self, count: int = 1) -> None:
            steps.append(("advance", count))

        def close(self) -> None:
            steps.append(("close", 0))

    async def scan() -> None:
        await scan_folder(
            repo,
            folder,
            now=T0,
            default_tz=SGT,
            summarizer=ExtractiveSummarizer(),
            show_progress=Recorder,
        )

    await scan()
    assert steps == [("importing the archive", 2), ("advance", 1), ("advance", 1), ("close", 0)]
    (folder / "s03.md").write_text("---\ntitle: Later\nid: later\n---\n\nText.\n")
    await scan()  # not the first start: no progress shown
    assert len(steps) == 4


def test_the_bots_factory_logs_off_a_terminal() -> None:
    make = progress_factory(stream=io.StringIO())
    assert isinstance(make("importing the archive", 10), LoggedProgress)
