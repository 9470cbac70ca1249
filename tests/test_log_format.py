"""LOG_FORMAT=json: one JSON object a line, redacted exactly as the text format is."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.logs import cli_logger, setup_logging
from tests.support.stack import Stack
from tests.support.waiting import wait_for

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
URL = f"http://127.0.0.1:1/bot{TOKEN}/getMe"
API_KEY = "sk-short-key"


def lines(err: str) -> list[dict[str, Any]]:
    """Every line of `err` as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_carry_time_level_logger_message_and_redact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", secrets=[API_KEY], log_format="json")
    log = logging.getLogger("newswire.test")
    log.info("using %s and %s", URL, API_KEY)
    try:
        raise ConnectionError(f"cannot reach {URL} with {API_KEY}")
    except ConnectionError:
        log.exception("request failed")
    first, second = lines(capsys.readouterr().err)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "newswire.test"
    assert first["message"] == "using http://127.0.0.1:1/bot<redacted>/getMe and <redacted>"
    moment = datetime.fromisoformat(first["time"])
    assert moment.utcoffset() == timedelta(0)
    assert first["time"].endswith("Z")
    assert second["message"] == "request failed" and second["level"] == "ERROR"
    assert "ConnectionError" in second["exception"] and "Traceback" in second["exception"]
    assert TOKEN not in json.dumps(second) and API_KEY not in json.dumps(second)


def test_cli_failure_lines_are_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", log_format="json")
    cli_logger().error("newswire: cannot use %s", URL)
    (line,) = lines(capsys.readouterr().err)
    assert line["message"] == "newswire: cannot use http://127.0.0.1:1/bot<redacted>/getMe"
    setup_logging("INFO")
    cli_logger().error("newswire: plain again")
    assert capsys.readouterr().err == "newswire: plain again\n"


async def test_json_logs_of_a_running_bot_parse_and_hold_no_token(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.app import SANDBOX_TOKEN

    setup_logging("DEBUG", secrets=[SANDBOX_TOKEN], log_format="json")
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # its lines carry the token in URLs
    before = len(stack.sandbox.bot_messages(1001))
    stack.sandbox.send_user_message(1001, "/latest")
    await wait_for(lambda: stack.sandbox.bot_messages(1001)[before:], what="a reply to /latest")
    seen: list[str] = []

    def request_line() -> bool:
        seen.append(capsys.readouterr().err)
        return bool(re.search(r"HTTP Request: POST \S+/sendMessage", "".join(seen)))

    await wait_for(request_line, what="httpx's sendMessage request line")
    err = "".join(seen)
    records = lines(err)
    assert any("bot<redacted>/sendMessage" in r["message"] for r in records)
    assert SANDBOX_TOKEN not in err and SANDBOX_TOKEN.split(":", 1)[1] not in err
