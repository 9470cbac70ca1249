"""Acting as people: users write, press buttons, block the bot; an admin deletes a post."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.sandbox.errors import JSON, Refused
from bot.sandbox.html import utf16_len
from bot.sandbox.methods.messages import MAX_TEXT

if TYPE_CHECKING:
    from bot.sandbox.core import Sandbox

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


class Actors:
    """The people around the bot, acting through the sandbox's state and update feed."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sb = sandbox

    def user(self, user_id: int) -> JSON:
        """The user (made on first mention, as Telegram knows anyone who writes)."""
        state = self._sb.state
        if user_id not in state.users:
            state.add_user(user_id, "Reader", None)
        return state.users[user_id]

    def send_message(self, user_id: int, text: str) -> JSON:
        """A user writes to the bot in private; queues a `message` update."""
        if not text.strip():
            raise Refused("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise Refused("message is too long")
        user = self.user(user_id)
        if user_id in self._sb.state.blocked:
            # Writing again means the user pressed "Restart": the bot is unblocked.
            self.block_bot(user_id, False)
        entities: list[JSON] = []
        command = _COMMAND.match(text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
        state = self._sb.state
        msg = state.store(user_id, from_bot=False, sender=user, text=text, entities=entities)
        payload = state.message_api(msg)
        self._sb.feed.queue("message", payload)
        return payload

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, callback_data: str, *, forge: bool
    ) -> str:
        """A user presses an inline button (or, forged, sends any data); returns the query id."""
        state = self._sb.state
        resolved = state.resolve_chat(chat_id)
        msg = state.find(resolved, message_id) if resolved is not None else None
        if msg is None:
            raise Refused("message not found")
        if not forge:
            rows = (msg.reply_markup or {}).get("inline_keyboard", [])
            if not any(b.get("callback_data") == callback_data for row in rows for b in row):
                raise Refused("the message has no button with that callback_data")
        elif not 1 <= len(callback_data.encode("utf-8")) <= 64:
            # Telegram's clients cannot send more than a button can hold, forged or not.
            raise Refused("callback_data must be 1-64 bytes")
        user = self.user(user_id)
        query_id = str(4_000_000_000_000_000_000 + next(state.ids))
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": state.message_api(msg),
            "chat_instance": str(abs(msg.chat_id) * 7 + 13),
            "data": callback_data,
        }
        self._sb.callback_queries[query_id] = {"user_id": user_id, "chat_id": msg.chat_id}
        self._sb.feed.queue("callback_query", query)
        return query_id

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot; sends then fail with 403."""
        state = self._sb.state
        user = self.user(user_id)
        if (user_id in state.blocked) == blocked:
            return
        if blocked:
            state.blocked.add(user_id)
        else:
            state.blocked.discard(user_id)
        bot = self._sb.bot_user
        member: JSON = {"status": "member", "user": bot}
        kicked: JSON = {"status": "kicked", "user": bot, "until_date": 0}
        self._sb.feed.queue(
            "my_chat_member",
            {
                "chat": state.chats[user_id].as_api(),
                "from": user,
                "date": state.now_date(),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )

    def delete_message(self, chat_id: int | str, message_id: int) -> None:
        """A chat's admin (or the user, in private) deletes a message."""
        state = self._sb.state
        resolved = state.resolve_chat(chat_id)
        if resolved is None or not state.delete(resolved, message_id):
            raise Refused("message not found")
        self._sb.counters["deleted"] += 1

    def block_mid_broadcast(self, user_ids: Iterable[int], *, after_sends: int) -> None:
        """These users block the bot once `after_sends` more sends are accepted overall."""
        if after_sends < 0:
            raise Refused("after_sends must not be negative")
        at = self._sb.deliveries.accepted + after_sends
        for user_id in user_ids:
            self._sb.faults.block_at[int(user_id)] = at
        self.block_due()

    def block_due(self) -> None:
        """Users whose block_at send count has been reached block the bot now."""
        sb = self._sb
        accepted = sb.deliveries.accepted
        due = [user for user, at in sb.faults.block_at.items() if at <= accepted]
        for user_id in due:
            del sb.faults.block_at[user_id]
            sb.counters["blocked_mid_broadcast"] += 1
            self.block_bot(user_id)
