"""The whole product against the sandbox (`stack`), and the databases it can run on."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.articles import FIXTURES, SAMPLE
from tests.support.waiting import wait_for

ADMIN = 4242
CHANNEL = "@newswire_test"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A content folder holding the real sample article and the synthetic ones."""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(SAMPLE, folder)
    for name in ("s01.txt", "s02.txt"):
        shutil.copy(FIXTURES / name, folder)
    return folder


@dataclass
class Stack:
    """The product as it runs: sandbox server, Newswire app, and a way to restart it."""

    sandbox: Any
    server: Any
    newswire: Any
    settings: Any
    channels: tuple[str, ...]

    async def scans(self, count: int = 2) -> None:
        """Wait until the scan job has run `count` more times (a deterministic barrier)."""
        services = self.newswire.services
        target = services.scan_count + count
        await wait_for(lambda: services.scan_count >= target, what=f"{count} scans")

    async def restart(self) -> None:
        from bot.app import Newswire

        await self.newswire.stop()
        self.newswire = Newswire(self.settings, self.newswire.endpoint, channels=self.channels)
        await self.newswire.start()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite by default; tests/test_postgres.py overrides it with a throwaway PostgreSQL."""
    return f"sqlite+aiosqlite:///{tmp_path}/newswire.db"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """A PostgreSQL cluster for the session; skips (visibly) only when no binaries exist."""
    from tests.support.pgcluster import find_binaries, throwaway_cluster

    if find_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing in CI (.ci/run installs postgresql)")
        pytest.skip("no PostgreSQL binaries (apt-get install postgresql)")
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
async def pg_url(pg_cluster: str) -> str:
    """A fresh database in the session's cluster."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    server = pg_cluster.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{pg_cluster.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    """More settings for `stack`; a test module overrides this fixture to add its own."""
    return {}


@pytest.fixture
async def stack(
    tmp_path: Path, content_dir: Path, database_url: str, stack_settings: dict[str, Any]
) -> AsyncIterator[Stack]:
    """Newswire started against a served sandbox with one channel and ADMIN as its editor."""
    from bot.app import SANDBOX_TOKEN, Endpoint, Newswire, sandbox_route_targets
    from bot.config import load_settings
    from bot.sandbox import Sandbox, SandboxServer

    sandbox = Sandbox(bot_token=SANDBOX_TOKEN)
    channels = (CHANNEL,)
    sandbox.add_channel(channels[0])
    sandbox.add_user(ADMIN, "Editor")
    server = SandboxServer(sandbox, port=0)
    await server.start()
    settings = load_settings(
        telegram_bot_token="",
        telegram_channels=",".join(channels),
        content_dir=content_dir,
        database_url=database_url,
        scan_interval=0.2,
        _env_file=None,
        # ADMIN is the editor unless a test module names its own (admin_ids="1,2"); the web
        # server takes a free port (tests run side by side) unless a module needs a known one.
        **{"admin_ids": str(ADMIN), "http_port": 0, **stack_settings},
    )
    sandbox_route_targets(sandbox, settings.routes)  # as `newswire run` does without a token
    endpoint = Endpoint(SANDBOX_TOKEN, server.api_base_url, server.file_base_url)
    newswire = Newswire(settings, endpoint, channels=channels)
    await newswire.start()
    stack = Stack(sandbox, server, newswire, settings, channels)
    try:
        await stack.scans(1)
        yield stack
    finally:
        await stack.newswire.stop()
        await server.stop()
    # Telegram silently ignores a parameter a method lacks; only the sandbox can tell.
    unknown = dict(sandbox.unknown_parameters)
    assert not unknown, f"Bot API calls with parameters their method lacks: {unknown}"
