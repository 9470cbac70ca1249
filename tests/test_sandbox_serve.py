"""The sandbox `newswire run` starts without a token holds every configured channel."""

from __future__ import annotations

from pathlib import Path

from bot.__main__ import sandbox_for
from bot.app import SANDBOX_DEMO_CHANNEL
from bot.config import load_settings


def test_numeric_and_named_channels_exist_in_the_sandbox(tmp_path: Path) -> None:
    settings = load_settings(
        telegram_bot_token="",
        telegram_channels="-1001234567890,@newswire_news",
        content_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db",
        _env_file=None,
    )
    sandbox, channels = sandbox_for(settings)
    assert channels == ("-1001234567890", "@newswire_news")
    for channel in channels:
        status, body = sandbox.call("sendMessage", {"chat_id": channel, "text": "breaking"})
        assert status == 200, body  # before: the numeric one was "Bad Request: chat not found"
        assert body["result"]["chat"]["type"] == "channel"
    assert sandbox.resolve_chat("-1001234567890") == -1001234567890


def test_without_channels_the_demo_channel_is_made(tmp_path: Path) -> None:
    settings = load_settings(
        telegram_bot_token="",
        content_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db",
        _env_file=None,
    )
    sandbox, channels = sandbox_for(settings)
    assert channels == (SANDBOX_DEMO_CHANNEL,)
    assert sandbox.resolve_chat(SANDBOX_DEMO_CHANNEL) is not None
