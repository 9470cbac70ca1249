"""Inline mode: queries users type (`@bot words`), answerInlineQuery, and chosen results.

A query is kept with its answer so tests and the page can read the results and choose one; the
chosen result's message is then sent into the chat the query was typed in, "via @bot".
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.sandbox import spec
from bot.sandbox.errors import JSON, ApiError, Params, Refused, bad_request
from bot.sandbox.html import utf16_len
from bot.sandbox.methods.callbacks import QUERY_TOO_OLD
from bot.sandbox.methods.messages import MAX_TEXT, formatted, reply_markup

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

MAX_RESULTS = 50
MAX_RESULT_ID = 64  # bytes
MAX_NEXT_OFFSET = 64  # bytes
MAX_QUERY = 256  # characters a client lets a user type after @bot
_KEPT_QUERIES = 1_000  # answered queries stay readable (and choosable) up to this many
_WEB_URL = re.compile(r"(?i)^https?://[^\s/]+\S*$")


@dataclass
class InlineQuery:
    """A query a user typed, and the bot's answer once it came."""

    id: str
    user_id: int
    chat_id: int
    query: str
    offset: str
    answer: JSON | None = None


class InlineQueries:
    """Queries by id (oldest forgotten first), and whether the bot asked for chosen results."""

    def __init__(self) -> None:
        self.queries: OrderedDict[str, InlineQuery] = OrderedDict()
        # BotFather's /setinlinefeedback: off unless the owner turned it on, as on Telegram.
        self.feedback = False

    def add(self, query: InlineQuery) -> None:
        self.queries[query.id] = query
        while len(self.queries) > _KEPT_QUERIES:
            self.queries.popitem(last=False)

    def get(self, query_id: str) -> InlineQuery | None:
        return self.queries.get(query_id)


def _chat_type(sb: Sandbox, user_id: int, chat_id: int) -> str:
    """InlineQuery.chat_type for the chat it is typed in ("private": the chat with the bot)."""
    chat = sb.state.chats[chat_id]
    if chat.type == "private" and chat_id != user_id:
        raise Refused("a user can type an inline query only in their own chat or a group")
    if chat.type == "channel":
        raise Refused("the sandbox has no channel members: type in a private chat or a group")
    return chat.type


def type_query(sb: Sandbox, user_id: int, query: str, offset: str, chat_id: int | None) -> str:
    """A user types `@bot query` (or scrolls to `offset`); queues `inline_query`; its id."""
    if len(query) > MAX_QUERY:
        raise Refused(f"an inline query is at most {MAX_QUERY} characters")
    if len(offset.encode("utf-8")) > MAX_NEXT_OFFSET:
        raise Refused(f"an offset is at most {MAX_NEXT_OFFSET} bytes (it is a next_offset)")
    state = sb.state
    if state.resolve_chat(user_id) is None:
        state.add_user(user_id, "Reader", None)
    resolved = state.resolve_chat(chat_id if chat_id is not None else user_id)
    if resolved is None:
        raise Refused("chat not found")
    chat_type = _chat_type(sb, user_id, resolved)
    query_id = str(5_000_000_000_000_000_000 + next(state.ids))
    sb.inline.add(InlineQuery(query_id, user_id, resolved, query, offset))
    sb.feed.queue(
        "inline_query",
        {
            "id": query_id,
            "from": state.users[user_id],
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        },
    )
    return query_id


def answered(sb: Sandbox, query_id: str) -> JSON | None:
    """The bot's answer to a query (None while unanswered); unknown ids are refused."""
    query = sb.inline.get(query_id)
    if query is None:
        raise Refused("no such inline query")
    return query.answer


def choose(sb: Sandbox, query_id: str, result_id: str) -> JSON:
    """The user taps a result: its message goes into the chat, from them, via the bot."""
    query = sb.inline.get(query_id)
    if query is None or query.answer is None:
        raise Refused("no answered inline query with that id")
    result = next((r for r in query.answer["results"] if r["id"] == result_id), None)
    if result is None:
        raise Refused("the answer has no result with that id")
    content = result.get("input_message_content") or {}
    if "message_text" not in content:
        raise Refused("the sandbox sends only results with a text message content")
    state = sb.state
    if query.user_id in state.blocked and query.chat_id == query.user_id:
        # Sending into the chat with the bot unblocks it, as writing to it does.
        sb.actors.block_bot(query.user_id, False)
    text, entities, html = formatted(sb, Params(_as_message(content)), "text", "entities")
    user = state.users[query.user_id]
    msg = state.store(
        query.chat_id,
        from_bot=False,
        sender=user,
        text=text,
        entities=entities,
        html=html,
        reply_markup=result.get("reply_markup"),
        via_bot=sb.bot_user,
    )
    # The bot sees messages sent via itself, in its own chat and (privacy mode or not) in groups.
    sb.feed.queue("message", state.message_api(msg))
    if sb.inline.feedback:
        chosen: JSON = {"result_id": result_id, "from": user, "query": query.query}
        if msg.reply_markup is not None:
            chosen["inline_message_id"] = f"sbx-{msg.chat_id}-{msg.message_id}"
        sb.feed.queue("chosen_inline_result", chosen)
    view = state.view(msg)
    return view


def _as_message(content: JSON) -> JSON:
    """InputTextMessageContent as sendMessage parameters (for the one text parser)."""
    params: JSON = {"text": content["message_text"]}
    if content.get("parse_mode"):
        params["parse_mode"] = content["parse_mode"]
    if content.get("entities"):
        params["entities"] = content["entities"]
    return params


# ---------------------------------------------------------------------- the Bot API method


def _check_result(sb: Sandbox, result: Any, seen: set[str]) -> None:
    """One result, checked as Telegram checks it when the answer arrives."""
    if not isinstance(result, dict):
        raise bad_request("can't parse inline query result JSON object")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= MAX_RESULT_ID:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    problems = spec.problems(result, ["InlineQueryResult"])
    if problems:
        raise bad_request(f"can't parse inline query result: {problems[0]}")
    if result.get("type") == "article" and not result.get("title"):
        raise bad_request("RESULT_TITLE_EMPTY")
    thumbnail = result.get("thumbnail_url")
    if thumbnail is not None and not _WEB_URL.match(thumbnail):
        raise bad_request("PHOTO_THUMB_URL_INVALID")
    content = result.get("input_message_content")
    if isinstance(content, dict) and "message_text" in content:
        text, _entities, _html = formatted(sb, Params(_as_message(content)), "text", "entities")
        if not text:
            raise bad_request("MESSAGE_EMPTY")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
    if "reply_markup" in result:
        reply_markup(Params({"reply_markup": result["reply_markup"]}))


def answer_inline_query(sb: Sandbox, p: Params) -> bool:
    query_id = p.text("inline_query_id") or ""
    query = sb.inline.get(query_id)
    if query is None or query.answer is not None:
        raise ApiError(400, QUERY_TOO_OLD)
    results = p.json("results", error="can't parse inline query results JSON object")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        _check_result(sb, result, seen)
    next_offset = p.text("next_offset") or ""
    if len(next_offset.encode("utf-8")) > MAX_NEXT_OFFSET:
        raise bad_request("NEXT_OFFSET_INVALID")
    cache_time = p.integer("cache_time")
    if cache_time is not None and cache_time < 0:
        raise bad_request("cache_time is invalid")
    sb.state.seq += 1
    query.answer = {
        "inline_query_id": query_id,
        "user_id": query.user_id,
        "chat_id": query.chat_id,
        "query": query.query,
        "offset": query.offset,
        "results": results,
        "next_offset": next_offset,
        "cache_time": 300 if cache_time is None else cache_time,
        "is_personal": p.flag("is_personal"),
        "seq": sb.state.seq,
    }
    sb.changes.notify()
    return True


METHODS: dict[str, Method] = {"answerInlineQuery": answer_inline_query}
