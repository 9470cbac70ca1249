"""The control API: only local JSON callers, bounded requests, and the forged-callback switch."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, SandboxServer
from bot.sandbox.client import ControlError, SandboxClient


async def _post(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, str, Any]:
    async with http.post(url, **kwargs) as response:
        return response.status, response.content_type, await response.json()


async def test_a_post_that_is_not_json_is_refused_before_anything_happens(
    server: SandboxServer, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = server.url + "control/users"
    body = '{"id": 777, "first_name": "Mallory"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        status, kind, answer = await _post(
            http, url, data=body, headers={"Content-Type": content_type}
        )
        assert (status, kind) == (415, "application/json"), content_type
        assert "application/json" in answer["error"]
    assert all(u["id"] != 777 for u in sandbox.users())
    status, _, _ = await _post(http, url, json={"id": 777, "first_name": "Ann"})
    assert status == 200


async def test_other_origins_are_refused(
    server: SandboxServer, sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = server.url + "control/send"
    body = {"user_id": 1001, "text": "/subscribe evil"}
    for origin in (
        "https://evil.example",
        f"http://evil.example:{server.port}",
        "null",
        "http://127.0.0.1:1",
    ):
        status, kind, answer = await _post(http, url, json=body, headers={"Origin": origin})
        assert (status, kind) == (403, "application/json"), origin
        assert "error" in answer
    assert sandbox.pending_updates() == []
    for origin in (f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"):
        status, _, _ = await _post(http, url, json=body, headers={"Origin": origin})
        assert status == 200, origin


async def test_other_hosts_are_refused_against_dns_rebinding(
    server: SandboxServer, http: aiohttp.ClientSession
) -> None:
    for host in (f"evil.example:{server.port}", "127.0.0.1:1", "127.0.0.1", "10.0.0.5"):
        async with http.get(server.url + "control/state", headers={"Host": host}) as r:
            assert (r.status, r.content_type) == (403, "application/json"), host
            assert "loopback" in (await r.json())["error"]
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}"):
        async with http.get(server.url + "control/state", headers={"Host": host}) as r:
            assert r.status == 200, host


async def test_the_bot_api_and_page_are_not_behind_the_control_checks(
    server: SandboxServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url, headers={"Origin": "https://elsewhere.example"}) as r:
        assert r.status == 200


def test_the_page_posts_json() -> None:
    from bot.sandbox.server import _STATIC

    script = (_STATIC / "app.js").read_text(encoding="utf-8")
    assert '"Content-Type": "application/json"' in script
    assert "JSON.stringify(body)" in script


async def test_a_sandbox_bug_in_a_control_call_is_a_500_not_a_400(
    client: SandboxClient, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("a bug")

    monkeypatch.setattr(sandbox, "add_group", broken)
    with pytest.raises(ControlError) as caught:
        await client.add_group("Club")
    assert (caught.value.status, caught.value.reason) == (500, "internal error")


# ---------------------------------------------------------------- forged callbacks


async def test_press_needs_a_real_button_unless_forged(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    keyboard = '{"inline_keyboard": [[{"text": "Open", "callback_data": "o:1"}]]}'
    sandbox.call("sendMessage", {"chat_id": 1001, "text": "story", "reply_markup": keyboard})
    with pytest.raises(ControlError) as refused:
        await client.press(1001, 1001, 1, "o:embargoed")
    assert refused.value.status == 400
    assert sandbox.pending_updates() == []

    query_id = await client.press(1001, 1001, 1, "o:embargoed", forge=True)
    (update,) = sandbox.pending_updates()
    query = update["callback_query"]
    assert (query["id"], query["data"], query["from"]["id"]) == (query_id, "o:embargoed", 1001)
    assert query["message"]["message_id"] == 1
    # The bot can answer a forged query like any other.
    assert sandbox.call("answerCallbackQuery", {"callback_query_id": query_id})[0] == 200


def test_forged_press_in_python_and_its_limits(sandbox: Sandbox) -> None:
    sandbox.call("sendMessage", {"chat_id": 1001, "text": "no buttons at all"})
    with pytest.raises(ValueError, match="no button"):
        sandbox.press_button(1001, 1001, 1, "s:anything")
    sandbox.press_button(1001, 1001, 1, "s:anything", forge=True)
    assert sandbox.pending_updates()[-1]["callback_query"]["data"] == "s:anything"
    with pytest.raises(ValueError, match="1-64 bytes"):
        sandbox.press_button(1001, 1001, 1, "x" * 65, forge=True)
    with pytest.raises(ValueError, match="message not found"):
        sandbox.press_button(1001, 1001, 99, "s:anything", forge=True)
