"""Editing the bot's messages (editMessageText, editMessageCaption)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.errors import JSON, Params, bad_request
from bot.sandbox.methods.messages import caption, message_text, reply_markup
from bot.sandbox.state import Message

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _not_modified() -> Exception:
    return bad_request(NOT_MODIFIED[len("Bad Request: ") :])


def _editable(sb: Sandbox, p: Params) -> Message:
    if p.value("inline_message_id") is not None:
        raise bad_request("message to edit not found")
    chat = sb.state.writable_chat(p.value("chat_id"))
    message_id = p.integer("message_id", error="message to edit not found")
    msg = sb.state.find(chat.id, message_id or 0)
    if msg is None:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _finish(sb: Sandbox, msg: Message) -> JSON:
    msg.edit_date = sb.state.now_date()
    sb.state.changed(msg)
    sb.counters["edited"] += 1
    return sb.state.message_api(msg)


def edit_message_text(sb: Sandbox, p: Params) -> JSON:
    msg = _editable(sb, p)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities, html = message_text(sb, p)
    # Like Telegram, an edit without reply_markup removes the inline keyboard.
    markup = reply_markup(p)
    if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
        raise _not_modified()
    msg.text, msg.entities, msg.html, msg.reply_markup = text, entities, html, markup
    return _finish(sb, msg)


def edit_message_caption(sb: Sandbox, p: Params) -> JSON:
    msg = _editable(sb, p)
    if msg.photo is None:
        raise bad_request("there is no caption in the message to edit")
    text, entities, html = caption(sb, p)
    markup = reply_markup(p)
    if (text, entities, markup) == (msg.caption, msg.caption_entities, msg.reply_markup):
        raise _not_modified()
    msg.caption, msg.caption_entities, msg.caption_html = text, entities, html
    msg.reply_markup = markup
    return _finish(sb, msg)


METHODS: dict[str, Method] = {
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
}
