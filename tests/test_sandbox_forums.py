"""The sandbox's chats as a publisher meets them: forum topics, rights, pins, deletions, options."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import Bot, ChatMemberAdministrator, ChatMemberLeft, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden

from bot.sandbox import Sandbox, spec
from bot.sandbox.client import ControlError, SandboxClient
from tests.support.clock import FakeClock

HOURS = 3600


def refusal(sandbox: Sandbox, method: str, **params: Any) -> tuple[int, str]:
    """Call a method that must fail; its HTTP status and description."""
    status, body = sandbox.call(method, params)
    assert status != 200, body
    return status, body["description"]


def fits(sandbox: Sandbox, method: str, **params: Any) -> Any:
    """Call a method that must succeed; its result, checked against the spec."""
    status, body = sandbox.call(method, params)
    assert status == 200, body
    assert spec.problems(body["result"], spec.load()["methods"][method]["returns"]) == []
    return body["result"]


# ---------------------------------------------------------------- forum topics


async def test_a_send_into_a_forum_topic_carries_its_thread(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    forum = await client.add_forum("Newsroom", "newsroom")
    transport = await client.add_topic(forum, "Transport")
    world = await client.add_topic("@newsroom", "World")
    assert transport > 1 and world > transport  # 1 is General

    sent = await bot.send_message(forum, "Trains late", message_thread_id=transport)
    assert (sent.message_thread_id, sent.is_topic_message) == (transport, True)
    general = await bot.send_message(forum, "Hello all")
    assert (general.message_thread_id, general.is_topic_message) == (None, None)

    stored = {m["text"]: m["message_thread_id"] for m in (await client.messages(forum))["messages"]}
    assert stored == {"Trains late": transport, "Hello all": None}
    chat = next(c for c in (await client.state())["chats"] if c["id"] == forum)
    assert chat["is_forum"] is True
    assert chat["topics"] == [
        {"message_thread_id": transport, "name": "Transport"},
        {"message_thread_id": world, "name": "World"},
    ]


async def test_an_unknown_thread_general_or_a_non_forum_is_not_found(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    forum = await client.add_forum("Newsroom")
    await client.add_topic(forum, "Transport")
    channel = await client.add_channel("@wire")
    for chat, thread in ((forum, 99), (forum, 1), (channel, 2)):
        with pytest.raises(BadRequest, match=r"^Message thread not found$"):
            await bot.send_message(chat, "x", message_thread_id=thread)
    assert refusal(
        sandbox, "sendPhoto", chat_id=forum, photo="https://i.example/a.jpg", message_thread_id=7
    ) == (400, "Bad Request: message thread not found")
    assert (await client.messages(forum))["messages"] == []


async def test_create_forum_topic_makes_a_topic_to_send_into(
    bot: Bot, client: SandboxClient
) -> None:
    forum = await client.add_forum("Newsroom")
    topic = await bot.create_forum_topic(forum, "Sport")
    assert topic.name == "Sport" and topic.message_thread_id > 1
    sent = await bot.send_message(forum, "Goal", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    channel = await client.add_channel("@wire")
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(channel, "Sport")


async def test_topics_exist_only_in_forums(client: SandboxClient) -> None:
    group = await client.add_group("Plain")
    with pytest.raises(ControlError, match="forum"):
        await client.add_topic(group, "Transport")


# ---------------------------------------------------------------- rights


async def test_a_channel_send_needs_membership_and_posting_rights(
    bot: Bot, client: SandboxClient
) -> None:
    channel = await client.add_channel("@wire")
    assert await client.rights(channel) == {
        "status": "administrator",
        "can_post_messages": True,
        "can_edit_messages": True,
        "can_delete_messages": True,
        "can_pin_messages": True,
    }
    await client.set_rights(channel, "left")
    with pytest.raises(Forbidden, match=r"^Forbidden: bot is not a member of the channel chat$"):
        await bot.send_message(channel, "x")
    await client.set_rights(channel, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the channel chat"):
        await bot.send_message(channel, "x")
    await client.set_rights(channel, "member")
    with pytest.raises(BadRequest, match=r"^Need administrator rights in the channel chat$"):
        await bot.send_message(channel, "x")
    await client.set_rights(channel, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"^Need administrator rights in the channel chat$"):
        await bot.send_photo(channel, "https://i.example/a.jpg")
    assert (await client.messages(channel))["messages"] == []
    await client.set_rights(channel, "administrator")
    assert (await bot.send_message(channel, "back")).text == "back"


async def test_bad_rights_settings_are_refused(client: SandboxClient) -> None:
    channel = await client.add_channel("@wire")
    with pytest.raises(ControlError, match="status must be one of"):
        await client.set_rights(channel, "owner")
    with pytest.raises(ControlError, match="chat not found"):
        await client.set_rights("@nowhere", "left")
    with pytest.raises(ControlError, match="rights apply"):
        await client.set_rights(1001, "left")


async def test_get_chat_member_tells_the_bot_its_status_and_rights(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    channel = await client.add_channel("@wire", "Wire")
    await client.set_rights(channel, can_delete_messages=False, can_pin_messages=False)
    member = await bot.get_chat_member("@wire", sandbox.bot_id)
    assert isinstance(member, ChatMemberAdministrator)
    assert (member.can_post_messages, member.can_edit_messages, member.can_delete_messages) == (
        True,
        True,
        False,
    )
    forum = await client.add_forum("Desk")
    await client.set_rights(forum, can_pin_messages=False)
    in_forum = fits(sandbox, "getChatMember", chat_id=forum, user_id=sandbox.bot_id)
    assert in_forum["can_pin_messages"] is False and "can_post_messages" not in in_forum
    await client.set_rights(channel, "left")
    assert isinstance(await bot.get_chat_member(channel, sandbox.bot_id), ChatMemberLeft)
    for status in ("member", "kicked", "creator", "administrator"):
        await client.set_rights(channel, status)
        assert (
            fits(sandbox, "getChatMember", chat_id=channel, user_id=sandbox.bot_id)["status"]
            == status
        )
    assert refusal(sandbox, "getChatMember", chat_id=channel, user_id=424242) == (
        400,
        "Bad Request: user not found",
    )


async def test_get_chat_resolves_a_name_and_says_whether_it_is_a_forum(
    bot: Bot, client: SandboxClient
) -> None:
    channel = await client.add_channel("@wire", "The Wire")
    chat = await bot.get_chat("@wire")
    assert (chat.id, chat.type, chat.title, chat.username) == (
        channel,
        "channel",
        "The Wire",
        "wire",
    )
    assert not chat.is_forum
    forum = await client.add_forum("Desk", "desk")
    assert (await bot.get_chat("@desk")).is_forum is True
    assert (await bot.get_chat(forum)).id == forum
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat("@nowhere")


# ---------------------------------------------------------------- deletions


async def test_delete_message_removes_the_post_and_says_so(bot: Bot, client: SandboxClient) -> None:
    channel = await client.add_channel("@wire")
    first = await bot.send_message(channel, "one")
    second = await bot.send_message(channel, "two")
    before = await client.changes()
    assert await bot.delete_message(channel, first.message_id) is True
    listed = [m["message_id"] for m in (await client.messages(channel))["messages"]]
    assert listed == [second.message_id]
    changes = await client.changes(before["seq"], seconds=0)
    assert {"chat_id": channel, "message_id": first.message_id} in [
        {k: d[k] for k in ("chat_id", "message_id")} for d in changes["deleted"]
    ]
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(channel, first.message_id)
    assert (await client.counters())["deleted_by_bot"] == 1


async def test_a_message_older_than_48_hours_cant_be_deleted(
    bot: Bot, client: SandboxClient, clock: FakeClock
) -> None:
    channel = await client.add_channel("@wire")
    aged = await bot.send_message(channel, "old")
    fresh = await bot.send_message(channel, "new")
    view = await client.age_message(channel, aged.message_id, 48 * HOURS)
    assert view["date"] == int(aged.date.timestamp()) - 48 * HOURS
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_message(channel, aged.message_id)
    clock.advance(48 * HOURS - 1)  # the sandbox's own clock ages messages too
    assert await bot.delete_message(channel, fresh.message_id) is True
    clock.advance(1)
    later = await bot.send_message(channel, "later")
    clock.advance(48 * HOURS)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_message(channel, later.message_id)


async def test_deleting_in_a_channel_follows_the_bots_rights(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    channel = await client.add_channel("@wire")
    posts = [fits(sandbox, "sendMessage", chat_id=channel, text=f"p{i}") for i in range(3)]
    await client.set_rights(channel, can_post_messages=False, can_delete_messages=False)
    assert refusal(
        sandbox, "deleteMessage", chat_id=channel, message_id=posts[0]["message_id"]
    ) == (
        400,
        "Bad Request: message can't be deleted",
    )
    # Its own posts with can_post_messages alone...
    await client.set_rights(channel, can_post_messages=True, can_delete_messages=False)
    assert fits(sandbox, "deleteMessage", chat_id=channel, message_id=posts[0]["message_id"])
    # ...or any post with can_delete_messages alone.
    await client.set_rights(channel, can_post_messages=False, can_delete_messages=True)
    assert fits(sandbox, "deleteMessage", chat_id=channel, message_id=posts[1]["message_id"])
    await client.set_rights(channel, "left")
    assert (
        refusal(sandbox, "deleteMessage", chat_id=channel, message_id=posts[2]["message_id"])[1]
        == "Bad Request: message can't be deleted"
    )


async def test_in_a_group_others_messages_need_can_delete_messages(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    forum = await client.add_forum("Desk")
    someone = sandbox.state.store(
        forum, from_bot=False, sender=sandbox.state.users[1001], text="hi"
    )
    own = fits(sandbox, "sendMessage", chat_id=forum, text="mine")
    await client.set_rights(forum, can_delete_messages=False)
    assert refusal(sandbox, "deleteMessage", chat_id=forum, message_id=someone.message_id) == (
        400,
        "Bad Request: message can't be deleted",
    )
    assert fits(sandbox, "deleteMessage", chat_id=forum, message_id=own["message_id"])
    await client.set_rights(forum, can_delete_messages=True)
    assert fits(sandbox, "deleteMessage", chat_id=forum, message_id=someone.message_id)


async def test_delete_messages_skips_what_it_cannot_delete(
    client: SandboxClient, sandbox: Sandbox
) -> None:
    channel = await client.add_channel("@wire")
    ids = [
        fits(sandbox, "sendMessage", chat_id=channel, text=f"p{i}")["message_id"] for i in range(3)
    ]
    await client.age_message(channel, ids[0], 49 * HOURS)
    assert fits(sandbox, "deleteMessages", chat_id=channel, message_ids=json.dumps([*ids, 99]))
    assert [m["message_id"] for m in sandbox.messages(channel)] == [ids[0]]
    too_many = json.dumps(list(range(1, 102)))
    assert refusal(sandbox, "deleteMessages", chat_id=channel, message_ids=too_many) == (
        400,
        "Bad Request: too many message identifiers specified",
    )
    assert refusal(sandbox, "deleteMessages", chat_id=channel, message_ids="[98, 99]")[1] == (
        "Bad Request: message to delete not found"
    )


# ---------------------------------------------------------------- pins


async def test_pinning_keeps_the_chats_pinned_post_and_how_it_was_pinned(
    bot: Bot, client: SandboxClient
) -> None:
    channel = await client.add_channel("@wire")
    first = await bot.send_message(channel, "breaking")
    second = await bot.send_message(channel, "more breaking")
    assert await client.pinned(channel) is None
    assert await bot.pin_chat_message(channel, first.message_id, disable_notification=True)
    assert await bot.pin_chat_message(channel, second.message_id)
    pins = await client.pins(channel)
    assert (pins["pinned_message_id"], pins["pinned"]) == (second.message_id, [1, 2])
    assert [(e["action"], e["message_id"], e["disable_notification"]) for e in pins["log"]] == [
        ("pin", first.message_id, True),
        ("pin", second.message_id, False),
    ]
    chat = next(c for c in (await client.state())["chats"] if c["id"] == channel)
    assert chat["pinned_message_id"] == second.message_id
    assert (await bot.get_chat(channel)).pinned_message.text == "more breaking"
    views = {m["message_id"]: m["pinned"] for m in (await client.messages(channel))["messages"]}
    assert views == {first.message_id: True, second.message_id: True}

    assert await bot.unpin_chat_message(channel, second.message_id)
    assert await client.pinned(channel) == first.message_id
    assert await bot.delete_message(channel, first.message_id)  # deleting unpins
    assert await client.pinned(channel) is None
    third = await bot.send_message(channel, "third")
    await bot.pin_chat_message(channel, third.message_id)
    assert await bot.unpin_all_chat_messages(channel)
    assert await client.pinned(channel) is None
    with pytest.raises(BadRequest, match=r"^Message to pin not found$"):
        await bot.pin_chat_message(channel, 99)


async def test_pinning_needs_edit_rights_in_channels_and_pin_rights_in_groups(
    bot: Bot, client: SandboxClient
) -> None:
    channel = await client.add_channel("@wire")
    forum = await client.add_forum("Desk")
    post = await bot.send_message(channel, "x")
    note = await bot.send_message(forum, "y")
    # In a channel, can_pin_messages does not matter; can_edit_messages does.
    await client.set_rights(channel, can_edit_messages=False, can_pin_messages=True)
    await client.set_rights(forum, can_edit_messages=True, can_pin_messages=False)
    for chat, message in ((channel, post), (forum, note)):
        with pytest.raises(
            BadRequest, match=r"^Not enough rights to manage pinned messages in the chat$"
        ):
            await bot.pin_chat_message(chat, message.message_id)
        with pytest.raises(BadRequest, match=r"^Not enough rights to manage pinned messages"):
            await bot.unpin_chat_message(chat, message.message_id)
    await client.set_rights(channel, can_edit_messages=True, can_pin_messages=False)
    assert await bot.pin_chat_message(channel, post.message_id)
    await client.set_rights(forum, can_pin_messages=True)
    assert await bot.pin_chat_message(forum, note.message_id)


# ---------------------------------------------------------------- publish options


async def test_silent_protected_and_preview_options_are_kept(
    bot: Bot, client: SandboxClient, sandbox: Sandbox
) -> None:
    channel = await client.add_channel("@wire")
    preview = LinkPreviewOptions(url="https://news.example/a", show_above_text=True)
    sent = await bot.send_message(
        channel,
        "Story https://news.example/a",
        disable_notification=True,
        protect_content=True,
        link_preview_options=preview,
    )
    assert sent.has_protected_content is True
    assert sent.link_preview_options == preview
    photo = await bot.send_photo(channel, "https://i.example/a.jpg", protect_content=True)
    assert photo.has_protected_content is True
    plain = await bot.send_message(channel, "plain")
    assert not plain.has_protected_content and plain.link_preview_options is None

    views = (await client.messages(channel))["messages"]
    assert [(m["silent"], m["protected"]) for m in views] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    assert views[0]["link_preview_options"] == {
        "url": "https://news.example/a",
        "show_above_text": True,
    }
    assert sandbox.unknown_parameters == {}


def test_bad_link_preview_options_are_refused_and_unknown_fields_counted(
    sandbox: Sandbox,
) -> None:
    for bad in ("{nope", "[1]", json.dumps({"is_disabled": "yes"})):
        assert refusal(
            sandbox, "sendMessage", chat_id=1001, text="x", link_preview_options=bad
        ) == (
            400,
            "Bad Request: can't parse link preview options JSON object",
        )
    sent = fits(
        sandbox,
        "sendMessage",
        chat_id=1001,
        text="x",
        link_preview_options=json.dumps({"is_disabled": True, "show_abov_text": True}),
    )
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert sandbox.unknown_parameters == {"sendMessage.link_preview_options.show_abov_text": 1}


def test_configured_routes_make_numeric_and_named_forum_topics_in_the_sandbox() -> None:
    from bot.app import sandbox_route_targets
    from content.routing import parse_routes

    sandbox = Sandbox()
    sandbox_route_targets(
        sandbox, parse_routes("world=-1001234567890:4;mrt=@sg_forum:2;x=@sg_news")
    )
    fits(sandbox, "sendMessage", chat_id=-1001234567890, message_thread_id=4, text="in topic 4")
    fits(sandbox, "sendMessage", chat_id="@sg_forum", message_thread_id=2, text="in topic 2")
    fits(sandbox, "sendMessage", chat_id="@sg_news", text="a channel")
    assert fits(sandbox, "getChat", chat_id=-1001234567890)["is_forum"] is True


# ---------------------------------------------------------------- chat actions


async def test_send_chat_action_finds_a_topic_without_posting_into_it(
    bot: Bot, client: SandboxClient
) -> None:
    forum = await client.add_forum("Newsroom", "newsroom")
    topic = await client.add_topic(forum, "Transport")
    assert await bot.send_chat_action(forum, "typing", message_thread_id=topic) is True
    assert await bot.send_chat_action("@newsroom", "upload_photo") is True  # General: no thread
    channel = await client.add_channel("@wire")
    for chat, thread in ((forum, topic + 1), (forum, 1), (channel, 2)):
        with pytest.raises(BadRequest, match=r"^Message thread not found$"):
            await bot.send_chat_action(chat, "typing", message_thread_id=thread)
    assert (await client.messages(forum))["messages"] == []
    assert (await client.counters())["sendChatAction"] == 5


def test_send_chat_action_refuses_a_bad_action_chat_or_missing_rights(sandbox: Sandbox) -> None:
    forum = sandbox.add_forum("Newsroom")
    channel = sandbox.add_channel("@wire")
    for action in ("dancing", "Typing", "cancel"):
        assert refusal(sandbox, "sendChatAction", chat_id=forum, action=action) == (
            400,
            "Bad Request: wrong parameter action in request",
        )
    assert refusal(sandbox, "sendChatAction", chat_id="@nowhere", action="typing") == (
        400,
        "Bad Request: chat not found",
    )
    sandbox.set_rights(channel, can_post_messages=False)
    assert refusal(sandbox, "sendChatAction", chat_id=channel, action="typing") == (
        400,
        "Bad Request: need administrator rights in the channel chat",
    )
    sandbox.set_rights(channel, "left")
    assert refusal(sandbox, "sendChatAction", chat_id=channel, action="typing") == (
        403,
        "Forbidden: bot is not a member of the channel chat",
    )
    sandbox.set_rights(forum, "kicked")
    assert refusal(sandbox, "sendChatAction", chat_id=forum, action="typing") == (
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )
    assert fits(sandbox, "sendChatAction", chat_id=1001, action="find_location") is True
