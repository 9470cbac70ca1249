"""The sandbox over HTTP, driven by the real python-telegram-bot and an aiohttp client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox import Limits, Sandbox, SandboxServer
from bot.sandbox.client import ControlError, SandboxClient
from tests.support.sandbox import TOKEN
from tests.support.waiting import wait_for

# ---------------------------------------------------------------- PTB Bot


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "newswire_bot"
    assert me.id == 123456
    assert bot.username == "newswire_bot"


async def test_send_message_with_html_and_keyboard(bot: Bot, sandbox: Sandbox) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Read", url="https://news.example/1")],
            [InlineKeyboardButton("More like this", callback_data="more:1")],
        ]
    )
    message = await bot.send_message(
        1001,
        '<b>Hello</b> <a href="https://news.example/1">story</a>',
        parse_mode="HTML",
        reply_markup=markup,
        disable_notification=True,
    )
    assert message.text == "Hello story"
    assert [e.type for e in message.entities] == ["bold", "text_link"]
    assert message.entities[1].url == "https://news.example/1"
    assert message.reply_markup == markup
    assert message.from_user is not None and message.from_user.is_bot
    [stored] = sandbox.bot_messages(1001)
    assert stored["html"] == '<b>Hello</b> <a href="https://news.example/1">story</a>'
    assert stored["reply_markup"]["inline_keyboard"][1][0]["callback_data"] == "more:1"


async def test_channel_post_and_edit(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.add_channel("@wire", "Wire")
    post = await bot.send_message("@wire", "draft")
    assert post.chat.type == "channel"
    assert post.sender_chat is not None and post.sender_chat.username == "wire"
    edited = await bot.edit_message_text("final", chat_id="@wire", message_id=post.message_id)
    assert isinstance(edited, type(post))
    assert edited.edit_date is not None
    assert sandbox.messages("@wire")[0]["text"] == "final"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("final", chat_id="@wire", message_id=post.message_id)


async def test_flood_raises_retry_after(
    bot: Bot, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    for i in range(5):
        await bot.send_message(1001, f"burst {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "one too many")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert sandbox.counters["429"] == 1
    assert len(sandbox.bot_messages(1001)) == 5


async def test_forbidden_when_blocked(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.block_bot(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(1001, "hello?")


async def test_bad_html_is_bad_request_with_telegram_text(bot: Bot) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(1001, "<p>para</p>", parse_mode="HTML")
    # PTB lower-cases the first letter after "Bad Request: "; compare case-insensitively.
    assert caught.value.message.lower() == (
        'can\'t parse entities: unsupported start tag "p" at byte offset 0'
    )
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999999, "who?")


async def test_photo_upload_and_download(bot: Bot, sandbox: Sandbox) -> None:
    by_url = await bot.send_photo(
        1001, "https://img.example/a.jpg", caption="<i>cap</i>", parse_mode="HTML"
    )
    assert by_url.caption == "cap"
    uploaded = await bot.send_photo(1001, b"\xff\xd8fake-jpeg", caption="upload")
    assert sandbox.file_content(uploaded.photo[-1].file_id) == b"\xff\xd8fake-jpeg"
    assert [m["photo"] for m in sandbox.messages(1001)] == ["https://img.example/a.jpg", "uploaded"]


async def test_wrong_token_is_refused(server: SandboxServer) -> None:
    other = Bot("999:wrong", base_url=server.api_base_url)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await other.initialize()
    await other.shutdown()


async def test_token_never_logged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.sandbox"):
        await bot.send_message(1001, "quiet")
    assert any("sendMessage" in r.getMessage() for r in caplog.records)
    assert not any(TOKEN in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- a real Application


async def test_application_polls_and_replies(server: SandboxServer, sandbox: Sandbox) -> None:
    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "<b>pong</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Again", callback_data="again")]]
            ),
        )

    async def again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Done!")
        await update.callback_query.edit_message_text("pong, edited")

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.api_base_url)
        .base_file_url(server.file_base_url)
        .build()
    )
    application.add_handler(CommandHandler("ping", ping))
    application.add_handler(CallbackQueryHandler(again))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        sandbox.send_user_message(1001, "/ping")
        reply = await wait_for(lambda: sandbox.bot_messages(1001), what="the reply")
        assert reply[0]["text"] == "pong"
        assert reply[0]["entities"] == [{"offset": 0, "length": 4, "type": "bold"}]

        # The addressed form works too, since getMe told PTB the username.
        sandbox.send_user_message(1001, "/ping@newswire_bot")
        await wait_for(lambda: len(sandbox.bot_messages(1001)) == 2, what="a second reply")

        sandbox.press_button(1001, 1001, reply[0]["message_id"], "again")
        await wait_for(lambda: sandbox.callback_answers, what="the callback answer")
        assert sandbox.callback_answers[0]["text"] == "Done!"
        await wait_for(lambda: sandbox.bot_messages(1001)[0]["edited"], what="the edit")
        assert sandbox.bot_messages(1001)[0]["text"] == "pong, edited"
        assert sandbox.bot_messages(1001)[0]["reply_markup"] is None
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        assert loop.time() - started < 5  # stopping does not hang on a long poll
    assert sandbox.counters["getMe"] >= 1
    assert sandbox.counters["deleteWebhook"] == 1
    assert sandbox.pending_updates() == []  # PTB's last getUpdates confirmed everything


async def test_stop_answers_pending_long_poll(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    server = SandboxServer(sandbox)
    await server.start()
    poll = asyncio.create_task(
        http.post(f"{server.api_base_url}{TOKEN}/getUpdates", data={"timeout": "30"})
    )
    await wait_for(lambda: sandbox.counters["getUpdates"] == 1, what="the first long poll")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await server.stop()
    assert loop.time() - started < 3
    response = await asyncio.wait_for(poll, timeout=5)
    assert response.status == 200
    assert (await response.json())["result"] == []


# ---------------------------------------------------------------- raw HTTP Bot API


async def test_raw_http_forms_json_and_errors(
    server: SandboxServer, http: aiohttp.ClientSession
) -> None:
    base = f"{server.api_base_url}{TOKEN}"
    async with http.get(f"{base}/GETME") as response:
        assert response.status == 200
        assert (await response.json())["result"]["username"] == "newswire_bot"
    async with http.post(f"{base}/sendMessage", json={"chat_id": 1001, "text": "json"}) as r:
        assert r.status == 200
    form = {"chat_id": "1001", "text": "form", "reply_markup": '{"inline_keyboard": []}'}
    async with http.post(f"{base}/sendmessage", data=form) as r:
        assert r.status == 200
    async with http.post(f"{base}/noSuchMethod") as r:
        assert r.status == 404
        assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.post(f"{server.api_base_url}1:bad/getMe") as r:
        assert r.status == 401
        assert await r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# ---------------------------------------------------------------- control API and page


async def test_control_api(client: SandboxClient, sandbox: Sandbox) -> None:
    assert (await client.add_user(2002, "Ann"))["first_name"] == "Ann"
    channel = await client.add_channel("@desk", "Desk")
    state = await client.state()
    assert state["bot"]["username"] == "newswire_bot"
    assert {1001, 2002} <= {u["id"] for u in state["users"]}
    assert any(c["id"] == channel for c in state["chats"])

    sent = await client.send(2002, "/start")
    assert (sent["message_id"], sent["text"], sent["from_bot"]) == (1, "/start", False)
    assert sandbox.pending_updates()[0]["message"]["text"] == "/start"

    keyboard = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    sandbox.call("sendMessage", {"chat_id": 2002, "text": "hi", "reply_markup": keyboard})
    listed = await client.messages(2002, after=1)
    assert [m["text"] for m in listed["messages"]] == ["hi"]

    query_id = await client.press(2002, 2002, 2, "go")
    sandbox.call("answerCallbackQuery", {"callback_query_id": query_id, "text": "Going"})
    assert [a["text"] for a in await client.callback_answers(2002)] == ["Going"]

    with pytest.raises(ControlError) as refused:
        await client.press(2002, 2002, 2, "nope")
    assert refused.value.status == 400
    with pytest.raises(ControlError) as refused:
        await client.send("x", "hi")  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.reason) == (400, "user_id must be an integer")
    with pytest.raises(ControlError) as refused:
        await client.messages("@ghost")
    assert refused.value.status == 400

    await client.block(2002)
    assert sandbox.call("sendMessage", {"chat_id": 2002, "text": "x"})[0] == 403


async def test_control_wait_sees_edits(client: SandboxClient, sandbox: Sandbox) -> None:
    sandbox.call("sendMessage", {"chat_id": 1001, "text": "v1"})
    version = sandbox.chat_version(1001)
    waiting = asyncio.create_task(client.wait(1001, after=1, version=version, seconds=10))
    await wait_for(lambda: sandbox.waiting, what="a parked long poll")  # the long poll is parked
    sandbox.call("editMessageText", {"chat_id": 1001, "message_id": 1, "text": "v2"})
    result = await asyncio.wait_for(waiting, timeout=5)
    assert [(m["text"], m["edited"]) for m in result["messages"]] == [("v2", True)]
    assert result["version"] > version
    # With nothing new, the wait ends at its timeout with no messages.
    assert (await client.wait(1001, after=1, seconds=0.1))["messages"] == []


async def test_control_changes_feed(client: SandboxClient, sandbox: Sandbox) -> None:
    since = sandbox.state_view()["seq"]
    sandbox.add_channel("@late")
    sandbox.call("sendMessage", {"chat_id": "@late", "text": "breaking"})
    feed = await client.changes(since, seconds=5)
    assert [m["text"] for m in feed["messages"]] == ["breaking"]
    assert any(c.get("username") == "late" for c in feed["chats"])


async def test_a_person_deletes_a_post_through_the_client(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    channel = await client.add_channel("@wire")
    sandbox.call("sendMessage", {"chat_id": channel, "text": "oops"})
    await client.delete_message("@wire", 1)
    assert sandbox.messages(channel) == []
    assert (await client.counters())["deleted"] == 1


async def test_page_is_served(server: SandboxServer, http: aiohttp.ClientSession) -> None:
    async with http.get(server.url) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        page = await r.text()
    for marker in ('id="composer"', 'id="send"', 'id="chat"', 'id="channels"', "/static/app.js"):
        assert marker in page
    async with http.get(server.url + "static/app.js") as r:
        assert r.status == 200
        script = await r.text()
    assert "innerHTML" not in script  # the page builds DOM nodes, never parses message HTML
    async with http.get(server.url + "static/style.css") as r:
        assert r.status == 200
    async with http.get(server.url + "static/..%2Fcore.py") as r:
        assert r.status == 404


async def test_limits_are_configurable_over_http(http: aiohttp.ClientSession) -> None:
    sandbox = Sandbox(bot_token=TOKEN, limits=Limits(enforce=False))
    sandbox.add_user(1)
    async with SandboxServer(sandbox) as server:
        bot = Bot(TOKEN, base_url=server.api_base_url)
        async with bot:
            for i in range(10):
                await bot.send_message(1, f"fast {i}")
    assert sandbox.counters["sent"] == 10
