"""The sandbox's front: one object that answers Bot API calls and lets tests act as users.

The parts live by area: `state` (users, chats, messages, files), `flood` (limits), `updates`
(the update feed and long polls), `actors` (acting as people), `faults` (injected failures and
delivery figures), `methods/` (the Bot API, one module per area) and `spec` (the Bot API as data,
against which every call is checked).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.sandbox import spec
from bot.sandbox.actors import Actors
from bot.sandbox.errors import JSON, ApiError, Params, Refused, UploadedFile, bad_request
from bot.sandbox.faults import DeliveryLog, Dice, Faults
from bot.sandbox.flood import Flood, Limits
from bot.sandbox.methods import inline, table
from bot.sandbox.methods.callbacks import QUERY_TOO_OLD
from bot.sandbox.methods.editing import NOT_MODIFIED
from bot.sandbox.methods.inline import InlineQueries
from bot.sandbox.methods.messages import SENDING, content_of
from bot.sandbox.state import RIGHTS, STATUSES, Message, Rights, State
from bot.sandbox.updates import Changes, UpdateFeed
from bot.sandbox.webhook import Webhook

__all__ = [
    "JSON",
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "ApiError",
    "Limits",
    "Refused",
    "Sandbox",
    "UploadedFile",
    "bad_request",
]

_LOG = logging.getLogger(__name__)
MAX_BULK_USERS = 2_000_000
MAX_RECEIVED_RANGE = 10_000_000
_NOT_FOUND: JSON = {"ok": False, "error_code": 404, "description": "Not Found"}
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _language_code(raw: str) -> str:
    """An IETF language tag as Telegram sends it ("en", "zh-hans", "ta-IN")."""
    if not _LANGUAGE_TAG.fullmatch(raw) or len(raw) > 35:
        raise Refused("language_code must be an IETF language tag such as en, zh-hans or ta-IN")
    return raw


class Sandbox:
    """An in-memory Telegram: answers Bot API calls and lets tests act as users."""

    def __init__(
        self,
        *,
        bot_token: str = "sandbox:TOKEN",
        bot_username: str = "newswire_bot",
        bot_name: str = "Newswire",
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_token = bot_token
        self.bot_username = bot_username
        self.bot_name = bot_name
        prefix = bot_token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        self.clock = clock
        self.changes = Changes()
        self.state = State(clock, self.changes.notify)
        self.feed = UpdateFeed(self.changes)
        self.webhook = Webhook(self.feed, self.changes, self.state.now_date)
        self.flood = Flood(limits if limits is not None else Limits(), clock)
        self.actors = Actors(self)
        self.faults = Faults()
        self.deliveries = DeliveryLog()
        self.dice = Dice()
        self.counters: Counter[str] = Counter()
        # Calls naming a parameter their method lacks, by "method.parameter": Telegram
        # ignores them silently, so a misspelled option is a bug only this count reveals.
        self.unknown_parameters: Counter[str] = Counter()
        self.commands: list[JSON] = []
        self.scoped_commands: dict[str, list[JSON]] = {}
        self.command_sets: Counter[str] = Counter()  # setMyCommands calls per scope_key
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: list[JSON] = []
        self.inline = InlineQueries()  # typed queries, their answers, feedback on/off
        self.html_cache: OrderedDict[str, tuple[str, list[JSON]]] = OrderedDict()
        self._methods = {name.lower(): (name, handler) for name, handler in table().items()}

    @property
    def limits(self) -> Limits:
        """The flood limits in force (mutable: tests tighten them)."""
        return self.flood.limits

    @property
    def bot_user(self) -> JSON:
        """The bot as a Bot API User."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ set-up

    def add_user(
        self,
        user_id: int,
        first_name: str = "Reader",
        username: str | None = None,
        language_code: str = "en",
    ) -> JSON:
        """Make a user who has started the bot (so the bot may message them)."""
        return self.state.add_user(user_id, first_name, username, _language_code(language_code))

    def set_language(self, user_id: int, language_code: str) -> JSON:
        """The user's Telegram app language changes (sent with their next updates)."""
        user = {**self.actors.user(user_id), "language_code": _language_code(language_code)}
        # A new dict: messages already sent keep the language they were sent with.
        self.state.users[user_id] = user
        return dict(user)

    def commands_for(self, language_code: str | None) -> list[JSON]:
        """The menu a user with this app language sees (default scope), as Telegram picks it."""
        default = json.dumps({"type": "default"}, sort_keys=True)
        for key in (f"{default}|{language_code or ''}", f"{default}|"):
            if key in self.scoped_commands:
                return list(self.scoped_commands[key])
        return []

    def add_users_bulk(self, first_id: int, count: int) -> range:
        """Make `count` users from `first_id` on, in O(1); listed once something refers to one."""
        if first_id < 1 or not 0 <= count <= MAX_BULK_USERS:
            raise Refused(f"first_id must be positive and count between 0 and {MAX_BULK_USERS:,}")
        return self.state.add_users_bulk(first_id, count)

    def add_channel(self, username: str | int, title: str | None = None) -> int:
        """Create (or find) a channel where the bot is an administrator.

        `username` is "@name", or a numeric id such as -1001234567890 (a private channel, as
        TELEGRAM_CHANNELS may name one): that channel gets exactly this id.
        """
        return self.state.add_channel(str(username), title)

    def add_group(self, title: str) -> int:
        """Create a basic group with the bot as a member."""
        return self.state.add_group(title)

    def add_forum(
        self, title: str = "Forum", username: str | None = None, chat_id: int | None = None
    ) -> int:
        """Create a forum supergroup (`is_forum`, bot an administrator); returns its chat id."""
        return self.state.add_forum(title, username, chat_id)

    def add_topic(self, chat_id: int | str, name: str) -> int:
        """A new topic in a forum supergroup; returns its message_thread_id (General is 1)."""
        return self.state.add_topic(self._known_chat(chat_id), name)

    def set_rights(
        self, chat_id: int | str, status: str = "administrator", **rights: bool | None
    ) -> JSON:
        """The bot's status and rights in a channel or group (unset rights: True for admins)."""
        if status not in STATUSES:
            raise Refused(f"status must be one of {', '.join(STATUSES)}")
        unknown = set(rights) - set(RIGHTS)
        if unknown:
            raise Refused(f"unknown rights: {', '.join(sorted(unknown))}")
        admin = status == "administrator"
        flags = {
            name: admin and (rights.get(name) is None or bool(rights.get(name))) for name in RIGHTS
        }
        chosen = Rights(status, **flags)
        self.state.set_rights(self._known_chat(chat_id), chosen)
        return chosen.as_json()

    def rights(self, chat_id: int | str) -> JSON:
        """The bot's status and rights in a chat."""
        return self.state.chats[self._known_chat(chat_id)].rights.as_json()

    def age_message(self, chat_id: int | str, message_id: int, seconds: int) -> JSON:
        """Move a message's date back by `seconds` (e.g. past deleteMessage's 48 hours)."""
        return self.state.view(self.state.age(self._known_chat(chat_id), message_id, seconds))

    def pins(self, chat_id: int | str) -> JSON:
        """The chat's pinned message id (None), every pinned id, and the pin/unpin log."""
        chat = self.state.chats[self._known_chat(chat_id)]
        return {
            "chat_id": chat.id,
            "pinned_message_id": chat.pinned[-1] if chat.pinned else None,
            "pinned": list(chat.pinned),
            "log": [dict(entry) for entry in chat.pin_log],
        }

    def _known_chat(self, chat_id: int | str) -> int:
        resolved = self.state.resolve_chat(chat_id)
        if resolved is None:
            raise Refused("chat not found")
        return resolved

    def migrate_group(self, chat_id: int) -> int:
        """A basic group becomes a supergroup; sends to the old id then fail with 400."""
        already = chat_id in self.state.migrated
        new_id = self.state.migrate_group(chat_id)
        if not already:
            self.counters["migrated"] += 1
        return new_id

    def migrated_to(self, chat_id: int) -> int | None:
        """The supergroup a migrated group became, or None."""
        return self.state.migrated.get(chat_id)

    # ------------------------------------------------------------------ acting as people

    def send_user_message(self, user_id: int, text: str) -> JSON:
        """A user writes to the bot in private; queues a `message` update."""
        return self.actors.send_message(user_id, text)

    def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        forge: bool = False,
    ) -> str:
        """A user presses an inline button; returns the callback query id.

        With `forge`, the data need not be on any button of the message: a hostile client can
        send any callback data.
        """
        return self.actors.press_button(user_id, chat_id, message_id, callback_data, forge=forge)

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_id: int | str | None = None
    ) -> str:
        """A user types `@bot query` in a chat (default: theirs with the bot); the query id."""
        resolved = None if chat_id is None else self.state.resolve_chat(chat_id)
        if chat_id is not None and resolved is None:
            raise Refused("chat not found")
        return inline.type_query(self, user_id, query, offset, resolved)

    def inline_answer(self, query_id: str) -> JSON | None:
        """The bot's answer to an inline query, or None while it has not answered."""
        return inline.answered(self, query_id)

    def choose_inline_result(self, query_id: str, result_id: str) -> JSON:
        """The user taps a result: its message is sent into the query's chat via the bot."""
        return inline.choose(self, query_id, result_id)

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot; sends then fail with 403."""
        self.actors.block_bot(user_id, blocked)

    def delete_message(self, chat_id: int | str, message_id: int) -> None:
        """A person deletes a message (e.g. an admin removes a channel post)."""
        self.actors.delete_message(chat_id, message_id)

    def block_mid_broadcast(self, user_ids: Iterable[int], *, after_sends: int) -> None:
        """These users block the bot once `after_sends` more sends are accepted overall."""
        self.actors.block_mid_broadcast(user_ids, after_sends=after_sends)

    # ------------------------------------------------------------------ faults and figures

    def delivered(self, msg: Message) -> None:
        """The bot's message was accepted: count it, and let due mid-broadcast blocks happen."""
        self.deliveries.record(msg.chat_id, content_of(msg), self.clock())
        if self.faults.block_at:
            self.actors.block_due()

    def fault_state(self) -> JSON:
        """Current fault settings and migrations (for the control API)."""
        state = self.faults.as_json(now=self.clock(), accepted=self.deliveries.accepted)
        state["migrated"] = {str(old): new for old, new in self.state.migrated.items()}
        return state

    def update_faults(self, changes: Mapping[str, Any]) -> JSON:
        """A partial update of the fault settings (see `Faults.update`); returns the state."""
        self.faults.update(changes, now=self.clock(), accepted=self.deliveries.accepted)
        self.actors.block_due()
        return self.fault_state()

    def reset_faults(self) -> None:
        """No more faults: no storm, no errors, no pending blocks (migrations stay)."""
        self.faults = Faults()
        self.dice.reset()

    def counter_view(self) -> JSON:
        """Request counters plus accepted sends, duplicates and refusals by kind."""
        counters: JSON = dict(self.counters)
        counters.update(self.deliveries.counts())
        counters["5xx"] = sum(
            n for key, n in self.counters.items() if len(key) == 3 and key.startswith("5")
        )
        counters["unknown_parameters"] = sum(self.unknown_parameters.values())
        return counters

    def delivery_stats(self, since: float = float("-inf")) -> JSON:
        """Accepted sends since a sandbox-clock time: count, first, last, rate, busiest second."""
        return self.deliveries.stats(since, self.clock())

    def received_range(self, first_id: int, count: int) -> JSON:
        """Which of the chats first_id..first_id+count-1 got nothing, or more than one message."""
        if not 0 <= count <= MAX_RECEIVED_RANGE:
            raise Refused(f"count must be between 0 and {MAX_RECEIVED_RANGE:,}")
        return self.deliveries.range_report(first_id, count)

    def reset_counters(self) -> None:
        """Zero the counters and the delivery log (messages and chats stay)."""
        # Pending blocks keep the number of sends they still wait for.
        accepted = self.deliveries.accepted
        for user_id, at in self.faults.block_at.items():
            self.faults.block_at[user_id] = max(at - accepted, 0)
        self.counters.clear()
        self.unknown_parameters.clear()
        self.deliveries = DeliveryLog()

    # ------------------------------------------------------------------ inspection

    def resolve_chat(self, chat_id: int | str) -> int | None:
        """A chat id for an id or "@username", or None when no such chat exists."""
        return self.state.resolve_chat(chat_id)

    def messages(self, chat_id: int | str) -> list[JSON]:
        """Every message in the chat, oldest first, as plain dicts."""
        resolved = self.state.resolve_chat(chat_id)
        if resolved is None:
            return []
        return [self.state.view(m) for m in self.state.messages.get(resolved, {}).values()]

    def bot_messages(self, chat_id: int | str) -> list[JSON]:
        """The bot's messages in the chat, oldest first."""
        return [m for m in self.messages(chat_id) if m["from_bot"]]

    def message_view(self, chat_id: int, message_id: int) -> JSON | None:
        """One message as a plain dict (None if there is no such message)."""
        msg = self.state.find(chat_id, message_id)
        return self.state.view(msg) if msg is not None else None

    def chats(self) -> list[JSON]:
        """All chats the sandbox knows."""
        return [c.view() for c in self.state.chats.values()]

    def users(self) -> list[JSON]:
        """All users, with whether they blocked the bot."""
        blocked = self.state.blocked
        return [{**u, "blocked": u["id"] in blocked} for u in self.state.users.values()]

    def state_view(self) -> JSON:
        """Bot, users and chats in one snapshot (for the control API)."""
        return {
            "bot": self.bot_user,
            "users": self.users(),
            "chats": self.chats(),
            "commands": list(self.commands),
            "seq": self.state.seq,
        }

    def chat_version(self, chat_id: int) -> int:
        """A counter that moves whenever a message in the chat is added, edited or deleted."""
        return self.state.chat_version(chat_id)

    def messages_after(self, chat_id: int, after: int = 0, version: int | None = None) -> JSON:
        """Messages newer than `after`, plus (when `version` is given) those changed since it."""
        return self.state.messages_after(chat_id, after, version)

    def changes_since(self, since: int) -> JSON:
        """Everything that changed after sequence number `since` (for the web page)."""
        return {
            "seq": self.state.seq,
            "messages": self.state.recent_since(since),
            "deleted": [d for d in self.state.deleted if d["seq"] > since],
            "callback_answers": [a for a in self.callback_answers if a["seq"] > since],
            "chats": self.chats(),
        }

    def webhook_info(self) -> JSON:
        """getWebhookInfo's answer, plus how many updates were delivered and attempts made."""
        return {
            **self.webhook.info(),
            "delivered": self.webhook.delivered,
            "attempts": self.webhook.attempts,
        }

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot."""
        return self.feed.pending()

    def file_content(self, file_id: str) -> bytes | None:
        """Bytes of an uploaded file (None for URL photos or unknown ids)."""
        stored = self.state.files.get(file_id)
        return stored.data if stored else None

    @property
    def waiting(self) -> int:
        """How many long polls are parked right now (lets tests wait without sleeping)."""
        return self.changes.waiting

    def wake_waiters(self) -> None:
        """Wake every long poll so it re-checks its condition (e.g. its abort event)."""
        self.changes.notify()

    # ------------------------------------------------------------------ Bot API

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> tuple[int, JSON]:
        """Execute a Bot API method; returns (HTTP status, JSON body) as Telegram would."""
        status, body, _delay = self.dispatch(method, params)
        return status, body

    def _check(self, name: str, params: Mapping[str, Any]) -> None:
        for unknown in spec.check_call(name, params):
            self.unknown_parameters[f"{name}.{unknown}"] += 1
            _LOG.warning(
                "sandbox: %s has no parameter %r (Telegram ignores it silently)", name, unknown
            )

    def dispatch(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> tuple[int, JSON, float]:
        """Like `call`, plus how long an injected slow answer must be held back (seconds)."""
        self.counters["requests"] += 1
        entry = self._methods.get(method.lower())
        if entry is None:
            self.counters["404"] += 1
            return 404, dict(_NOT_FOUND), 0.0
        name, handler = entry
        self.counters[name] += 1
        raw = params or {}
        delay = 0.0
        try:
            self._check(name, raw)
            if name in SENDING:
                self._inject_refusal()
                delay = self.dice.slow(self.faults)
                if delay:
                    self.counters["slow"] += 1
            result = handler(self, Params(raw))
        except ApiError as error:
            self.counters[str(error.status)] += 1
            return error.status, error.body(), delay
        return 200, {"ok": True, "result": result}, delay

    async def get_updates(
        self, params: Mapping[str, Any] | None = None, *, abort: asyncio.Event | None = None
    ) -> tuple[int, JSON]:
        """getUpdates with real long polling: waits up to `timeout` seconds for an update."""
        raw = params or {}
        self.counters["requests"] += 1
        self.counters["getUpdates"] += 1
        try:
            self._check("getUpdates", raw)
            updates = await self.feed.long_poll(Params(raw), abort=abort)
        except ApiError as error:
            self.counters[str(error.status)] += 1
            return error.status, error.body()
        return 200, {"ok": True, "result": updates}

    async def wait_chat(
        self,
        chat_id: int,
        after: int,
        version: int | None,
        seconds: float,
        *,
        abort: asyncio.Event | None = None,
    ) -> JSON:
        """Long poll for a chat: returns as soon as it has a new, edited or deleted message."""

        def changed() -> JSON | None:
            result = self.state.messages_after(chat_id, after, version)
            moved = version is not None and result["version"] > version
            return result if result["messages"] or result["deleted"] or moved else None

        found = await self.changes.poll(changed, seconds, abort=abort)
        return found if found is not None else self.state.messages_after(chat_id, after, version)

    async def wait_changes(
        self, since: int, seconds: float, *, abort: asyncio.Event | None = None
    ) -> JSON:
        """Long poll over everything: returns when the sequence number passes `since`."""
        await self.changes.poll(
            lambda: True if self.state.seq > since else None, seconds, abort=abort
        )
        return self.changes_since(since)

    def _inject_refusal(self) -> None:
        """Refuse a sending call the way a storm or a failing Telegram would."""
        faults = self.faults
        if faults.storm_active(self.clock()):
            self.counters["storm"] += 1
            retry = faults.storm_retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        error = self.dice.server_error(faults)
        if error is not None:
            raise ApiError(*error)
