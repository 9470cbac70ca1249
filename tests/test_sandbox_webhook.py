"""The sandbox's webhooks: set, delivered in order with the secret header, retried, deleted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from bot.sandbox import Sandbox, SandboxServer
from bot.sandbox.client import SandboxClient
from bot.sandbox.webhook import SECRET_HEADER
from tests.support.http import LocalServer
from tests.support.waiting import wait_for

SECRET = "s3cret_Token-1"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)


class Receiver:
    """The bot's side of a webhook: records every POST; answers `fail_first` of them with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[str | None, dict[str, Any]]] = []

    async def __call__(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get(SECRET_HEADER), await request.json()))
        if len(self.received) <= self.fail_first:
            return web.Response(status=500, text="boom")
        return web.Response(text="ok")

    def texts(self) -> list[str]:
        return [u["message"]["text"] for _, u in self.received if "message" in u]


async def test_updates_are_posted_to_the_webhook_with_the_secret_header(
    bot: Bot, client: SandboxClient
) -> None:
    receiver = Receiver()
    async with LocalServer() as local:
        url = local.handle("/hook", receiver)
        assert await bot.set_webhook(url, secret_token=SECRET, allowed_updates=["message"])
        await client.send(1001, "/start")
        await client.send(1001, "hello")
        await wait_for(lambda: len(receiver.received) == 2, what="two webhook posts")
        assert [secret for secret, _ in receiver.received] == [SECRET, SECRET]
        assert receiver.texts() == ["/start", "hello"]
        ids = [u["update_id"] for _, u in receiver.received]
        assert ids == sorted(ids)
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.allowed_updates) == (url, 0, ("message",))
        assert info.last_error_message is None
        assert (await client.webhook_info())["delivered"] == 2


async def test_a_failed_post_is_retried_in_order_and_reported(
    bot: Bot, client: SandboxClient
) -> None:
    receiver = Receiver(fail_first=2)
    async with LocalServer() as local:
        url = local.handle("/hook", receiver)
        await bot.set_webhook(url)
        await client.send(1001, "first")
        await client.send(1001, "second")
        await wait_for(lambda: len(receiver.received) == 4, what="retries and both updates")
        assert receiver.texts() == ["first", "first", "first", "second"]
        assert [secret for secret, _ in receiver.received] == [None] * 4  # no secret, no header
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None


async def test_an_unreachable_webhook_keeps_its_updates_pending(
    bot: Bot, client: SandboxClient
) -> None:
    local = LocalServer()
    await local.start()
    url = local.url("/hook")
    await local.stop()  # nothing listens there now
    await bot.set_webhook(url)
    await client.send(1001, "waiting")
    await wait_for(lambda: _attempted(client), what="a failed attempt")
    info = await client.webhook_info()
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Connection refused"


async def _attempted(client: SandboxClient) -> bool:
    return bool((await client.webhook_info()).get("last_error_message"))


async def test_get_updates_is_a_conflict_while_a_webhook_is_set(
    bot: Bot, sandbox: Sandbox, client: SandboxClient
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    status, body = await sandbox.get_updates({"timeout": 0})
    assert (status, body["description"]) == (409, WEBHOOK_ACTIVE)
    assert await bot.delete_webhook()
    await client.send(1001, "polled again")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["polled again"]
    assert (await bot.get_webhook_info()).url == ""


async def test_a_parked_long_poll_answers_409_when_a_webhook_is_set(
    server: SandboxServer, sandbox: Sandbox
) -> None:
    poll = asyncio.create_task(sandbox.get_updates({"timeout": 20}))
    await wait_for(lambda: sandbox.waiting >= 1, what="a parked getUpdates")
    assert sandbox.call("setWebhook", {"url": "http://127.0.0.1:9/hook"})[0] == 200
    status, body = await asyncio.wait_for(poll, 5)
    assert (status, body["description"]) == (409, WEBHOOK_ACTIVE)


async def test_delete_webhook_stops_delivery_and_may_drop_pending(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    receiver = Receiver()
    async with LocalServer() as local:
        url = local.handle("/hook", receiver)
        await bot.set_webhook(url)
        await client.send(1001, "delivered")
        await wait_for(lambda: receiver.received, what="one post")
        assert await bot.delete_webhook()
        assert not sandbox.webhook.running
        await client.send(1001, "kept for polling")
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["kept for polling"]
        assert receiver.texts() == ["delivered"]
        # drop_pending_updates on setWebhook forgets what was waiting.
        await client.send(1001, "dropped")
        await bot.set_webhook(url, drop_pending_updates=True)
        await client.send(1001, "after")
        await wait_for(lambda: len(receiver.received) == 2, what="the next post")
        assert receiver.texts() == ["delivered", "after"]


async def test_stopping_the_server_stops_delivery(sandbox: Sandbox) -> None:
    receiver = Receiver(fail_first=1_000_000)
    async with LocalServer() as local:
        url = local.handle("/hook", receiver)
        async with SandboxServer(sandbox) as server:
            assert sandbox.call("setWebhook", {"url": url})[0] == 200
            sandbox.send_user_message(1001, "retried forever")
            await wait_for(lambda: receiver.received, what="a first attempt")
            assert sandbox.webhook.running and server.port
        assert not sandbox.webhook.running
        seen = len(receiver.received)
        assert sandbox.webhook.info()["pending_update_count"] == 1
        assert len(receiver.received) == seen


def test_a_webhook_set_without_a_loop_starts_with_the_server(sandbox: Sandbox) -> None:
    assert sandbox.call("setWebhook", {"url": "http://127.0.0.1:9/hook"})[0] == 200
    assert not sandbox.webhook.running  # no loop yet: SandboxServer.start resumes it


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"secret_token": "has space"}, "Bad Request: secret token contains unallowed characters"),
        ({"secret_token": "a+b/c="}, "Bad Request: secret token contains unallowed characters"),
        ({"secret_token": "a" * 257}, "Bad Request: secret token is too long"),
        (
            {"url": "ftp://127.0.0.1/hook"},
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"allowed_updates": '{"message": 1}'},
            "Bad Request: can't parse allowed_updates JSON object",
        ),
    ],
)
def test_bad_webhook_settings_are_refused(
    sandbox: Sandbox, params: dict[str, Any], description: str
) -> None:
    status, body = sandbox.call("setWebhook", {"url": "http://127.0.0.1:9/hook", **params})
    assert (status, body["description"]) == (400, description)
    assert sandbox.webhook.info()["url"] == ""


async def test_bad_secret_is_a_bad_request_through_ptb(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces")
