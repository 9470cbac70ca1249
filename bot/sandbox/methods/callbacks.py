"""Answering button presses (answerCallbackQuery)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sandbox.errors import ApiError, Params, bad_request

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox
    from bot.sandbox.methods import Method

MAX_CALLBACK_TEXT = 200
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def answer_callback_query(sb: Sandbox, p: Params) -> bool:
    query_id = p.text("callback_query_id") or ""
    text = p.text("text") or ""
    if len(text) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    query = sb.callback_queries.pop(query_id, None)
    if query is None:
        raise ApiError(400, QUERY_TOO_OLD)
    sb.state.seq += 1
    sb.callback_answers.append(
        {
            "callback_query_id": query_id,
            "user_id": query["user_id"],
            "chat_id": query["chat_id"],
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.text("url"),
            "seq": sb.state.seq,
        }
    )
    sb.changes.notify()
    return True


METHODS: dict[str, Method] = {"answerCallbackQuery": answer_callback_query}
