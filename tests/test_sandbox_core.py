"""Sandbox rules in-process, with a fake clock: limits, errors, edits, updates."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.sandbox import Limits, Sandbox, UploadedFile
from bot.sandbox.core import NOT_MODIFIED, QUERY_TOO_OLD
from tests.support.clock import FakeClock


def ok(sandbox: Sandbox, method: str, **params: Any) -> Any:
    status, body = sandbox.call(method, params)
    assert status == 200, body
    return body["result"]


def fail(sandbox: Sandbox, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    status, body = sandbox.call(method, params)
    assert status != 200, body
    assert body["ok"] is False
    assert body["error_code"] == status
    return status, body


def keyboard(*data: str) -> str:
    """An inline keyboard as PTB sends it in a form field: JSON text."""
    return json.dumps({"inline_keyboard": [[{"text": d, "callback_data": d} for d in data]]})


# ---------------------------------------------------------------- basics


def test_get_me_and_method_names_are_case_insensitive(sandbox: Sandbox) -> None:
    me = ok(sandbox, "getme")
    assert me["username"] == "newswire_bot"
    assert me["is_bot"] is True
    assert ok(sandbox, "GETME") == me


def test_unknown_method_is_404(sandbox: Sandbox) -> None:
    status, body = fail(sandbox, "sendTelepathy", chat_id=1001)
    assert (status, body["description"]) == (404, "Not Found")


def test_send_message_returns_a_real_message(sandbox: Sandbox) -> None:
    result = ok(
        sandbox,
        "sendMessage",
        chat_id="1001",
        text="<b>Hello</b> world",
        parse_mode="HTML",
        reply_markup=keyboard("more"),
        link_preview_options='{"is_disabled": true}',
        disable_notification="true",
        protect_content="false",
    )
    assert result["message_id"] == 1
    assert result["chat"] == {
        "id": 1001,
        "type": "private",
        "first_name": "Reader",
        "username": "reader",
    }
    assert result["from"]["username"] == "newswire_bot"
    assert result["text"] == "Hello world"
    assert result["entities"] == [{"offset": 0, "length": 5, "type": "bold"}]
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more"
    [stored] = sandbox.messages(1001)
    assert stored["html"] == "<b>Hello</b> world"
    assert stored["from_bot"] is True
    assert stored["edited"] is False
    assert sandbox.counters["sent"] == 1
    assert sandbox.counters["sendMessage"] == 1


def test_channel_by_username_and_id(sandbox: Sandbox) -> None:
    channel = sandbox.add_channel("@newsroom", "Newsroom")
    assert sandbox.add_channel("newsroom") == channel  # idempotent
    assert str(channel).startswith("-100")
    post = ok(sandbox, "sendMessage", chat_id="@newsroom", text="first")
    assert post["chat"]["id"] == channel
    assert post["chat"]["type"] == "channel"
    assert post["sender_chat"]["id"] == channel
    assert sandbox.resolve_chat("@NewsRoom") == channel
    assert [m["text"] for m in sandbox.messages("@newsroom")] == ["first"]


def test_channel_by_numeric_id_keeps_that_id(sandbox: Sandbox) -> None:
    """TELEGRAM_CHANNELS may name a private channel by id; the sandbox creates it so."""
    channel = sandbox.add_channel("-1001987654321")
    assert channel == -1001987654321
    assert sandbox.add_channel("-1001987654321") == channel  # idempotent
    post = ok(sandbox, "sendMessage", chat_id=channel, text="first")
    assert (post["chat"]["id"], post["chat"]["type"]) == (channel, "channel")
    assert [m["text"] for m in sandbox.messages(channel)] == ["first"]


def test_unknown_chat_is_400(sandbox: Sandbox) -> None:
    for chat_id in ("@nobody", 424242, "not-a-chat"):
        status, body = fail(sandbox, "sendMessage", chat_id=chat_id, text="hi")
        assert (status, body["description"]) == (400, "Bad Request: chat not found")


def test_blocked_user_is_403_and_counts(sandbox: Sandbox) -> None:
    sandbox.block_bot(1001)
    status, body = fail(sandbox, "sendMessage", chat_id=1001, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    assert sandbox.counters["403"] == 1
    assert sandbox.messages(1001) == []
    sandbox.block_bot(1001, False)
    ok(sandbox, "sendMessage", chat_id=1001, text="welcome back")


def test_block_and_unblock_queue_my_chat_member(sandbox: Sandbox) -> None:
    sandbox.block_bot(1001)
    sandbox.block_bot(1001)  # no change, no update
    sandbox.block_bot(1001, False)
    updates = ok(sandbox, "getUpdates")
    statuses = [u["my_chat_member"]["new_chat_member"]["status"] for u in updates]
    assert statuses == ["kicked", "member"]


def test_text_rules(sandbox: Sandbox) -> None:
    empty = "Bad Request: message text is empty"
    assert fail(sandbox, "sendMessage", chat_id=1001, text="")[1]["description"] == empty
    assert fail(sandbox, "sendMessage", chat_id=1001)[1]["description"] == empty
    blank = fail(sandbox, "sendMessage", chat_id=1001, text="<b> </b>", parse_mode="HTML")
    assert blank[1]["description"] == empty
    too_long = fail(sandbox, "sendMessage", chat_id=1001, text="x" * 4097)
    assert too_long[1]["description"] == "Bad Request: message is too long"
    ok(sandbox, "sendMessage", chat_id=1001, text="x" * 4096)
    # Markup does not count, only the text after parsing.
    ok(sandbox, "sendMessage", chat_id=1001, text="<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    # An emoji is two UTF-16 units: 2049 of them are over the limit.
    emoji = fail(sandbox, "sendMessage", chat_id=1001, text="😀" * 2049)
    assert emoji[1]["description"] == "Bad Request: message is too long"


def test_bad_html_is_400_with_telegram_text(sandbox: Sandbox) -> None:
    _, body = fail(sandbox, "sendMessage", chat_id=1001, text="<p>x</p>", parse_mode="HTML")
    assert body["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )
    # Without a parse mode the same text is fine.
    assert ok(sandbox, "sendMessage", chat_id=1001, text="<p>x</p>")["text"] == "<p>x</p>"


def test_callback_data_limits(sandbox: Sandbox) -> None:
    _, body = fail(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=keyboard("a" * 65))
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    # 64 bytes is fine, measured in bytes not characters.
    ok(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=keyboard("a" * 64))
    _, body = fail(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=keyboard("é" * 33))
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"


def test_button_urls_and_text_buttons(sandbox: Sandbox) -> None:
    def markup(button: dict[str, str]) -> str:
        return json.dumps({"inline_keyboard": [[{"text": "t", **button}]]})

    ok(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=markup({"url": "https://a.b"}))
    ok(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=markup({"url": "tg://x"}))
    bad = fail(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=markup({"url": "ftp"}))
    assert bad[1]["description"] == "Bad Request: BUTTON_URL_INVALID"
    plain = fail(sandbox, "sendMessage", chat_id=1001, text="x", reply_markup=markup({}))
    assert "Text buttons are unallowed" in plain[1]["description"]


def test_caption_limit_and_photo_sources(sandbox: Sandbox) -> None:
    long = fail(
        sandbox, "sendPhoto", chat_id=1001, photo="https://p.example/a.jpg", caption="c" * 1025
    )
    assert long[1]["description"] == "Bad Request: message caption is too long"
    sent = ok(
        sandbox,
        "sendPhoto",
        chat_id=1001,
        photo="https://p.example/a.jpg",
        caption="<i>c</i>",
        parse_mode="HTML",
    )
    assert sent["caption"] == "c"
    assert sent["caption_entities"] == [{"offset": 0, "length": 1, "type": "italic"}]
    file_id = sent["photo"][-1]["file_id"]
    again = ok(sandbox, "sendPhoto", chat_id=1001, photo=file_id)
    assert again["photo"][-1]["file_id"] == file_id
    upload = ok(
        sandbox, "sendPhoto", chat_id=1001, photo=UploadedFile("a.jpg", "image/jpeg", b"jpg")
    )
    assert sandbox.file_content(upload["photo"][-1]["file_id"]) == b"jpg"
    views = sandbox.messages(1001)
    assert [v["photo"] for v in views] == ["https://p.example/a.jpg"] * 2 + ["uploaded"]
    assert views[0]["caption_html"] == "<i>c</i>"
    wrong = fail(sandbox, "sendPhoto", chat_id=1001, photo="nonsense")
    assert wrong[1]["description"] == "Bad Request: wrong file identifier/HTTP URL specified"


# ---------------------------------------------------------------- flood limits


def test_private_burst_then_429_with_retry_after(sandbox: Sandbox, clock: FakeClock) -> None:
    for i in range(5):
        ok(sandbox, "sendMessage", chat_id=1001, text=f"burst {i}")
    status, body = fail(sandbox, "sendMessage", chat_id=1001, text="sixth")
    assert status == 429
    assert body["description"] == "Too Many Requests: retry after 1"
    assert body["parameters"] == {"retry_after": 1}
    assert len(sandbox.messages(1001)) == 5  # a refused call leaves no message
    assert sandbox.counters["429"] == 1
    clock.advance(0.5)
    assert fail(sandbox, "sendMessage", chat_id=1001, text="still early")[0] == 429
    clock.advance(0.5)
    ok(sandbox, "sendMessage", chat_id=1001, text="one token back")
    assert fail(sandbox, "sendMessage", chat_id=1001, text="again")[0] == 429


def test_private_retry_after_reflects_the_rate(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, limits=Limits(private_per_second=0.25, private_burst=1))
    sandbox.add_user(7)
    ok(sandbox, "sendMessage", chat_id=7, text="x")
    _, body = fail(sandbox, "sendMessage", chat_id=7, text="y")
    assert body["parameters"]["retry_after"] == 4


def test_private_limits_are_per_chat(sandbox: Sandbox) -> None:
    sandbox.add_user(1002)
    for _ in range(5):
        ok(sandbox, "sendMessage", chat_id=1001, text="a")
    ok(sandbox, "sendMessage", chat_id=1002, text="b")


def test_channel_twenty_per_minute(sandbox: Sandbox, clock: FakeClock) -> None:
    channel = sandbox.add_channel("@wire")
    for i in range(20):
        ok(sandbox, "sendMessage", chat_id=channel, text=f"post {i}")
        clock.advance(2.0)  # 40 s for 20 posts: well inside one minute
    status, body = fail(sandbox, "sendMessage", chat_id=channel, text="21st")
    assert status == 429
    # The first post was at t=0, now is t=40: one more is admitted at t=60.
    assert body["parameters"]["retry_after"] == 20
    assert body["description"] == "Too Many Requests: retry after 20"
    clock.advance(20.0)
    ok(sandbox, "sendMessage", chat_id=channel, text="21st, later")


def test_group_limit_applies_too(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, limits=Limits(group_per_minute=2))
    group = sandbox.add_group("Editors")
    ok(sandbox, "sendMessage", chat_id=group, text="1")
    ok(sandbox, "sendMessage", chat_id=group, text="2")
    assert fail(sandbox, "sendMessage", chat_id=group, text="3")[1]["parameters"] == {
        "retry_after": 60
    }


def _many_users(sandbox: Sandbox, count: int) -> list[int]:
    ids = list(range(2000, 2000 + count))
    for user_id in ids:
        sandbox.add_user(user_id)
    return ids


def test_global_thirty_per_second(sandbox: Sandbox, clock: FakeClock) -> None:
    users = _many_users(sandbox, 31)
    for user_id in users[:30]:
        ok(sandbox, "sendMessage", chat_id=user_id, text="hi")
        clock.advance(0.01)
    status, body = fail(sandbox, "sendMessage", chat_id=users[30], text="31st")
    assert status == 429
    assert body["parameters"]["retry_after"] == 1
    clock.advance(0.71)  # the first send (t=0) has left the 1 s window
    ok(sandbox, "sendMessage", chat_id=users[30], text="31st, later")


def test_paid_broadcast_raises_the_global_cap(sandbox: Sandbox) -> None:
    users = _many_users(sandbox, 60)
    for user_id in users[:30]:
        ok(sandbox, "sendMessage", chat_id=user_id, text="hi")
    assert fail(sandbox, "sendMessage", chat_id=users[30], text="x")[0] == 429
    for user_id in users[30:]:
        ok(sandbox, "sendMessage", chat_id=user_id, text="paid", allow_paid_broadcast="true")


def test_edits_and_answers_are_not_flood_limited(sandbox: Sandbox) -> None:
    for i in range(5):
        ok(sandbox, "sendMessage", chat_id=1001, text=f"m{i}")
    for i in range(10):
        ok(sandbox, "editMessageText", chat_id=1001, message_id=1, text=f"edit {i}")


def test_limits_can_be_switched_off(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, limits=Limits(enforce=False))
    sandbox.add_user(1)
    for _ in range(100):
        ok(sandbox, "sendMessage", chat_id=1, text="x")


# ---------------------------------------------------------------- edits and deletes


def test_edit_message_text(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="v1", reply_markup=keyboard("a"))
    edited = ok(
        sandbox,
        "editMessageText",
        chat_id=1001,
        message_id=1,
        text="<b>v2</b>",
        parse_mode="HTML",
        reply_markup=keyboard("a"),
    )
    assert edited["text"] == "v2"
    assert "edit_date" in edited
    [view] = sandbox.messages(1001)
    assert (view["text"], view["edited"], view["html"]) == ("v2", True, "<b>v2</b>")


def test_edit_not_modified(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="same", reply_markup=keyboard("a"))
    _, body = fail(
        sandbox,
        "editMessageText",
        chat_id=1001,
        message_id=1,
        text="same",
        reply_markup=keyboard("a"),
    )
    assert body["description"] == NOT_MODIFIED
    # Leaving out reply_markup removes the keyboard, as on Telegram: that is a change.
    edited = ok(sandbox, "editMessageText", chat_id=1001, message_id=1, text="same")
    assert "reply_markup" not in edited


def test_edit_unknown_message_and_user_messages(sandbox: Sandbox) -> None:
    _, body = fail(sandbox, "editMessageText", chat_id=1001, message_id=99, text="x")
    assert body["description"] == "Bad Request: message to edit not found"
    sandbox.send_user_message(1001, "mine")
    _, body = fail(sandbox, "editMessageText", chat_id=1001, message_id=1, text="x")
    assert body["description"] == "Bad Request: message can't be edited"


def test_edit_caption_and_markup(sandbox: Sandbox) -> None:
    ok(sandbox, "sendPhoto", chat_id=1001, photo="https://p.example/a.jpg", caption="old")
    edited = ok(
        sandbox,
        "editMessageCaption",
        chat_id=1001,
        message_id=1,
        caption="new",
        reply_markup=keyboard("k"),
    )
    assert edited["caption"] == "new"
    assert sandbox.messages(1001)[0]["reply_markup"] == json.loads(keyboard("k"))
    _, body = fail(sandbox, "editMessageText", chat_id=1001, message_id=1, text="t")
    assert body["description"] == "Bad Request: there is no text in the message to edit"


def test_a_person_deletes_a_message(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="bye")
    version = sandbox.chat_version(1001)
    sandbox.delete_message(1001, 1)
    assert sandbox.messages(1001) == []
    assert sandbox.messages_after(1001, 0, version)["deleted"] == [1]
    with pytest.raises(ValueError, match="message not found"):
        sandbox.delete_message(1001, 1)


# ---------------------------------------------------------------- users, callbacks, updates


def test_user_message_update_with_bot_command(sandbox: Sandbox) -> None:
    message = sandbox.send_user_message(1001, "/start@newswire_bot promo")
    assert message["from"]["id"] == 1001
    assert message["chat"]["id"] == 1001
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 19}]
    plain = sandbox.send_user_message(1001, "hello /start")
    assert "entities" not in plain
    [first, second] = ok(sandbox, "getUpdates")
    assert second["update_id"] == first["update_id"] + 1
    assert first["message"]["text"] == "/start@newswire_bot promo"


def test_unknown_users_are_added_when_they_write(sandbox: Sandbox) -> None:
    assert fail(sandbox, "sendMessage", chat_id=5005, text="x")[0] == 400
    sandbox.send_user_message(5005, "/start")
    ok(sandbox, "sendMessage", chat_id=5005, text="hello")
    assert {"id": 5005, "type": "private", "first_name": "Reader"} in sandbox.chats()


def test_offsets_confirm_updates(sandbox: Sandbox) -> None:
    for text in ("a", "b", "c"):
        sandbox.send_user_message(1001, text)
    updates = ok(sandbox, "getUpdates", limit="2")
    assert [u["message"]["text"] for u in updates] == ["a", "b"]
    again = ok(sandbox, "getUpdates")
    assert len(again) == 3  # nothing confirmed yet
    rest = ok(sandbox, "getUpdates", offset=str(updates[-1]["update_id"] + 1))
    assert [u["message"]["text"] for u in rest] == ["c"]
    assert ok(sandbox, "getUpdates", offset=rest[-1]["update_id"] + 1) == []


def test_allowed_updates_filter_sticks(sandbox: Sandbox) -> None:
    sandbox.send_user_message(1001, "text")
    assert ok(sandbox, "getUpdates", allowed_updates='["callback_query"]') == []
    sandbox.send_user_message(1001, "more text")
    assert ok(sandbox, "getUpdates") == []


def test_callback_query_flow(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="pick", reply_markup=keyboard("yes", "no"))
    with pytest.raises(ValueError):
        sandbox.press_button(1001, 1001, 1, "maybe")
    with pytest.raises(ValueError):
        sandbox.press_button(1001, 1001, 42, "yes")
    query_id = sandbox.press_button(1001, 1001, 1, "yes")
    [update] = ok(sandbox, "getUpdates")
    query = update["callback_query"]
    assert (query["id"], query["data"], query["from"]["id"]) == (query_id, "yes", 1001)
    assert query["message"]["message_id"] == 1
    too_long = fail(sandbox, "answerCallbackQuery", callback_query_id=query_id, text="x" * 201)
    assert too_long[1]["description"] == "Bad Request: MESSAGE_TOO_LONG"
    assert ok(sandbox, "answerCallbackQuery", callback_query_id=query_id, text="Saved") is True
    assert sandbox.callback_answers[-1]["text"] == "Saved"
    assert sandbox.callback_answers[-1]["callback_query_id"] == query_id
    twice = fail(sandbox, "answerCallbackQuery", callback_query_id=query_id)
    assert twice[1]["description"] == QUERY_TOO_OLD
    unknown = fail(sandbox, "answerCallbackQuery", callback_query_id="nope")
    assert unknown[1]["description"] == QUERY_TOO_OLD


def test_commands(sandbox: Sandbox) -> None:
    commands = [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert ok(sandbox, "setMyCommands", commands=json.dumps(commands)) is True
    assert sandbox.commands == commands
    bad = fail(sandbox, "setMyCommands", commands='[{"command": "Bad Cmd", "description": "x"}]')
    assert bad[1]["description"] == "Bad Request: BOT_COMMAND_INVALID"
    assert sandbox.commands == commands


def test_delete_webhook_can_drop_pending_updates(sandbox: Sandbox) -> None:
    sandbox.send_user_message(1001, "pending")
    assert ok(sandbox, "deleteWebhook", drop_pending_updates="true") is True
    assert ok(sandbox, "getUpdates") == []


def test_dates_follow_the_injected_clock(sandbox: Sandbox, clock: FakeClock) -> None:
    first = ok(sandbox, "sendMessage", chat_id=1001, text="a")["date"]
    clock.advance(3600)
    assert ok(sandbox, "sendMessage", chat_id=1001, text="b")["date"] == first + 3600


# ---------------------------------------------------------------- long polling


async def test_long_poll_returns_when_an_update_arrives(sandbox: Sandbox) -> None:
    poll = asyncio.create_task(sandbox.get_updates({"timeout": "10"}))
    await asyncio.sleep(0)  # let the poll register before the user writes
    sandbox.send_user_message(1001, "wake up")
    status, body = await asyncio.wait_for(poll, timeout=5)
    assert status == 200
    assert body["result"][0]["message"]["text"] == "wake up"


async def test_long_poll_times_out_empty(sandbox: Sandbox) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await sandbox.get_updates({"timeout": 0.2})
    assert (status, body["result"]) == (200, [])
    assert 0.15 < loop.time() - started < 2


async def test_a_newer_poll_terminates_the_older_one(sandbox: Sandbox) -> None:
    older = asyncio.create_task(sandbox.get_updates({"timeout": 10}))
    await asyncio.sleep(0)
    newer = asyncio.create_task(sandbox.get_updates({"timeout": 0}))
    status, body = await asyncio.wait_for(older, timeout=5)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await newer)[0] == 200


async def test_abort_answers_a_pending_poll(sandbox: Sandbox) -> None:
    abort = asyncio.Event()
    poll = asyncio.create_task(sandbox.get_updates({"timeout": 30}, abort=abort))
    await asyncio.sleep(0)
    abort.set()
    assert await asyncio.wait_for(poll, timeout=5) == (200, {"ok": True, "result": []})


async def test_wait_chat_sees_new_and_edited_messages(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="v1")
    version = sandbox.chat_version(1001)
    waiter = asyncio.create_task(sandbox.wait_chat(1001, 1, version, 10))
    await asyncio.sleep(0)
    ok(sandbox, "editMessageText", chat_id=1001, message_id=1, text="v2")
    result = await asyncio.wait_for(waiter, timeout=5)
    assert [(m["message_id"], m["text"], m["edited"]) for m in result["messages"]] == [
        (1, "v2", True)
    ]
    assert result["version"] > version


# ---------------------------------------------------------------- replies


def test_replies(sandbox: Sandbox) -> None:
    ok(sandbox, "sendMessage", chat_id=1001, text="first")
    reply = ok(
        sandbox,
        "sendMessage",
        chat_id=1001,
        text="re",
        reply_parameters=json.dumps({"message_id": 1}),
    )
    assert reply["reply_to_message"]["message_id"] == 1
    _, body = fail(sandbox, "sendMessage", chat_id=1001, text="re", reply_to_message_id=99)
    assert body["description"] == "Bad Request: message to be replied not found"
    lenient = json.dumps({"message_id": 99, "allow_sending_without_reply": True})
    assert "reply_to_message" not in ok(
        sandbox, "sendMessage", chat_id=1001, text="re", reply_parameters=lenient
    )
