"""Sandbox fixtures for the sandbox's own tests: one fake-clock sandbox, its server, PTB, client.

Loaded for every test through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sandbox import Sandbox, SandboxServer
from bot.sandbox.client import SandboxClient
from tests.support.clock import FakeClock

TOKEN = "123456:SANDBOX-secret-token"
READER = 1001  # a reader who has started the bot ("Reader", @reader)
READERS = range(1, 6)  # five more, "Reader 1".."Reader 5", for broadcasts and blocks


@pytest.fixture
def clock() -> FakeClock:
    """The sandbox's clock: flood windows and dates move only when told to."""
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    """A sandbox with READER and READERS."""
    sb = Sandbox(bot_token=TOKEN, clock=clock)
    sb.add_user(READER, "Reader", "reader")
    for user_id in READERS:
        sb.add_user(user_id, f"Reader {user_id}")
    return sb


@pytest.fixture
async def server(sandbox: Sandbox) -> AsyncIterator[SandboxServer]:
    """The sandbox served on a free loopback port."""
    async with SandboxServer(sandbox) as srv:
        yield srv


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    """python-telegram-bot's Bot against the served sandbox."""
    async with Bot(TOKEN, base_url=server.api_base_url, base_file_url=server.file_base_url) as b:
        yield b


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    """The control API client against the served sandbox."""
    async with SandboxClient(server.url) as c:
        yield c


@pytest.fixture
async def impatient_bot(server: SandboxServer) -> AsyncIterator[Bot]:
    """A Bot with a 0.5 s read timeout, so a slow answer is a TimedOut within a test's patience."""
    request = HTTPXRequest(read_timeout=0.5, connect_timeout=2.0)
    async with Bot(TOKEN, base_url=server.api_base_url, request=request) as b:
        yield b


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, for calling the served sandbox by raw URL."""
    async with aiohttp.ClientSession() as session:
        yield session
