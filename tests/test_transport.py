"""The worker's aiohttp transport under PTB: same errors as PTB's own transport gives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery.policy import Verdict, classify
from bot.delivery.transport import AiohttpRequest
from bot.sandbox import Sandbox, SandboxServer
from tests.support.sandbox import READER, TOKEN
from tests.support.worker import delivery_bot


@pytest.fixture
async def bot(server: SandboxServer, sandbox: Sandbox) -> AsyncIterator[Bot]:
    """PTB's Bot on the worker's aiohttp transport; READER may send two messages in a burst."""
    sandbox.limits.private_burst = 2
    request = AiohttpRequest(read_timeout=0.5)
    async with Bot(
        TOKEN, base_url=server.api_base_url, base_file_url=server.file_base_url, request=request
    ) as b:
        yield b


async def test_sends_html_with_a_keyboard(sandbox: Sandbox, bot: Bot) -> None:
    message = await bot.send_message(READER, "<b>bold</b> &amp; plain", parse_mode="HTML")
    assert message.message_id > 0
    (sent,) = sandbox.bot_messages(READER)
    assert sent["text"] == "bold & plain"
    assert sent["entities"][0]["type"] == "bold"


async def test_maps_every_failure_like_ptb(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(READER, "<p>x</p>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999_999, "x")
    await bot.send_message(READER, "one")
    await bot.send_message(READER, "two")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(READER, "three")
    assert classify(flood.value).verdict is Verdict.FLOOD
    sandbox.block_bot(READER)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(READER, "four")


async def test_server_errors_and_slow_answers(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.limits.enforce = False
    sandbox.update_faults({"error_rate": 1.0, "seed": 1})
    with pytest.raises(NetworkError) as server_error:
        await bot.send_message(READER, "x")
    assert not isinstance(server_error.value, BadRequest)
    assert classify(server_error.value).verdict is Verdict.TRANSIENT
    sandbox.update_faults({"error_rate": 0.0, "slow_rate": 1.0, "slow_seconds": 2.0})
    with pytest.raises(TimedOut) as slow:
        await bot.send_message(READER, "y")
    assert classify(slow.value).verdict is Verdict.TRANSIENT


def test_an_edit_that_changes_nothing_is_not_a_failure() -> None:
    from telegram.error import BadRequest

    unchanged = BadRequest(
        "Message is not modified: specified new message content and reply markup are exactly"
        " the same as a current content and reply markup of the message"
    )
    assert classify(unchanged).verdict is Verdict.UNCHANGED
    assert classify(BadRequest("Message to edit not found")).verdict is Verdict.REJECTED


def test_form_body_matches_the_standard_encoding() -> None:
    from urllib.parse import parse_qsl
    from urllib.parse import urlencode as std_urlencode

    from bot.delivery.transport import urlencode

    long_html = "<b>Otters & “friends” 🦦</b>\n" + "a = b + c; 50% of 100 " * 10
    params = {"chat_id": "-1001234", "text": long_html, "parse_mode": "HTML", "empty": ""}
    for _ in range(2):  # the second time from the cache
        body = urlencode(params)
        assert body == std_urlencode(params).encode("ascii")
        assert dict(parse_qsl(body.decode(), keep_blank_values=True)) == params


def test_a_photo_telegram_cannot_use_is_its_own_verdict() -> None:
    from telegram.error import BadRequest

    for text in ("Wrong file identifier/HTTP URL specified", "Failed to get HTTP URL content"):
        assert classify(BadRequest(text)).verdict is Verdict.PHOTO_REFUSED
    assert classify(BadRequest("Chat not found")).verdict is Verdict.CHAT_GONE


async def test_delivery_bot_uses_the_public_api_without_warnings(
    server: SandboxServer, sandbox: Sandbox, recwarn: pytest.WarningsRecorder
) -> None:
    """Sends and edits go through `Bot.do_api_request`; its "use send_message" advice is muted."""
    import inspect

    from bot.delivery import transport
    from bot.delivery.transport import prepare

    assert "telegram._" not in inspect.getsource(transport)  # no private PTB modules
    async with delivery_bot(server, TOKEN) as bot:
        message_id = await bot.send_prepared(
            READER, prepare("<b>one</b>", parse_mode="HTML", keyboard=None)
        )
        # A text message edited with a photo post's parameters: the caption edit is refused,
        # and the text is edited instead.
        photo_post = prepare(
            "<b>two</b>", parse_mode="HTML", keyboard=None, photo="https://x/y.jpg"
        )
        assert await bot.edit_prepared(READER, message_id, photo_post) == message_id
    (sent,) = sandbox.bot_messages(READER)
    assert sent["text"] == "two"
    assert not [w for w in recwarn if "Please use" in str(w.message)]
