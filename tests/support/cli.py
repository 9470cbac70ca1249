"""Running `python -m bot` as an operator would, and a Bot API that answers every call alike."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings

REPO = Path(__file__).resolve().parent.parent.parent
# Every variable Newswire reads (one per setting): none leaks from the machine into a CLI run.
SETTING_NAMES = tuple(name.upper() for name in Settings.model_fields)


@dataclass
class Finished:
    """What a finished CLI process left behind."""

    returncode: int
    stdout: str
    stderr: str


def clear_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove Newswire's settings from this test's environment."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment for a CLI run: the machine's, minus Newswire's settings, plus these."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env["PYTHONPATH"] = str(REPO)
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/newswire.db"
    env["SANDBOX_PORT"] = "0"
    env["HTTP_PORT"] = "0"  # Newswire's web server too: no one's port is taken
    env.update(settings)
    return env


async def run_cli(
    *argv: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float = 60.0,  # noqa: ASYNC109 - a bound on a hung child, not the assertion
) -> Finished:
    """Run `python -m bot ARGV` to its end; a child still running after `timeout` is killed."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except TimeoutError:
        child.kill()
        out, err = await child.communicate()
        raise AssertionError(
            f"`newswire {' '.join(argv)}` still running after {timeout}s; stderr:\n"
            + err.decode(errors="replace")
        ) from None
    assert child.returncode is not None
    return Finished(child.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


@asynccontextmanager
async def answering_api(
    status: int, body: str, content_type: str = "text/plain"
) -> AsyncIterator[str]:
    """A local HTTP server giving the same answer to every request; yields its /bot base URL."""

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def parse_command(add_parser: Any, command: str, *argv: str) -> argparse.Namespace:
    """Parse `newswire COMMAND ARGV` with only that sub-command's parser (its `add_parser`)."""
    parser = argparse.ArgumentParser(prog="newswire")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args([command, *argv])
