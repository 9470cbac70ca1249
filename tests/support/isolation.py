"""Global state a test may change and must not leave behind: logging set-up and excepthooks.

`setup_logging` (run by the CLI in-process, and by the logging tests) replaces the root handler
with one bound to that test's captured stderr and sets logger levels; left in place, the next
tests log into a closed stream and see records already rewritten by the redacting filter.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from bot.logs import CLI_FORMAT, CLI_LOGGER


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    hooks = sys.excepthook, threading.excepthook
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
        sys.excepthook, threading.excepthook = hooks
        # LOG_FORMAT=json switches the CLI's one-line failures to JSON; plain is the default.
        for handler in logging.getLogger(CLI_LOGGER).handlers:
            handler.setFormatter(logging.Formatter(CLI_FORMAT))
