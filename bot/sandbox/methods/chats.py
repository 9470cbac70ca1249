"""Chats and their management: getChat, getChatMember, forum topics, pins and deletions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import JSON, ApiError, Params, bad_request
from bot.sandbox.state import Chat, Message

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

DELETE_WINDOW = 48 * 3600  # seconds: older messages can't be deleted
MAX_DELETE = 100
NO_PIN_RIGHTS = "not enough rights to manage pinned messages in the chat"
_TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


# ---------------------------------------------------------------- reading chats


def get_chat(sb: Sandbox, p: Params) -> JSON:
    chat = sb.state.chat_for(p.value("chat_id"))
    info: JSON = {
        **chat.as_api(),
        "accent_color_id": abs(chat.id) % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
    if chat.pinned:
        pinned = sb.state.find(chat.id, chat.pinned[-1])
        if pinned is not None:
            info["pinned_message"] = sb.state.message_api(pinned, with_reply=False)
    return info


def get_chat_member(sb: Sandbox, p: Params) -> JSON:
    chat = sb.state.chat_for(p.value("chat_id"))
    user_id = p.integer("user_id", error="invalid user_id specified")
    if user_id == sb.bot_id:
        return bot_member(sb, chat)
    user = sb.state.users.get(user_id or 0)
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private" and chat.id == user_id:
        return {"status": "member", "user": dict(user)}
    return {"status": "left", "user": dict(user)}


def bot_member(sb: Sandbox, chat: Chat) -> JSON:
    """The bot's ChatMember in a chat, in the subtype its status calls for."""
    rights, bot = chat.rights, sb.bot_user
    if chat.type == "private" or rights.status in ("member", "left"):
        status = "member" if chat.type == "private" else rights.status
        return {"status": status, "user": bot}
    if rights.status == "kicked":
        return {"status": "kicked", "user": bot, "until_date": 0}
    if rights.status == "creator":
        return {"status": "creator", "user": bot, "is_anonymous": False}
    member: JSON = {
        "status": "administrator",
        "user": bot,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": rights.can_delete_messages,
        "can_manage_video_chats": False,
        "can_restrict_members": False,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    if chat.type == "channel":
        # Channels have posting and editing rights; pinning there is part of editing.
        member["can_post_messages"] = rights.can_post_messages
        member["can_edit_messages"] = rights.can_edit_messages
    else:
        member["can_pin_messages"] = rights.can_pin_messages
        if chat.is_forum:
            member["can_manage_topics"] = rights.can_pin_messages
    return member


# ---------------------------------------------------------------- forum topics


def create_forum_topic(sb: Sandbox, p: Params) -> JSON:
    chat = sb.state.chat_for(p.value("chat_id"))
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not chat.rights.can("can_pin_messages"):
        raise bad_request("not enough rights to create a topic")
    name = p.text("name") or ""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "topic name is too long")
    color = p.integer("icon_color")
    if color is None:
        color = _TOPIC_COLORS[len(chat.topics) % len(_TOPIC_COLORS)]
    elif color not in _TOPIC_COLORS:
        raise bad_request("invalid icon_color specified")
    thread = sb.state.add_topic(chat.id, name)
    topic: JSON = {"message_thread_id": thread, "name": name, "icon_color": color}
    emoji = p.text("icon_custom_emoji_id")
    if emoji:
        topic["icon_custom_emoji_id"] = emoji
    return topic


# ---------------------------------------------------------------- pins


def _may_pin(chat: Chat) -> None:
    """Channels: can_edit_messages; groups and supergroups: can_pin_messages."""
    if chat.type == "private":
        return
    right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
    if chat.rights.status in ("left", "kicked"):
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    if not chat.rights.can(right):
        raise bad_request(NO_PIN_RIGHTS)


def pin_chat_message(sb: Sandbox, p: Params) -> bool:
    chat = sb.state.chat_for(p.value("chat_id"))
    _may_pin(chat)
    message_id = p.integer("message_id", error="message to pin not found") or 0
    if sb.state.find(chat.id, message_id) is None:
        raise bad_request("message to pin not found")
    sb.state.pin(chat, message_id, disable_notification=p.flag("disable_notification"))
    sb.counters["pinned"] += 1
    return True


def unpin_chat_message(sb: Sandbox, p: Params) -> bool:
    chat = sb.state.chat_for(p.value("chat_id"))
    _may_pin(chat)
    message_id = p.integer("message_id", error="message to unpin not found")
    if message_id is None:
        # Without message_id, the most recently pinned message is unpinned.
        if chat.pinned:
            sb.state.unpin(chat, [chat.pinned[-1]])
        return True
    if sb.state.find(chat.id, message_id) is None:
        raise bad_request("message to unpin not found")
    sb.state.unpin(chat, [message_id])
    sb.counters["unpinned"] += 1
    return True


def unpin_all_chat_messages(sb: Sandbox, p: Params) -> bool:
    chat = sb.state.chat_for(p.value("chat_id"))
    _may_pin(chat)
    sb.state.unpin(chat, list(chat.pinned))
    return True


# ---------------------------------------------------------------- deletions


def _deletable(sb: Sandbox, chat: Chat, msg: Message) -> bool:
    """Telegram's rules: under 48 hours old, and the bot's rights in the chat allow it."""
    if sb.state.now_date() - msg.date >= DELETE_WINDOW:
        return False
    rights = chat.rights
    if chat.type == "private":
        return True
    if chat.type == "channel":
        own = msg.from_bot and rights.can("can_post_messages")
        return own or rights.can("can_delete_messages")
    if rights.status in ("left", "kicked"):
        return False
    return msg.from_bot or rights.can("can_delete_messages")


def _delete(sb: Sandbox, chat: Chat, msg: Message) -> None:
    sb.state.delete(chat.id, msg.message_id)
    sb.counters["deleted_by_bot"] += 1


def delete_message(sb: Sandbox, p: Params) -> bool:
    chat = sb.state.chat_for(p.value("chat_id"))
    message_id = p.integer("message_id", error="message to delete not found") or 0
    msg = sb.state.find(chat.id, message_id)
    if msg is None:
        raise bad_request("message to delete not found")
    if not _deletable(sb, chat, msg):
        raise bad_request("message can't be deleted")
    _delete(sb, chat, msg)
    return True


def delete_messages(sb: Sandbox, p: Params) -> bool:
    chat = sb.state.chat_for(p.value("chat_id"))
    raw: Any = p.json("message_ids", error="can't parse message identifiers JSON object")
    if not isinstance(raw, list) or not all(isinstance(i, int) for i in raw):
        raise bad_request("can't parse message identifiers JSON object")
    if not raw:
        raise bad_request("message identifiers are not specified")
    if len(raw) > MAX_DELETE:
        raise bad_request("too many message identifiers specified")
    # Like Telegram: messages that are missing or may not be deleted are skipped.
    found = [m for m in (sb.state.find(chat.id, i) for i in raw) if m is not None]
    allowed = [m for m in found if _deletable(sb, chat, m)]
    if not allowed:
        raise bad_request(
            "message to delete not found" if not found else "message can't be deleted"
        )
    for msg in allowed:
        _delete(sb, chat, msg)
    return True


METHODS: dict[str, Method] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "createForumTopic": create_forum_topic,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_all_chat_messages,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
}
