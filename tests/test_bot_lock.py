"""One bot per database: a second polling bot on the same database stops with a clear line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Newswire, Role
from bot.bot_lock import TTL, AnotherBotRunning
from bot.config import Settings
from content.storage import Repository
from content.storage.locks import BOT_LOCK
from tests.support.stack import Stack


@pytest.mark.e2e
async def test_a_second_bot_on_the_same_database_is_refused(stack: Stack) -> None:
    first = stack.newswire
    second = Newswire(stack.settings, first.endpoint, channels=stack.channels)
    try:
        with pytest.raises(AnotherBotRunning) as caught:
            await second.start()
    finally:
        await second.stop()
    assert caught.value.owner == first.bot_lock.owner
    assert "another bot is already running on this database" in str(caught.value)
    # The first bot still holds it; workers are welcome alongside.
    worker = Newswire(stack.settings, first.endpoint, channels=stack.channels, role=Role.WORKER)
    try:
        await worker.start()
    finally:
        await worker.stop()
    assert await first.repo.locks.holder(BOT_LOCK) == first.bot_lock.owner
    # A clean stop lets the next bot start at once.
    await stack.restart()
    assert await stack.newswire.repo.locks.holder(BOT_LOCK) == stack.newswire.bot_lock.owner


def test_cli_run_exits_2_with_one_line_while_another_bot_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path}/newswire.db"
    owner = "elsewhere:1:abcdef12"  # another machine's bot: only its lease can free it

    async def hold() -> None:
        repo = Repository.open(url)
        try:
            await repo.migrate()
            now = datetime.now(UTC)
            assert await repo.locks.acquire(BOT_LOCK, owner=owner, now=now, ttl=TTL) is None
        finally:
            await repo.close()

    asyncio.run(hold())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SANDBOX_PORT", "0")
    monkeypatch.setenv("CONTENT_DIR", str(tmp_path))
    monkeypatch.setenv("SUMMARIZER", "extractive")
    with pytest.raises(SystemExit) as caught:
        main(["run"])
    assert caught.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "another bot" in line]
    assert lines == [
        f"newswire: another bot is already running on this database (owner {owner});"
        " stop it first or use --role worker"
    ]
