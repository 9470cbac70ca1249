"""Sending (sendMessage, sendPhoto, sendChatAction): the one "send a message" sequence and rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import JSON, ApiError, Params, UploadedFile, bad_request
from bot.sandbox.html import TelegramHTMLError, parse_html, strip_text, utf16_len
from bot.sandbox.state import Chat, Message

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

MAX_TEXT = 4096
MAX_CAPTION = 1024
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_HTML_CACHE_SIZE = 256
_PREVIEW_FIELDS: dict[str, type] = {
    "is_disabled": bool,
    "url": str,
    "prefer_small_media": bool,
    "prefer_large_media": bool,
    "show_above_text": bool,
}
_PREVIEW_ERROR = "can't parse link preview options JSON object"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def formatted(
    sb: Sandbox, p: Params, name: str, entities_name: str
) -> tuple[str, list[JSON], str | None]:
    """Text (or caption) after parse_mode: plain text, entities and the source HTML."""
    raw = p.text(name) or ""
    mode = (p.text("parse_mode") or "").lower()
    html: str | None = None
    if mode == "html":
        parsed = sb.html_cache.get(raw)
        if parsed is None:
            try:
                parsed = parse_html(raw)
            except TelegramHTMLError as error:
                raise ApiError(400, error.description) from None
            # A broadcast sends the same HTML thousands of times: parse it once.
            sb.html_cache[raw] = parsed
            if len(sb.html_cache) > _HTML_CACHE_SIZE:
                sb.html_cache.popitem(last=False)
        plain = parsed[0]
        entities = [{**e} for e in parsed[1]]  # callers fill in and trim their copy
        html = raw
    else:
        plain = raw
        given = p.json(entities_name, error=f"can't parse {entities_name} JSON object")
        entities = [dict(e) for e in given] if isinstance(given, list) else []
    plain, entities = strip_text(plain, entities)
    return plain, fill_mentions(sb, entities), html


def fill_mentions(sb: Sandbox, entities: list[JSON]) -> list[JSON]:
    """text_mention entities carry the full User, as Telegram fills them in."""
    for entity in entities:
        if entity["type"] == "text_mention":
            known = sb.state.users.get(entity["user"]["id"])
            if known is not None:
                entity["user"] = dict(known)
    return entities


def message_text(sb: Sandbox, p: Params) -> tuple[str, list[JSON], str | None]:
    """The text of sendMessage/editMessageText, with Telegram's length rules."""
    plain, entities, html = formatted(sb, p, "text", "entities")
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return plain, entities, html


def caption(sb: Sandbox, p: Params) -> tuple[str, list[JSON], str | None]:
    """A photo's caption, with Telegram's length rule."""
    plain, entities, html = formatted(sb, p, "caption", "caption_entities")
    if utf16_len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return plain, entities, html


def reply_markup(p: Params) -> JSON | None:
    """The reply_markup parameter, checked like Telegram checks inline keyboards."""
    markup = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'can\'t parse inline keyboard button: field "inline_keyboard" '
                "must be an Array of Arrays"
            )
        for row in rows:
            for button in row:
                _check_button(button)
        return {"inline_keyboard": rows}
    if any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not any(k in button for k in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"(?i)^(https?://[^\s/]+|tg://)\S*$", url):
            raise bad_request("BUTTON_URL_INVALID")


def reply_to(sb: Sandbox, p: Params, chat: Chat) -> int | None:
    """The message being replied to, from reply_parameters or the older reply_to_message_id."""
    params = p.json("reply_parameters", error="can't parse reply parameters JSON object")
    message_id = p.integer("reply_to_message_id")
    allow_missing = p.flag("allow_sending_without_reply")
    if isinstance(params, dict):
        message_id = params.get("message_id", message_id)
        allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        if params.get("chat_id") not in (None, chat.id):
            return None  # quoting another chat: accepted, not shown
    if message_id is None:
        return None
    if int(message_id) in sb.state.messages.get(chat.id, {}):
        return int(message_id)
    if allow_missing:
        return None
    raise bad_request("message to be replied not found")


def photo_file(sb: Sandbox, p: Params, value: Any) -> str:
    """The file id for a photo given as upload, attach://name, URL or known file id."""
    files = sb.state.files
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.value(value[len("attach://") :])
    if isinstance(value, UploadedFile):
        return sb.state.new_file("uploaded", value.data)
    if not isinstance(value, str) or not value:
        raise bad_request("there is no photo in the request")
    if value in files:
        return value
    if value.endswith("-s") and value[:-2] in files:
        return value[:-2]
    if re.match(r"(?i)^https?://\S+$", value):
        # The sandbox fetches nothing; a host under the reserved .invalid domain stands
        # for a URL Telegram cannot fetch.
        if re.match(r"(?i)^https?://[^/:]+\.invalid(?:[/:]|$)", value):
            raise bad_request("failed to get HTTP URL content")
        return sb.state.new_file(value, None)
    raise bad_request("wrong file identifier/HTTP URL specified")


def may_post(chat: Chat) -> None:
    """Refuse a send where the bot is not a member, or (in a channel) may not post."""
    rights = chat.rights
    if chat.type == "private":
        return
    kind = "group" if chat.type == "group" else chat.type
    if rights.status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
    if rights.status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
    if chat.type == "channel" and not rights.can("can_post_messages"):
        raise bad_request("need administrator rights in the channel chat")


def thread_of(p: Params, chat: Chat) -> int | None:
    """The forum topic a send names; General (1) and unknown topics are not found."""
    thread = p.integer("message_thread_id", error="message thread not found")
    if thread is None:
        return None
    if not chat.is_forum or thread not in chat.topics:
        raise bad_request("message thread not found")
    return thread


def link_preview(sb: Sandbox, p: Params, method: str) -> JSON | None:
    """link_preview_options, checked field by field (an unknown field is counted, not kept)."""
    options = p.json("link_preview_options", error=_PREVIEW_ERROR)
    if options is None:
        return None
    if not isinstance(options, dict):
        raise bad_request(_PREVIEW_ERROR)
    kept: JSON = {}
    for key, value in options.items():
        expected = _PREVIEW_FIELDS.get(key)
        if expected is None:
            sb.unknown_parameters[f"{method}.link_preview_options.{key}"] += 1
            continue
        if not isinstance(value, expected):
            raise bad_request(_PREVIEW_ERROR)
        kept[key] = value
    return kept


def send(sb: Sandbox, p: Params, chat: Chat, **content: Any) -> JSON:
    """The one "send a message" sequence: rights, markup, reply, flood check, store, count."""
    may_post(chat)
    thread = thread_of(p, chat)
    markup = reply_markup(p)
    replied = reply_to(sb, p, chat)
    sb.flood.admit(chat.id, private=chat.type == "private", paid=p.flag("allow_paid_broadcast"))
    msg = sb.state.store(
        chat.id,
        from_bot=True,
        sender=sb.bot_user,
        reply_markup=markup,
        reply_to=replied,
        message_thread_id=thread,
        silent=p.flag("disable_notification"),
        protected=p.flag("protect_content"),
        **content,
    )
    sb.delivered(msg)
    sb.counters["sent"] += 1
    return sb.state.message_api(msg)


def send_message(sb: Sandbox, p: Params) -> JSON:
    chat = sb.state.writable_chat(p.value("chat_id"))
    text, entities, html = message_text(sb, p)
    preview = link_preview(sb, p, "sendMessage")
    return send(sb, p, chat, text=text, entities=entities, html=html, link_preview_options=preview)


def send_photo(sb: Sandbox, p: Params) -> JSON:
    chat = sb.state.writable_chat(p.value("chat_id"))
    photo = photo_file(sb, p, p.value("photo"))
    text, entities, html = caption(sb, p)
    return send(
        sb, p, chat, photo=photo, caption=text, caption_entities=entities, caption_html=html
    )


def send_chat_action(sb: Sandbox, p: Params) -> bool:
    """A status ("typing...") shown for a few seconds: checked like a send, nothing stored."""
    chat = sb.state.writable_chat(p.value("chat_id"))
    may_post(chat)
    if p.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    thread_of(p, chat)
    return True


def content_of(msg: Message) -> str:
    """What the delivery log hashes to spot duplicates."""
    return msg.text if msg.text is not None else (msg.caption or msg.photo or "")


# Methods that post a new message: faults and flood limits apply to them.
SENDING = frozenset({"sendMessage", "sendPhoto"})
METHODS: dict[str, Method] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendChatAction": send_chat_action,
}
