"""Privacy: DEBUG logs carry ids, not what readers write nor their names (unless LOG_CONTENT)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import CONTENT_FLOORS, QUIET, setup_logging
from tests.support.stack import Stack
from tests.support.waiting import wait_for

READER = 5151
FIRST_NAME = "Quillonius"
SEARCHED = "zorblaxian"
WRITTEN = "marmalade periscope confession"


@pytest.fixture
def debug_logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """The product's logging at DEBUG (LOG_CONTENT as the test's parameter), copied to a buffer."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    names = (*CONTENT_FLOORS, *QUIET)
    levels = {name: logging.getLogger(name).level for name in names}
    setup_logging("DEBUG", log_content=request.param)
    stream = io.StringIO()
    copy = logging.StreamHandler(stream)
    copy.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(copy)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


async def converse(stack: Stack) -> None:
    """A reader with a distinctive name searches and writes something distinctive."""
    sandbox = stack.sandbox
    sandbox.add_user(READER, FIRST_NAME)
    for text in (f"/search {SEARCHED}", WRITTEN):
        before = len(sandbox.bot_messages(READER))
        sandbox.send_user_message(READER, text)
        await wait_for(lambda b=before: sandbox.bot_messages(READER)[b:], what=f"a reply to {text}")


@pytest.mark.parametrize("debug_logs", [False], indirect=True)
async def test_debug_logs_hold_no_text_and_no_name(debug_logs: io.StringIO, stack: Stack) -> None:
    await converse(stack)
    out = debug_logs.getvalue()
    assert f"replying in chat {READER} to update" in out  # DEBUG still tells who, by id
    for content in (FIRST_NAME, SEARCHED, WRITTEN, "marmalade"):
        assert content not in out


@pytest.mark.parametrize("debug_logs", [True], indirect=True)
async def test_log_content_lets_the_content_through(debug_logs: io.StringIO, stack: Stack) -> None:
    # The counterpart: the same capture does see readers' words when the operator asks for it.
    await converse(stack)
    await wait_for(lambda: WRITTEN in debug_logs.getvalue(), what="the text in the DEBUG logs")
    out = debug_logs.getvalue()
    assert FIRST_NAME in out and SEARCHED in out
