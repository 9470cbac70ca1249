"""Replies to readers share the send budget with a broadcast: nobody is refused (no 429)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.articles import write
from tests.support.outbox import add_readers
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
STORY = """Wallet returned by a bus captain in Bedok

The commuter said she was "speechless".

Sam Teo | July 03, 2026, 09:30 AM

A bus captain has been praised online after he returned a wallet left on his bus in Bedok.

The wallet held S$800 in cash and several cards, the commuter said.
"""
SUBSCRIBERS = list(range(5001, 5151))  # 150 alerts: five seconds of sending at 30/s
TYPISTS = list(range(6001, 6031))  # 30 readers who each send two commands meanwhile


def _alerted(stack: Stack) -> int:
    return sum(1 for chat in SUBSCRIBERS if stack.sandbox.bot_messages(chat))


async def test_readers_typing_during_a_broadcast_draw_no_429(
    stack: Stack, content_dir: Path
) -> None:
    await add_readers(stack, SUBSCRIBERS, keyword="wallet")
    for chat in TYPISTS:
        stack.sandbox.add_user(chat, "Typist")
    write(content_dir, "story.txt", STORY)
    await wait_for(lambda: _alerted(stack) >= 5, what="the broadcast under way")
    for command in ("/help", "/latest"):
        for chat in TYPISTS:
            stack.sandbox.send_user_message(chat, command)
    assert _alerted(stack) < len(SUBSCRIBERS), "the broadcast ended before the readers typed"
    await wait_for(
        lambda: all(len(stack.sandbox.bot_messages(chat)) == 2 for chat in TYPISTS),
        timeout=20,
        what="both replies for every typist",
    )
    await wait_for(
        lambda: _alerted(stack) == len(SUBSCRIBERS), timeout=20, what="every subscriber alerted"
    )
    assert stack.sandbox.counters["429"] == 0
