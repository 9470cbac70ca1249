"""Sandbox fault injection, driven by the real python-telegram-bot over HTTP, and the CLI."""

from __future__ import annotations

import asyncio
import datetime as dtm
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.sandbox import Sandbox
from bot.sandbox.client import ControlError, SandboxClient
from bot.sandbox.faults import Faults
from tests.support.clock import FakeClock
from tests.support.sandbox import TOKEN

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- each fault, as PTB sees it


async def test_server_errors_are_network_errors_and_record_nothing(
    bot: Bot, sandbox: Sandbox
) -> None:
    sandbox.faults.error_rate = 1.0
    sandbox.faults.seed = 7
    seen = set()
    for _ in range(12):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(1, "hello")
        # Not one of NetworkError's more specific subclasses: a plain server failure.
        assert type(caught.value) is NetworkError
        seen.add(str(caught.value))
    assert seen == {"Internal Server Error", "Bad Gateway"}
    assert sandbox.bot_messages(1) == []
    counters = sandbox.counter_view()
    assert counters["5xx"] == 12
    assert counters["500"] + counters["502"] == 12
    assert counters["accepted"] == 0
    # Non-sending methods are untouched.
    assert (await bot.get_me()).id == 123456


async def test_error_rate_is_a_share_and_reproducible_with_a_seed(clock: FakeClock) -> None:
    def outcomes(seed: int) -> list[int]:
        sb = Sandbox(bot_token=TOKEN, clock=clock)
        sb.limits.enforce = False
        sb.add_users_bulk(1, 400)
        sb.faults = Faults(error_rate=0.25, seed=seed)
        return [sb.call("sendMessage", {"chat_id": i, "text": "x"})[0] for i in range(1, 401)]

    first = outcomes(42)
    assert first == outcomes(42)
    failures = sum(status >= 500 for status in first)
    assert 60 <= failures <= 140  # 25% of 400, give or take
    assert set(first) <= {200, 500, 502}


async def test_slow_answer_times_out_but_the_message_was_delivered(
    impatient_bot: Bot, sandbox: Sandbox
) -> None:
    bot = impatient_bot
    sandbox.faults.slow_rate = 1.0
    sandbox.faults.slow_seconds = 3.0
    with pytest.raises(TimedOut):
        await bot.send_message(2, "breaking news")
    # Telegram usually delivered it anyway: a client that retries now makes a duplicate.
    assert [m["text"] for m in sandbox.bot_messages(2)] == ["breaking news"]
    sandbox.reset_faults()
    await bot.send_message(2, "breaking news")
    counters = sandbox.counter_view()
    assert counters["slow"] == 1
    assert counters["accepted"] == 2
    assert counters["duplicates"] == 1


async def test_storm_refuses_everyone_until_it_ends(
    bot: Bot, sandbox: Sandbox, client: SandboxClient, clock: FakeClock
) -> None:
    state = await client.set_faults(storm_seconds=10, storm_retry_after=7)
    assert state["storm_active"] is True
    for user_id in (1, 2, 3):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(user_id, "hello")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert sandbox.counter_view()["storm"] == 3
    clock.advance(10)
    await bot.send_message(1, "hello")
    assert sandbox.counter_view()["accepted"] == 1


async def test_users_block_the_bot_mid_broadcast(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.block_mid_broadcast([3, 5], after_sends=2)
    results: dict[int, str] = {}
    for user_id in range(1, 6):
        try:
            await bot.send_message(user_id, "the news")
            results[user_id] = "sent"
        except Forbidden as exc:
            results[user_id] = str(exc)
    assert results == {
        1: "sent",
        2: "sent",
        3: "Forbidden: bot was blocked by the user",
        4: "sent",
        5: "Forbidden: bot was blocked by the user",
    }
    kinds = [next(k for k in u if k != "update_id") for u in sandbox.pending_updates()]
    assert kinds.count("my_chat_member") == 2
    assert sandbox.counter_view()["blocked_mid_broadcast"] == 2


async def test_group_migrates_to_a_supergroup(
    bot: Bot, sandbox: Sandbox, client: SandboxClient
) -> None:
    group = sandbox.add_group("Readers' club")
    await bot.send_message(group, "before")
    new_id = await client.migrate(group)
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group, "after")
    assert caught.value.new_chat_id == new_id
    with pytest.raises(ChatMigrated):
        await bot.edit_message_text("edited", chat_id=group, message_id=1)
    message = await bot.send_message(new_id, "after")
    assert message.chat.type == "supergroup"
    assert sandbox.migrated_to(group) == new_id
    with pytest.raises(ControlError) as refused:
        await client.migrate(1)
    assert refused.value.status == 400  # a private chat cannot be migrated


# ---------------------------------------------------------------- control API


async def test_faults_control_api_partial_updates_and_reset(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    state = await client.faults()
    assert state["error_rate"] == 0.0
    assert state["storm_active"] is False
    state = await client.set_faults(error_rate=0.1, seed=3)
    assert (state["error_rate"], state["seed"]) == (0.1, 3)
    state = await client.set_faults(slow_rate=0.02, slow_seconds=8)
    assert (state["error_rate"], state["slow_rate"], state["slow_seconds"]) == (0.1, 0.02, 8.0)
    assert sandbox.faults.slow_rate == 0.02
    state = await client.set_faults(block_after={"4": 10})
    assert state["block_after"] == {"4": 10}
    # A bad value or an unknown key changes nothing.
    with pytest.raises(ControlError) as refused:
        await client.set_faults(error_rate=2, slow_rate=0)
    assert refused.value.status == 400
    assert "error_rate" in refused.value.reason
    assert sandbox.faults.slow_rate == 0.02
    with pytest.raises(ControlError) as refused:
        await client.set_faults(typo_rate=0.5)
    assert refused.value.status == 400
    assert "typo_rate" in refused.value.reason
    state = await client.reset_faults()
    assert (state["error_rate"], state["slow_rate"], state["block_after"]) == (0.0, 0.0, {})


async def test_bulk_users_counters_stats_and_received(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    body = await client.add_users_bulk(100_000, 1_000_000)
    assert body == {"first_id": 100_000, "count": 1_000_000}
    known = len(sandbox.users())
    for user_id in (100_000, 100_001):
        await bot.send_message(user_id, "the news")
    # Bulk users appear once something refers to them.
    assert len(sandbox.users()) == known + 2
    for user_id in (100_002, 1_099_999):
        await bot.send_message(user_id, "the news")
    await bot.send_message(100_001, "the news")  # a duplicate
    with pytest.raises(BadRequest, match="not found"):
        await bot.send_message(1_100_000, "past the end of the range")
    counters = await client.counters()
    assert counters["accepted"] == 5
    assert counters["distinct"] == 4
    assert counters["duplicates"] == 1
    assert counters["distinct_chats"] == 4
    assert counters["400"] == 1
    report = await client.received(100_000, 4)
    assert report["missing"] == 1
    assert report["missing_sample"] == [100_003]
    assert report["more_than_once"] == 1
    stats = await client.stats()
    assert stats["accepted"] == 5
    assert stats["first"] <= stats["last"] <= stats["now"]
    stats = await client.stats(since=stats["now"] + 1)
    assert stats["accepted"] == 0
    counters = await client.reset_counters()
    assert counters["accepted"] == 0


# ---------------------------------------------------------------- the CLI


async def _read_line(process: asyncio.subprocess.Process, deadline: float) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), deadline)
    return line.decode().strip()


async def test_bulk_users_are_bounded(client: SandboxClient) -> None:
    with pytest.raises(ControlError) as refused:
        await client.add_users_bulk(1, 10**12)
    assert (refused.value.status, refused.value.reason) == (
        400,
        "first_id must be positive and count between 0 and 2,000,000",
    )
    assert (await client.add_users_bulk(1, 2_000_000))["count"] == 2_000_000


async def test_cli_starts_serves_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--global-rate",
        "30",
        "--seed",
        "5",
        "--channel",
        "@benchnews",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    try:
        url = await _read_line(process, 20.0)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}bot{TOKEN}/getMe") as response:
                assert (await response.json())["result"]["username"] == "newswire_bot"
            form = {"chat_id": "@benchnews"}
            async with http.post(f"{url}bot{TOKEN}/sendMessage", data=form) as r:
                assert r.status == 400  # the channel exists; the text is missing
            async with SandboxClient(url, http) as client:
                assert (await client.faults())["seed"] == 5
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20.0) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
