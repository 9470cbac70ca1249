"""The sandbox held to the Bot API spec: calls checked against it, answers shaped like it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, SandboxServer, UploadedFile, spec
from bot.sandbox.client import SandboxClient
from bot.sandbox.methods import table
from tests.support.sandbox import TOKEN

SHARED_API = Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api.json"


def checked_call(sandbox: Sandbox, method: str, **params: Any) -> Any:
    """Call a method, expect success, and check the result against the method's return type."""
    status, body = sandbox.call(method, params)
    assert status == 200, body
    returns = spec.load()["methods"][method]["returns"]
    assert spec.problems(body["result"], returns) == [], (method, body["result"])
    return body["result"]


def test_the_vendored_spec_matches_the_shared_api_json() -> None:
    if not SHARED_API.exists():
        pytest.skip(f"{SHARED_API} is not here (the vendored copy is all the sandbox needs)")
    api = json.loads(SHARED_API.read_text(encoding="utf-8"))
    assert spec.SPEC_FILE.read_text(encoding="utf-8") == spec.dumps(spec.trim(api)), (
        "bot/sandbox/spec.json is stale: python -m bot.sandbox.spec --from " + str(SHARED_API)
    )


def test_every_method_the_sandbox_answers_is_in_the_spec() -> None:
    assert set(table()) <= set(spec.load()["methods"])


def test_the_validator_catches_what_it_should() -> None:
    user = {"id": 1, "is_bot": False, "first_name": "A"}
    assert spec.problems(user, ["User"]) == []
    assert spec.problems({**user, "nickname": "x"}, ["User"]) == ["$: User has no field 'nickname'"]
    assert spec.problems({"id": 1, "is_bot": False}, ["User"]) == [
        "$: User lacks required field 'first_name'"
    ]
    assert spec.problems({**user, "id": "1"}, ["User"]) == ["$.id: expected Integer, got '1'"]
    member = {"status": "member", "user": user}
    assert spec.problems(member, ["ChatMember"]) == []  # one of its subtypes fits
    assert spec.problems([member, 3], ["Array of ChatMember"]) != []


def test_every_object_the_sandbox_returns_fits_the_spec(sandbox: Sandbox) -> None:
    """One scenario touching every method; every result and every update is checked."""
    called: set[str] = set()

    def call(method: str, **params: Any) -> Any:
        called.add(method)
        return checked_call(sandbox, method, **params)

    channel = sandbox.add_channel("@wire", "Wire")
    call("getMe")
    call("deleteWebhook", drop_pending_updates=True)
    commands = [{"command": "start", "description": "Start"}]
    call("setMyCommands", commands=json.dumps(commands))
    markup = json.dumps({"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]})
    first = call(
        "sendMessage",
        chat_id=1001,
        text='<b>Hi</b> <a href="tg://user?id=1001">you</a>',
        parse_mode="HTML",
        reply_markup=markup,
    )
    call("sendMessage", chat_id=1001, text="re", reply_parameters=json.dumps({"message_id": 1}))
    call("sendMessage", chat_id=channel, text="to the channel")
    call(
        "sendPhoto",
        chat_id=channel,
        photo="https://img.example/a.jpg",
        caption="<i>c</i>",
        parse_mode="HTML",
    )
    call("sendPhoto", chat_id=1001, photo=UploadedFile("a.jpg", "image/jpeg", b"\xff\xd8"))
    call("editMessageText", chat_id=1001, message_id=first["message_id"], text="edited")
    call("editMessageCaption", chat_id=channel, message_id=2, caption="new caption")

    forum = sandbox.add_forum("Desk", "desk")
    topic = call("createForumTopic", chat_id=forum, name="Transport")
    call(
        "sendMessage",
        chat_id=forum,
        message_thread_id=topic["message_thread_id"],
        text="in a topic https://news.example/a",
        protect_content=True,
        disable_notification=True,
        link_preview_options=json.dumps({"url": "https://news.example/a", "show_above_text": True}),
    )
    call("sendPhoto", chat_id=channel, photo="https://img.example/b.jpg", protect_content=True)
    thread = topic["message_thread_id"]
    call("sendChatAction", chat_id=forum, action="typing", message_thread_id=thread)
    call("getChat", chat_id="@wire")
    call("getChat", chat_id=forum)
    call("getChatMember", chat_id=channel, user_id=sandbox.bot_id)
    call("getChatMember", chat_id=forum, user_id=sandbox.bot_id)
    call("getChatMember", chat_id=1001, user_id=1001)
    call("pinChatMessage", chat_id=channel, message_id=1, disable_notification=True)
    call("getChat", chat_id=channel)  # with its pinned_message
    call("unpinChatMessage", chat_id=channel, message_id=1)
    call("pinChatMessage", chat_id=channel, message_id=2)
    call("unpinAllChatMessages", chat_id=channel)
    call("deleteMessage", chat_id=channel, message_id=1)
    call("deleteMessages", chat_id=channel, message_ids=json.dumps([2, 3]))
    sandbox.set_rights(channel, "left")
    call("getChatMember", chat_id=channel, user_id=sandbox.bot_id)
    sandbox.set_rights(channel, "kicked")
    call("getChatMember", chat_id=channel, user_id=sandbox.bot_id)
    call("setWebhook", url="http://127.0.0.1:9/hook", secret_token="s3cret_-", max_connections=5)
    call("getWebhookInfo")
    call("deleteWebhook")
    call("getWebhookInfo")

    sandbox.send_user_message(1001, "/start now")
    sandbox.press_button(1001, 1001, 1, "more", forge=True)
    sandbox.press_button(2, 1001, 1, "anything", forge=True)
    sandbox.block_bot(3)
    sandbox.block_bot(3, False)
    sandbox.inline.feedback = True
    inline_id = sandbox.inline_query(1001, "otters")
    story = {
        "type": "article",
        "id": "a1",
        "title": "Otters",
        "description": "At the park.",
        "thumbnail_url": "https://img.example/o.jpg",
        "input_message_content": {"message_text": "<b>Otters</b>", "parse_mode": "HTML"},
        "reply_markup": {"inline_keyboard": [[{"text": "Site", "url": "https://news.example"}]]},
    }
    call(
        "answerInlineQuery",
        inline_query_id=inline_id,
        results=json.dumps([story]),
        cache_time=10,
        is_personal=False,
        next_offset="20",
    )
    sandbox.choose_inline_result(inline_id, "a1")
    updates = call("getUpdates")
    kinds = {next(k for k in u if k != "update_id") for u in updates}
    assert kinds == {
        "message",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
    }
    query_id = next(u["callback_query"]["id"] for u in updates if "callback_query" in u)
    call("answerCallbackQuery", callback_query_id=query_id, text="Done")

    assert called == set(table()), "a new method needs a line in this scenario"
    assert sandbox.unknown_parameters == {}


# ---------------------------------------------------------------- parameters


def test_a_missing_required_parameter_is_telegrams_400(sandbox: Sandbox) -> None:
    cases = {
        ("sendMessage", "chat_id"): "Bad Request: chat_id is empty",
        ("sendMessage", "text"): "Bad Request: message text is empty",
        ("sendPhoto", "photo"): "Bad Request: there is no photo in the request",
        ("setMyCommands", "commands"): 'Bad Request: parameter "commands" is required',
        ("answerCallbackQuery", "callback_query_id"): (
            'Bad Request: parameter "callback_query_id" is required'
        ),
        ("answerInlineQuery", "results"): 'Bad Request: parameter "results" is required',
    }
    full: dict[str, dict[str, Any]] = {
        "sendMessage": {"chat_id": 1001, "text": "hi"},
        "sendPhoto": {"chat_id": 1001, "photo": "https://img.example/a.jpg"},
        "setMyCommands": {"commands": "[]"},
        "answerCallbackQuery": {"callback_query_id": "1"},
        "answerInlineQuery": {"inline_query_id": "1", "results": "[]"},
    }
    for (method, missing), description in cases.items():
        params = {k: v for k, v in full[method].items() if k != missing}
        assert sandbox.call(method, params) == (
            400,
            {"ok": False, "error_code": 400, "description": description},
        ), (method, missing)


def test_a_wrong_type_is_telegrams_400(sandbox: Sandbox) -> None:
    sandbox.call("sendMessage", {"chat_id": 1001, "text": "hi"})
    cases = [
        (
            "sendMessage",
            {"chat_id": 1001, "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "sendMessage",
            {"chat_id": 1001, "text": "x", "reply_markup": "[1]"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        ("sendMessage", {"chat_id": "not a chat", "text": "x"}, "Bad Request: chat not found"),
        (
            "editMessageText",
            {"chat_id": 1001, "message_id": "first", "text": "x"},
            "Bad Request: message to edit not found",
        ),
        (
            "setMyCommands",
            {"commands": '{"command": "start"}'},
            'Bad Request: parameter "commands" is required',
        ),
    ]
    for method, params, description in cases:
        status, body = sandbox.call(method, params)
        assert (status, body["description"]) == (400, description), (method, params)


def test_an_unknown_parameter_is_accepted_logged_and_counted(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.sandbox"):
        status, _ = sandbox.call(
            "sendMessage", {"chat_id": 1001, "text": "hi", "disable_notificaton": True}
        )
    assert status == 200  # as Telegram: silently ignored...
    assert sandbox.unknown_parameters == {"sendMessage.disable_notificaton": 1}  # ...but counted
    assert any(
        r.levelno == logging.WARNING
        and "sendMessage" in r.getMessage()
        and "disable_notificaton" in r.getMessage()
        for r in caplog.records
    )
    assert sandbox.counter_view()["unknown_parameters"] == 1


async def test_unknown_parameters_are_readable_through_the_client(
    sandbox: Sandbox, client: SandboxClient, server: SandboxServer
) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{server.api_base_url}{TOKEN}/getUpdates"
        async with http.post(url, json={"timeout": 0, "allowed_update": ["message"]}) as r:
            assert r.status == 200
    assert await client.unknown_parameters() == {"getUpdates.allowed_update": 1}
    assert (await client.counters())["unknown_parameters"] == 1


# ---------------------------------------------------------------- sandbox bugs


def _broken(sb: Sandbox, p: Any) -> Any:
    return {}["missing"]  # a sandbox bug, not a bad request


async def test_a_sandbox_bug_is_a_500_with_a_traceback(
    sandbox: Sandbox,
    server: SandboxServer,
    client: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(sandbox._methods, "getme", ("getMe", _broken))
    monkeypatch.setattr(sandbox, "counter_view", lambda: _broken(sandbox, None))
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.ERROR):
            async with http.post(f"{server.api_base_url}{TOKEN}/getMe") as r:
                assert r.status == 500
                assert (await r.json())["error_code"] == 500
            with pytest.raises(Exception) as caught:
                await client.counters()
    assert getattr(caught.value, "status", None) == 500
    tracebacks = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert len(tracebacks) == 2
    assert not any(TOKEN in r.getMessage() for r in caplog.records)
