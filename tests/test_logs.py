"""Logging: secrets and token-shaped strings never reach the output, on the product's real path."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from bot.logs import CONTENT_FLOORS, QUIET, RedactSecrets, add_secrets, cli_logger, setup_logging
from tests.support.stack import Stack
from tests.support.waiting import wait_for

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
URL = f"http://127.0.0.1:1/bot{TOKEN}/getMe"
API_KEY = "sk-short-key"  # not token-shaped: only the secrets list can catch it


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, RedactSecrets]]:
    """A private logger writing through a handler filtered exactly as setup_logging does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    redactor = RedactSecrets([API_KEY, ""])
    handler.addFilter(redactor)
    logger = logging.getLogger("tests.logs.private")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, stream, redactor
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_redact_known_secret_and_token_shapes() -> None:
    redactor = RedactSecrets(["my-secret-value"])
    assert redactor.redact("key=my-secret-value!") == "key=<redacted>!"
    assert redactor.redact(URL) == "http://127.0.0.1:1/bot<redacted>/getMe"
    assert redactor.redact("nothing here 12:34") == "nothing here 12:34"


def test_empty_secrets_are_ignored() -> None:
    # An empty string "secret" (no token configured) must not redact between every character.
    redactor = RedactSecrets(["", ""])
    assert redactor.redact("plain text") == "plain text"


def test_token_in_message(captured: tuple[logging.Logger, io.StringIO, RedactSecrets]) -> None:
    logger, stream, _ = captured
    logger.info(f"HTTP Request: POST {URL} 200 OK")
    out = stream.getvalue()
    assert TOKEN not in out
    assert "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in out
    assert "bot<redacted>/getMe" in out


def test_token_in_args(captured: tuple[logging.Logger, io.StringIO, RedactSecrets]) -> None:
    logger, stream, _ = captured
    logger.warning("calling %s with key %s (attempt %d)", URL, API_KEY, 3)
    out = stream.getvalue()
    assert TOKEN not in out and API_KEY not in out
    assert "(attempt 3)" in out
    assert out.count("<redacted>") == 2


def test_token_in_exception_traceback(
    captured: tuple[logging.Logger, io.StringIO, RedactSecrets],
) -> None:
    logger, stream, _ = captured
    try:
        raise ConnectionError(f"cannot reach {URL} using {API_KEY}")
    except ConnectionError:
        logger.exception("request failed")
    out = stream.getvalue()
    assert "Traceback" in out and "ConnectionError" in out
    assert TOKEN not in out and API_KEY not in out
    assert "request failed" in out


def test_secret_added_later_is_redacted(
    captured: tuple[logging.Logger, io.StringIO, RedactSecrets],
) -> None:
    logger, stream, redactor = captured
    redactor.secrets.append("late-secret")
    logger.error("oops: %s", "late-secret")
    assert "late-secret" not in stream.getvalue()


def test_clean_records_keep_their_args(
    captured: tuple[logging.Logger, io.StringIO, RedactSecrets],
) -> None:
    logger, stream, _ = captured
    logger.info("scanned %d files in %s", 4, "/content")
    assert "scanned 4 files in /content" in stream.getvalue()


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in (*QUIET, *CONTENT_FLOORS)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


def test_setup_logging_installs_one_redacting_handler(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    redactor = setup_logging("DEBUG", secrets=[TOKEN, API_KEY])
    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert redactor in root.handlers[0].filters
    assert root.level == logging.DEBUG
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    logging.getLogger("httpx").info("HTTP Request: POST %s", URL)  # dropped: below WARNING
    logging.getLogger("newswire").info("using %s and %s", URL, API_KEY)
    err = capsys.readouterr().err
    assert "HTTP Request" not in err
    assert "using http://127.0.0.1:1/bot<redacted>/getMe and <redacted>" in err
    assert TOKEN not in err and API_KEY not in err


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR"])
def test_content_loggers_held_but_never_made_louder(restore_root: None, level: str) -> None:
    setup_logging(level)
    root_level = logging.getLogger().level
    for name, floor in CONTENT_FLOORS.items():
        assert logging.getLogger(name).getEffectiveLevel() == max(floor, root_level)
    for name in QUIET:
        assert logging.getLogger(name).getEffectiveLevel() == max(logging.WARNING, root_level)


def test_log_content_releases_the_content_loggers(restore_root: None) -> None:
    setup_logging("DEBUG", log_content=True)
    assert logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
    setup_logging("DEBUG")
    assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)


def test_cli_lines_are_redacted_and_written_once(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO")  # a root handler too: the CLI line must not appear there again
    add_secrets("hunter2-db-password")
    cli_logger().error("newswire: cannot use postgresql://u:hunter2-db-password@db and %s", URL)
    err = capsys.readouterr().err
    assert err == (
        "newswire: cannot use postgresql://u:<redacted>@db and"
        " http://127.0.0.1:1/bot<redacted>/getMe\n"
    )


async def test_sandbox_token_never_logged_end_to_end(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import SANDBOX_TOKEN

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # The product runs in sandbox mode with no configured token, so only the token shape
    # protects it: install the filter as setup_logging does, with the same (empty) secrets.
    handler.addFilter(RedactSecrets(["", ""]))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    httpx_logger = logging.getLogger("httpx")
    old_httpx = httpx_logger.level
    httpx_logger.setLevel(logging.DEBUG)  # make sure the URLs (with the token) are logged
    root.addHandler(handler)  # before caplog sees any DEBUG record
    caplog.set_level(logging.DEBUG)
    try:
        before = len(stack.sandbox.bot_messages(1001))
        stack.sandbox.send_user_message(1001, "/latest")
        await wait_for(lambda: stack.sandbox.bot_messages(1001)[before:], what="a reply to /latest")
        # httpx logs the request line once the response is in, after PTB's own records.
        await wait_for(
            lambda: re.search(r"HTTP Request: POST \S+/sendMessage", stream.getvalue()),
            what="httpx's sendMessage request line",
        )
    finally:
        root.removeHandler(handler)
        httpx_logger.setLevel(old_httpx)
    out = stream.getvalue()
    assert "HTTP Request" in out  # the token-bearing URLs were logged, and went through
    assert "bot<redacted>/sendMessage" in out
    assert SANDBOX_TOKEN not in out
    assert SANDBOX_TOKEN.split(":", 1)[1] not in out
    # The filter redacts the shared record, so nothing any handler saw keeps the token.
    for record in caplog.records:
        assert SANDBOX_TOKEN not in record.getMessage()
