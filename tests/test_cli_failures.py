"""`newswire run` failing as an operator meets it: one line through the redacting logger, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import answering_api, cli_env, closed_port, run_cli

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_PART = TOKEN.split(":", 1)[1]
REJECTED_404 = (
    "newswire: Telegram rejected the token (HTTP 404 from TELEGRAM_API_BASE_URL):"
    " check both settings"
)


def assert_no_token(*outputs: str) -> None:
    for output in outputs:
        assert TOKEN not in output
        assert SECRET_PART not in output
        assert SECRET_PART[:12] not in output


async def test_a_base_url_answering_404_is_one_line_without_the_token(tmp_path: Path) -> None:
    # Telegram's own answer to a wrong token or path. Before: PTB's InvalidToken("The token
    # `…` was rejected") escaped asyncio.run as a raw traceback quoting the token, exit 1.
    answer = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"})
    async with answering_api(404, answer, "application/json") as base_url:
        env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base_url)
        result = await run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [REJECTED_404]
    assert result.stdout == ""
    assert_no_token(result.stdout, result.stderr)


async def test_a_web_server_404_page_names_the_settings_without_the_token(
    tmp_path: Path,
) -> None:
    # A typo in the URL usually reaches a web server's own 404 page, not JSON.
    async with answering_api(404, "404: Not Found") as base_url:
        env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base_url)
        result = await run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == REJECTED_404
    assert_no_token(result.stdout, result.stderr)


async def test_a_revoked_token_is_told_as_401(tmp_path: Path) -> None:
    answer = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
    async with answering_api(401, answer, "application/json") as base_url:
        env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base_url)
        result = await run_cli("run", "--role", "worker", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [REJECTED_404.replace("HTTP 404", "HTTP 401")]
    assert_no_token(result.stdout, result.stderr)


async def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    port = closed_port()
    env = cli_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot"
    )
    result = await run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"newswire: cannot reach the Bot API at TELEGRAM_API_BASE_URL (127.0.0.1:{port}): "
    )
    assert "Traceback" not in result.stderr
    assert_no_token(result.stdout, result.stderr)


def test_the_excepthook_logs_any_other_error_redacted(tmp_path: Path) -> None:
    # Only the interpreter calls sys.excepthook, so this takes a real one.
    program = (
        "from bot.__main__ import main\n"
        "import bot.__main__ as cli\n"
        "def boom(args):\n"
        f"    raise RuntimeError('cannot use ' + {TOKEN!r} + ' here')\n"
        "cli.cmd_preview = boom\n"
        "main(['preview', 'x.txt'])\n"
    )
    env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("newswire: unexpected RuntimeError, exiting\nTraceback")
    assert "cannot use <redacted> here" in result.stderr
    assert_no_token(result.stdout, result.stderr)


@pytest.mark.parametrize("argv", [["preview", "missing.txt"], ["summarize", "missing.txt"]])
async def test_other_commands_fail_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)
    result = await run_cli(*argv, env=env, cwd=tmp_path)
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.txt" in lines[0], result.stderr
    assert result.stdout == ""
