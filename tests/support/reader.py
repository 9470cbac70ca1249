"""Acting as a reader against the sandbox stack: send text, read replies, press buttons."""

from __future__ import annotations

from typing import Any

from tests.support.sandbox import READER
from tests.support.waiting import wait_for

__all__ = ["READER", "buttons", "press", "press_forged", "say"]


async def say(stack: Any, text: str, user: int = READER) -> dict[str, Any]:
    """Send `text` as the user and return the bot's next reply in that chat."""
    before = len(stack.sandbox.bot_messages(user))
    stack.sandbox.send_user_message(user, text)
    replies = await wait_for(
        lambda: stack.sandbox.bot_messages(user)[before:], what=f"a reply to {text!r}"
    )
    return replies[0]  # type: ignore[no-any-return]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def press(stack: Any, message: dict[str, Any], label_part: str, user: int = READER) -> None:
    button = next(b for b in buttons(message) if label_part in b["text"])
    stack.sandbox.press_button(
        user, message["chat_id"], message["message_id"], button["callback_data"]
    )


async def press_forged(
    stack: Any, message: dict[str, Any], data: str, user: int = READER
) -> dict[str, Any]:
    """Press data that is on no button (as a hostile client can); return the bot's answer."""
    query_id = stack.sandbox.press_button(
        user, message["chat_id"], message["message_id"], data, forge=True
    )
    answers = await wait_for(
        lambda: [a for a in stack.sandbox.callback_answers if a["callback_query_id"] == query_id],
        what=f"the answer to {data!r}",
    )
    return answers[0]  # type: ignore[no-any-return]
