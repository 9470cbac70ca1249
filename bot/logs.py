"""Logging set-up: one format, quiet HTTP libraries, no secret and no reader's content written."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

# Anything shaped like a bot token, also inside URLs (".../bot123:ABC.../getMe").
_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")

# Libraries whose records below this level carry readers' messages and names (PTB's update
# bodies and call parameters) or SQL parameters and rows; held there unless LOG_CONTENT.
CONTENT_FLOORS = {
    "telegram": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,  # INFO is every statement with its parameters
    "aiosqlite": logging.INFO,  # DEBUG prints each call with its arguments
}
# Libraries kept quiet at any level: httpx logs every request URL, which holds the token.
QUIET = ("httpx", "httpcore", "apscheduler", "alembic", "aiohttp.access")


class RedactSecrets(logging.Filter):
    """Replace known secrets and token-shaped strings in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def add(self, *secrets: str) -> None:
        """Redact these too from now on (empty strings are ignored)."""
        self.secrets.extend(s for s in secrets if s and s not in self.secrets)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return _TOKEN_SHAPE.sub("<redacted>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(exc_text)
            record.exc_info = None
            del exc
        if clean != message:
            record.msg, record.args = clean, None
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one object a line (time in UTC, level, logger, message, exception)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # The redactor turned exc_info into (redacted) exc_text already; a record that did
        # not pass it is formatted here.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT (text or json)."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (a redirected or captured stream)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


# One redactor for the process: secrets learnt from the settings apply to every handler.
_REDACTOR = RedactSecrets()
CLI_LOGGER = "newswire.cli"
CLI_FORMAT = "%(message)s"


def add_secrets(*secrets: str) -> None:
    """Never write these (the token, API keys, passwords) anywhere through logging."""
    _REDACTOR.add(*secrets)


def cli_logger() -> logging.Logger:
    """The logger a CLI failure goes through: its message alone on stderr, redacted."""
    logger = logging.getLogger(CLI_LOGGER)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(CLI_FORMAT))
        handler.addFilter(_REDACTOR)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Its line must not be printed twice (once here, once with the root's timestamp).
        logger.propagate = False
    return logger


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    cli_logger().critical(
        "newswire: unexpected %s, exiting", exc_type.__name__, exc_info=(exc_type, exc, tb)
    )


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    cli_logger().critical(
        "newswire: unexpected %s in thread %s",
        args.exc_type.__name__,
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install_excepthook() -> None:
    """Uncaught exceptions are logged through the redactor instead of printed raw."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def setup_logging(
    level: str,
    secrets: Iterable[str] = (),
    *,
    log_content: bool = False,
    log_format: str = "text",
) -> RedactSecrets:
    """Configure the root logger; returns the filter so more secrets can be added later."""
    _REDACTOR.add(*secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format))
    # The run's own one-line failures too: a log collector reads every line as JSON.
    cli_format = handler.formatter if log_format == "json" else logging.Formatter(CLI_FORMAT)
    for cli_handler in cli_logger().handlers:
        cli_handler.setFormatter(cli_format)
    handler.addFilter(_REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    hold_content(log_content=log_content)
    return _REDACTOR


def hold_content(*, log_content: bool) -> None:
    """Keep readers' text, names and SQL parameters out of DEBUG logs unless asked."""
    root_level = logging.getLogger().level
    for name, floor in CONTENT_FLOORS.items():
        # Never below the root's level: a floor must not make a library louder than the rest.
        logging.getLogger(name).setLevel(logging.NOTSET if log_content else max(floor, root_level))
