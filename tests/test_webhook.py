"""End to end: webhook mode on the sandbox: updates POSTed to our own server, secret checked."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from bot.logs import setup_logging
from bot.web.webhook import ALLOWED_UPDATES, SECRET_HEADER, webhook_path
from tests.support.cli import closed_port
from tests.support.reader import say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret_for-tests-0123456789"
STRANGER = 3003  # writes to the bot only through hand-made POSTs


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    # The URL names the port, so the server cannot pick a free one itself.
    port = closed_port()
    return {
        "http_port": port,
        "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/updates",
        "telegram_webhook_secret": SECRET,
    }


def start_update(update_id: int, user: int) -> dict[str, Any]:
    """A reader's /start, shaped as Telegram POSTs it."""
    person = {"id": user, "is_bot": False, "first_name": "Stranger", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_780_000_000,
            "chat": {"id": user, "type": "private", "first_name": "Stranger"},
            "from": person,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def post(url: str, *, headers: dict[str, str], **body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, headers=headers, **body) as answer:
        return answer.status, await answer.json()


async def test_updates_arrive_by_webhook_and_are_answered(stack: Stack) -> None:
    info = stack.sandbox.webhook_info()
    assert info["url"] == stack.settings.telegram_webhook_url
    assert info["allowed_updates"] == ALLOWED_UPDATES
    assert stack.sandbox.webhook.secret == SECRET
    reply = await say(stack, "/start")
    assert "Hello" in reply["text"]
    assert stack.sandbox.webhook.delivered >= 1
    # Never polled: while a webhook is set, the sandbox's getUpdates would answer 409.
    assert stack.sandbox.counters["getUpdates"] == 0
    assert stack.sandbox.counters["409"] == 0


async def test_wrong_or_missing_secret_is_refused_and_not_handled(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack.sandbox.add_user(STRANGER, "Stranger")
    url = stack.settings.telegram_webhook_url
    refusals = [{}, {SECRET_HEADER: "guessed"}, {SECRET_HEADER: SECRET + "x"}, {"X-Other": SECRET}]
    for n, headers in enumerate(refusals):
        status, body = await post(url, headers=headers, json=start_update(900_000 + n, STRANGER))
        assert (status, body) == (403, {"error": "wrong or missing secret token"})
    status, body = await post(url, headers={SECRET_HEADER: SECRET}, data=b"{not json")
    assert (status, body) == (400, {"error": "body is not JSON"})
    status, body = await post(url, headers={SECRET_HEADER: SECRET}, json={"message": {}})
    assert (status, body) == (400, {"error": "not a Telegram update"})

    # The same update with the right secret is handled: the refusals were for the secret only.
    status, body = await post(
        url, headers={SECRET_HEADER: SECRET}, json=start_update(900_100, STRANGER)
    )
    assert (status, body) == (200, {"ok": True})
    await wait_for(lambda: stack.sandbox.bot_messages(STRANGER), what="the reply to /start")
    await say(stack, "/help")  # a barrier: any refused update would have been answered by now
    assert len(stack.sandbox.bot_messages(STRANGER)) == 1
    assert "webhook request without the right secret token refused" in caplog.text
    assert SECRET not in caplog.text and "guessed" not in caplog.text


def test_the_secret_is_redacted_from_every_log_line(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO")  # no secrets given here: Newswire registered the webhook's at start
    logging.getLogger("newswire.test").warning("the secret is %s", SECRET)
    err = capsys.readouterr().err
    assert SECRET not in err and "the secret is <redacted>" in err


async def test_polling_again_once_the_url_is_unset(stack: Stack) -> None:
    from bot.app import Newswire

    await stack.newswire.stop()
    # Stopping leaves the webhook set: Telegram keeps updates for the next start.
    assert stack.sandbox.webhook_info()["url"] == stack.settings.telegram_webhook_url
    stack.settings = stack.settings.model_copy(
        update={"telegram_webhook_url": None, "telegram_webhook_secret": None, "http_port": 0}
    )
    stack.newswire = Newswire(stack.settings, stack.newswire.endpoint, channels=stack.channels)
    await stack.newswire.start()
    assert stack.sandbox.webhook_info()["url"] == ""  # deleteWebhook, then long polling
    reply = await say(stack, "/start")
    assert "Hello" in reply["text"]
    assert stack.sandbox.counters["getUpdates"] >= 1


def test_route_is_the_urls_path() -> None:
    assert webhook_path("https://news.example.com/hooks/telegram") == "/hooks/telegram"
    assert webhook_path("https://news.example.com") == "/telegram"
