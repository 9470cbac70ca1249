"""The sandbox's state and Telegram's rules: chats, messages, updates, flood limits. No I/O."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.faults import DeliveryLog, Dice, Faults
from bot.sandbox.html import TelegramHTMLError, parse_html, strip_text, utf16_len

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)

# Methods that post a new message and so count against Telegram's flood limits.
SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage"}
)
# Update types Telegram delivers when allowed_updates was never set.
DEFAULT_UPDATE_TYPES = frozenset(
    {"message", "edited_message", "channel_post", "callback_query", "my_chat_member"}
)
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
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


@dataclass
class Limits:
    """Flood limits; every figure can be tightened or relaxed by tests and benchmarks."""

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 5
    group_per_minute: int = 20
    paid_broadcast_per_second: float = 1000.0
    enforce: bool = True


class ApiError(Exception):
    """A Bot API refusal: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram answers with."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, "Bad Request: " + description)


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def as_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class _Message:
    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender: JSON | None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    html: str | None = None
    reply_markup: JSON | None = None
    photo: str | None = None
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    caption_html: str | None = None
    edit_date: int | None = None
    reply_to: int | None = None
    media_group_id: str | None = None
    forward_origin: JSON | None = None
    version: int = 0
    seq: int = 0


@dataclass
class _File:
    file_id: str
    unique_id: str
    source: str
    data: bytes | None = None


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class _Params:
    """Typed access to Bot API parameters that may be form strings or JSON values."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def value(self, name: str) -> Any:
        value = self.raw.get(name)
        return None if value == "" else value

    def text(self, name: str) -> str | None:
        value = self.value(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, *, error: str | None = None) -> int | None:
        value = self.value(name)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                return int(value)
            return int(value) if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise bad_request(error or f"{name} is invalid") from None

    def number(self, name: str) -> float | None:
        value = self.value(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} is invalid") from None

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str, *, error: str) -> Any:
        value = self.value(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value


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
        self.limits = limits if limits is not None else Limits()
        self.clock = clock
        prefix = bot_token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        self.bot_name = bot_name
        # Dates are wall-clock seconds derived from the injected clock, so a fake clock
        # moves message dates too.
        self._epoch = time.time() - clock()
        self.commands: list[JSON] = []
        self.callback_answers: list[JSON] = []
        self.counters: dict[str, int] = Counter()
        self._lock = threading.RLock()
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, _Chat] = {}
        self._usernames: dict[str, int] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, OrderedDict[int, _Message]] = {}
        self._next_message_id: dict[int, int] = {}
        self._chat_versions: dict[int, int] = {}
        self._recent: OrderedDict[tuple[int, int], _Message] = OrderedDict()
        self._deleted: deque[JSON] = deque(maxlen=10_000)
        self._seq = 0
        self._updates: list[tuple[int, str, JSON]] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._webhook_url = ""
        self._callback_queries: dict[str, JSON] = {}
        self._ids = itertools.count(1)
        self._files: dict[str, _File] = {}
        self._scoped_commands: dict[str, list[JSON]] = {}
        self._global_window: deque[float] = deque()
        self._private_buckets: dict[int, _Bucket] = {}
        self._group_windows: dict[int, deque[float]] = {}
        self._next_channel = 1_000_000_000_000 + 1_234_567_000
        self._next_group = 4_000_000_000
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._ticks = 0  # bumped on every change; closes the check-then-wait race
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {}
        for name, handler in self._method_table().items():
            self._methods[name.lower()] = (name, handler)
        # Fault injection (see bot.sandbox.faults) and what benchmarks count.
        self.faults = Faults()
        self.deliveries = DeliveryLog()
        self._dice = Dice()
        self._migrated: dict[int, int] = {}
        self._next_supergroup = 1_000_000_000_000 + 2_000_000_000
        self._parsed_html: OrderedDict[str, tuple[str, list[JSON]]] = OrderedDict()
        # Users made in bulk exist as ranges until something refers to one of them.
        self._bulk_users: list[range] = []

    # ------------------------------------------------------------------ set-up, acting as users

    @property
    def bot_user(self) -> JSON:
        """The bot as a Bot API User."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def add_user(
        self, user_id: int, first_name: str = "Reader", username: str | None = None
    ) -> JSON:
        """Make a user who has started the bot (so the bot may message them)."""
        with self._lock:
            user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                user["username"] = username.lstrip("@")
            user["language_code"] = "en"
            self._users[user_id] = user
            chat = _Chat(id=user_id, type="private", first_name=first_name)
            chat.username = user.get("username")
            self._chats[user_id] = chat
            self._touch_chat(user_id)
            return dict(user)

    def add_channel(self, username: str, title: str | None = None) -> int:
        """Create (or find) a channel where the bot is an administrator.

        `username` is "@name", or a numeric id such as "-1001234567890" (a private channel,
        as TELEGRAM_CHANNELS may name one): that channel gets exactly this id.
        """
        if username.lstrip("-").isdigit():
            chat_id = int(username)
            with self._lock:
                if chat_id not in self._chats:
                    self._chats[chat_id] = _Chat(
                        id=chat_id, type="channel", title=title or f"Channel {chat_id}"
                    )
                    self._touch_chat(chat_id)
            return chat_id
        name = username.lstrip("@")
        with self._lock:
            existing = self._usernames.get(name.lower())
            if existing is not None:
                return existing
            self._next_channel += 1
            chat_id = -self._next_channel
            self._chats[chat_id] = _Chat(
                id=chat_id, type="channel", title=title or name, username=name
            )
            self._usernames[name.lower()] = chat_id
            self._touch_chat(chat_id)
            return chat_id

    def add_group(self, title: str) -> int:
        """Create a basic group with the bot as a member."""
        with self._lock:
            self._next_group += 1
            chat_id = -self._next_group
            self._chats[chat_id] = _Chat(id=chat_id, type="group", title=title)
            self._touch_chat(chat_id)
            return chat_id

    def send_user_message(self, user_id: int, text: str) -> JSON:
        """A user writes to the bot in private; queues a `message` update."""
        if not text.strip():
            raise ValueError("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise ValueError("message is too long")
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            if user_id in self._blocked:
                # Writing again means the user pressed "Restart": the bot is unblocked.
                self.block_bot(user_id, False)
            entities: list[JSON] = []
            command = _COMMAND.match(text)
            if command:
                entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
            msg = self._store(
                user_id, from_bot=False, sender=self._users[user_id], text=text, entities=entities
            )
            payload = self._message_api(msg)
            self._queue_update("message", payload)
            return payload

    def press_button(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """A user presses an inline button; queues a `callback_query` update, returns its id."""
        with self._lock:
            resolved = self.resolve_chat(chat_id)
            msg = self._find(resolved, message_id) if resolved else None
            if msg is None:
                raise ValueError("message not found")
            rows = (msg.reply_markup or {}).get("inline_keyboard", [])
            if not any(b.get("callback_data") == callback_data for row in rows for b in row):
                raise ValueError("the message has no button with that callback_data")
            if user_id not in self._users:
                self.add_user(user_id)
            query_id = str(4_000_000_000_000_000_000 + next(self._ids))
            query: JSON = {
                "id": query_id,
                "from": self._users[user_id],
                "message": self._message_api(msg),
                "chat_instance": str(abs(msg.chat_id) * 7 + 13),
                "data": callback_data,
            }
            self._callback_queries[query_id] = {"user_id": user_id, "chat_id": msg.chat_id}
            self._queue_update("callback_query", query)
            return query_id

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot; sends then fail with 403."""
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            if (user_id in self._blocked) == blocked:
                return
            if blocked:
                self._blocked.add(user_id)
            else:
                self._blocked.discard(user_id)
            member: JSON = {"status": "member", "user": self.bot_user}
            kicked: JSON = {"status": "kicked", "user": self.bot_user, "until_date": 0}
            self._queue_update(
                "my_chat_member",
                {
                    "chat": self._chats[user_id].as_api(),
                    "from": self._users[user_id],
                    "date": self._now_date(),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                },
            )

    # ------------------------------------------------------------------ faults and benchmarks

    def add_users_bulk(self, first_id: int, count: int) -> range:
        """Make `count` users from `first_id` on who have started the bot, in O(1).

        They are listed (in `users()`, `state()`) only once something refers to them.
        """
        if first_id < 1 or count < 0:
            raise ValueError("first_id must be positive and count not negative")
        block = range(first_id, first_id + count)
        with self._lock:
            if count:
                self._bulk_users.append(block)
            return block

    def block_mid_broadcast(self, user_ids: Iterable[int], *, after_sends: int) -> None:
        """These users block the bot once `after_sends` more sends are accepted overall."""
        if after_sends < 0:
            raise ValueError("after_sends must not be negative")
        with self._lock:
            at = self.deliveries.accepted + after_sends
            for user_id in user_ids:
                self.faults.block_at[int(user_id)] = at
            self._block_due()

    def migrate_group(self, chat_id: int) -> int:
        """A basic group becomes a supergroup; returns the new -100... id.

        Sends to the old id then fail with 400 and `parameters.migrate_to_chat_id`.
        """
        with self._lock:
            if chat_id in self._migrated:
                return self._migrated[chat_id]
            old = self._chats.get(chat_id)
            if old is None or old.type != "group":
                raise ValueError("only a basic group can be migrated")
            self._next_supergroup += 1
            new_id = -self._next_supergroup
            self._chats[new_id] = _Chat(id=new_id, type="supergroup", title=old.title)
            self._migrated[chat_id] = new_id
            self.counters["migrated"] += 1
            self._touch_chat(chat_id)
            self._touch_chat(new_id)
            return new_id

    def migrated_to(self, chat_id: int) -> int | None:
        """The supergroup a migrated group became, or None."""
        with self._lock:
            return self._migrated.get(chat_id)

    def fault_state(self) -> JSON:
        """Current fault settings and migrations (for the control API)."""
        with self._lock:
            state = self.faults.as_json(now=self.clock(), accepted=self.deliveries.accepted)
            state["migrated"] = {str(old): new for old, new in self._migrated.items()}
            return state

    def update_faults(self, changes: Mapping[str, Any]) -> JSON:
        """A partial update of the fault settings (see `Faults.update`); returns the state."""
        with self._lock:
            self.faults.update(changes, now=self.clock(), accepted=self.deliveries.accepted)
            self._block_due()
            return self.fault_state()

    def reset_faults(self) -> None:
        """No more faults: no storm, no errors, no pending blocks (migrations stay)."""
        with self._lock:
            self.faults = Faults()
            self._dice.reset()

    def counter_view(self) -> JSON:
        """Request counters plus accepted sends, duplicates and refusals by kind."""
        with self._lock:
            counters: JSON = dict(self.counters)
            counters.update(self.deliveries.counts())
            counters["5xx"] = sum(
                n for key, n in self.counters.items() if len(key) == 3 and key.startswith("5")
            )
            return counters

    def delivery_stats(self, since: float = float("-inf")) -> JSON:
        """Accepted sends since a sandbox-clock time: count, first, last, rate, busiest second."""
        with self._lock:
            return self.deliveries.stats(since, self.clock())

    def received_range(self, first_id: int, count: int) -> JSON:
        """Which of the chats first_id..first_id+count-1 got nothing, or more than one message."""
        if count < 0 or count > 10_000_000:
            raise ValueError("count must be between 0 and 10,000,000")
        with self._lock:
            return self.deliveries.range_report(first_id, count)

    def reset_counters(self) -> None:
        """Zero the counters and the delivery log (messages and chats stay)."""
        with self._lock:
            # Pending blocks keep the number of sends they still wait for.
            accepted = self.deliveries.accepted
            for user_id, at in self.faults.block_at.items():
                self.faults.block_at[user_id] = max(at - accepted, 0)
            self.counters.clear()
            self.deliveries = DeliveryLog()

    # ------------------------------------------------------------------ inspection

    def resolve_chat(self, chat_id: int | str) -> int | None:
        """A chat id for an id or "@username", or None when no such chat exists."""
        with self._lock:
            if isinstance(chat_id, str):
                raw = chat_id.strip()
                if raw.startswith("@"):
                    return self._usernames.get(raw[1:].lower())
                try:
                    chat_id = int(raw)
                except ValueError:
                    return None
            if chat_id in self._chats:
                return chat_id
            if chat_id > 0 and any(chat_id in block for block in self._bulk_users):
                self.add_user(chat_id, f"Reader {chat_id}")
                return chat_id
            return None

    def messages(self, chat_id: int | str) -> list[JSON]:
        """Every message in the chat, oldest first, as plain dicts."""
        with self._lock:
            resolved = self.resolve_chat(chat_id)
            if resolved is None:
                return []
            return [self._view(m) for m in self._messages.get(resolved, {}).values()]

    def message_view(self, chat_id: int, message_id: int) -> JSON | None:
        """One message as a plain dict (None if there is no such message)."""
        with self._lock:
            msg = self._find(chat_id, message_id)
            return self._view(msg) if msg is not None else None

    def bot_messages(self, chat_id: int | str) -> list[JSON]:
        """The bot's messages in the chat, oldest first."""
        return [m for m in self.messages(chat_id) if m["from_bot"]]

    def chats(self) -> list[JSON]:
        """All chats the sandbox knows."""
        with self._lock:
            return [c.as_api() for c in self._chats.values()]

    def users(self) -> list[JSON]:
        """All users, with whether they blocked the bot."""
        with self._lock:
            return [{**u, "blocked": u["id"] in self._blocked} for u in self._users.values()]

    def state(self) -> JSON:
        """Bot, users and chats in one snapshot (for the control API)."""
        with self._lock:
            return {
                "bot": self.bot_user,
                "users": self.users(),
                "chats": self.chats(),
                "commands": list(self.commands),
                "seq": self._seq,
            }

    def chat_version(self, chat_id: int) -> int:
        """A counter that moves whenever a message in the chat is added, edited or deleted."""
        with self._lock:
            return self._chat_versions.get(chat_id, 0)

    def messages_after(self, chat_id: int, after: int = 0, version: int | None = None) -> JSON:
        """Messages newer than `after`, plus (when `version` is given) those changed since it."""
        with self._lock:
            current = self._chat_versions.get(chat_id, 0)
            chosen = [
                self._view(m)
                for m in self._messages.get(chat_id, {}).values()
                if m.message_id > after or (version is not None and m.version > version)
            ]
            deleted = [
                d["message_id"]
                for d in self._deleted
                if d["chat_id"] == chat_id and version is not None and d["version"] > version
            ]
            return {"chat_id": chat_id, "version": current, "messages": chosen, "deleted": deleted}

    def changes(self, since: int) -> JSON:
        """Everything that changed after sequence number `since` (for the web page)."""
        with self._lock:
            changed: list[JSON] = []
            for msg in reversed(self._recent.values()):
                if msg.seq <= since:
                    break
                changed.append(self._view(msg))
            changed.reverse()
            return {
                "seq": self._seq,
                "messages": changed,
                "deleted": [d for d in self._deleted if d["seq"] > since],
                "callback_answers": [a for a in self.callback_answers if a["seq"] > since],
                "chats": self.chats(),
            }

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot."""
        with self._lock:
            return [{"update_id": uid, kind: payload} for uid, kind, payload in self._updates]

    # ------------------------------------------------------------------ Bot API entry points

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> tuple[int, JSON]:
        """Execute a Bot API method; returns (HTTP status, JSON body) as Telegram would."""
        status, body, _delay = self.dispatch(method, params)
        return status, body

    def dispatch(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> tuple[int, JSON, float]:
        """Like `call`, plus how long an injected slow answer must be held back (seconds)."""
        with self._lock:
            self.counters["requests"] += 1
            entry = self._methods.get(method.lower())
            if entry is None:
                self.counters["404"] += 1
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, 0.0
            name, handler = entry
            self.counters[name] += 1
            delay = 0.0
            try:
                if name in SENDING_METHODS:
                    self._inject_refusal()
                    delay = self._dice.slow(self.faults)
                    if delay:
                        self.counters["slow"] += 1
                result = handler(_Params(params or {}))
            except ApiError as error:
                self.counters[str(error.status)] += 1
                return error.status, error.body(), delay
            return 200, {"ok": True, "result": result}, delay

    async def get_updates(
        self, params: Mapping[str, Any] | None = None, *, abort: asyncio.Event | None = None
    ) -> tuple[int, JSON]:
        """getUpdates with real long polling: waits up to `timeout` seconds for an update."""
        p = _Params(params or {})
        with self._lock:
            self.counters["requests"] += 1
            self.counters["getUpdates"] += 1
            try:
                timeout = max(0.0, min(p.number("timeout") or 0.0, 50.0))
                generation = self._start_poll(p)
            except ApiError as error:
                self.counters[str(error.status)] += 1
                return error.status, error.body()
        self._notify()  # an older long poll must now answer 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                tick = self._ticks
                if generation != self._poll_generation:
                    self.counters["409"] += 1
                    return 409, ApiError(409, CONFLICT_POLL).body()
                updates = self._take_updates(p)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or (abort is not None and abort.is_set()):
                return 200, {"ok": True, "result": updates}
            await self._wait_change(remaining, abort, tick)

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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            with self._lock:
                tick = self._ticks
                result = self.messages_after(chat_id, after, version)
            changed = result["messages"] or result["deleted"]
            if version is not None and result["version"] > version:
                changed = True
            remaining = deadline - loop.time()
            if changed or remaining <= 0 or (abort is not None and abort.is_set()):
                return result
            await self._wait_change(remaining, abort, tick)

    async def wait_changes(
        self, since: int, seconds: float, *, abort: asyncio.Event | None = None
    ) -> JSON:
        """Long poll over everything: returns when the sequence number passes `since`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            with self._lock:
                tick = self._ticks
                ready = self._seq > since
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or (abort is not None and abort.is_set()):
                return self.changes(since)
            await self._wait_change(remaining, abort, tick)

    def file_content(self, file_id: str) -> bytes | None:
        """Bytes of an uploaded file (None for URL photos or unknown ids)."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.data if stored else None

    @property
    def waiting(self) -> int:
        """How many long polls are parked right now (lets tests wait without sleeping)."""
        with self._lock:
            return len(self._waiters)

    def wake_waiters(self) -> None:
        """Wake every long poll so it re-checks its condition (e.g. its abort event)."""
        self._notify()

    # ------------------------------------------------------------------ change notification

    def _notify(self) -> None:
        with self._lock:
            self._ticks += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            try:
                if running is loop:
                    event.set()
                else:
                    # Called from another thread (e.g. a test driving the sandbox directly).
                    loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass  # that loop is closed; its waiter is gone with it

    async def _wait_change(self, seconds: float, abort: asyncio.Event | None, tick: int) -> None:
        """Sleep until something changes after `tick` (when the caller last looked)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.append(entry)
            if self._ticks != tick:
                # A change (perhaps from another thread) slipped in after the caller's check.
                event.set()
        tasks = [asyncio.ensure_future(event.wait())]
        if abort is not None:
            tasks.append(asyncio.ensure_future(abort.wait()))
        try:
            await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with self._lock:
                self._waiters.remove(entry)

    def _touch_chat(self, chat_id: int) -> int:
        self._seq += 1
        self._chat_versions[chat_id] = self._chat_versions.get(chat_id, 0) + 1
        self._notify()
        return self._chat_versions[chat_id]

    # ------------------------------------------------------------------ storage helpers

    def _now_date(self) -> int:
        return int(self._epoch + self.clock())

    def _find(self, chat_id: int, message_id: int) -> _Message | None:
        chat_messages = self._messages.get(chat_id)
        return chat_messages.get(message_id) if chat_messages is not None else None

    def _store(
        self, chat_id: int, *, from_bot: bool, sender: JSON | None, **fields: Any
    ) -> _Message:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        msg = _Message(
            chat_id=chat_id,
            message_id=message_id,
            date=self._now_date(),
            from_bot=from_bot,
            sender=sender,
            **fields,
        )
        self._messages.setdefault(chat_id, OrderedDict())[message_id] = msg
        self._changed(msg)
        if from_bot:
            self._delivered(msg)
        return msg

    def _changed(self, msg: _Message) -> None:
        msg.version = self._touch_chat(msg.chat_id)
        msg.seq = self._seq
        key = (msg.chat_id, msg.message_id)
        self._recent[key] = msg
        self._recent.move_to_end(key)

    def _queue_update(self, kind: str, payload: JSON) -> None:
        self._updates.append((self._next_update_id, kind, payload))
        self._next_update_id += 1
        self._notify()

    def _message_api(self, msg: _Message, *, with_reply: bool = True) -> JSON:
        chat = self._chats[msg.chat_id]
        data: JSON = {"message_id": msg.message_id, "date": msg.date, "chat": chat.as_api()}
        if chat.type == "channel":
            data["sender_chat"] = chat.as_api()
        elif msg.sender is not None:
            data["from"] = msg.sender
        if msg.forward_origin is not None:
            data["forward_origin"] = msg.forward_origin
        if msg.reply_to is not None and with_reply:
            replied = self._find(msg.chat_id, msg.reply_to)
            if replied is not None:
                data["reply_to_message"] = self._message_api(replied, with_reply=False)
        if msg.media_group_id is not None:
            data["media_group_id"] = msg.media_group_id
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.photo is not None:
            stored = self._files[msg.photo]
            size = len(stored.data) if stored.data is not None else 51_200
            data["photo"] = [
                {
                    "file_id": f"{msg.photo}-s",
                    "file_unique_id": f"{stored.unique_id}s",
                    "width": 90,
                    "height": 60,
                    "file_size": max(1, size // 16),
                },
                {
                    "file_id": msg.photo,
                    "file_unique_id": stored.unique_id,
                    "width": 1280,
                    "height": 853,
                    "file_size": size,
                },
            ]
            if msg.caption:
                data["caption"] = msg.caption
                if msg.caption_entities:
                    data["caption_entities"] = msg.caption_entities
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    def _view(self, msg: _Message) -> JSON:
        photo_source = self._files[msg.photo].source if msg.photo else None
        return {
            "message_id": msg.message_id,
            "chat_id": msg.chat_id,
            "from_bot": msg.from_bot,
            "from_user_id": None if msg.from_bot or not msg.sender else msg.sender["id"],
            "text": msg.text if msg.text is not None else (msg.caption or ""),
            "html": msg.html,
            "entities": list(msg.entities if msg.text is not None else msg.caption_entities),
            "reply_markup": msg.reply_markup,
            "photo": photo_source,
            "photo_file_id": msg.photo,
            "caption": msg.caption,
            "caption_html": msg.caption_html,
            "date": msg.date,
            "edited": msg.edit_date is not None,
            "forwarded": msg.forward_origin is not None,
            "reply_to": msg.reply_to,
            "version": msg.version,
            "seq": msg.seq,
        }

    # ------------------------------------------------------------------ rules shared by methods

    def _chat_param(self, p: _Params, name: str = "chat_id") -> _Chat:
        raw = p.value(name)
        if raw is None:
            raise bad_request(f"{name} is empty")
        resolved = self.resolve_chat(raw if isinstance(raw, int | str) else str(raw))
        if resolved is None:
            raise bad_request("chat not found")
        moved_to = self._migrated.get(resolved)
        if moved_to is not None:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": moved_to})
        return self._chats[resolved]

    def _writable_chat(self, p: _Params) -> _Chat:
        chat = self._chat_param(p)
        if chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _formatted(
        self, p: _Params, name: str, mode_name: str, entities_name: str
    ) -> tuple[str, list[JSON], str | None]:
        """Text (or caption) after parse_mode: plain text, entities and the source HTML."""
        raw = p.text(name) or ""
        mode = (p.text(mode_name) or "").lower()
        html: str | None = None
        if mode == "html":
            parsed = self._parsed_html.get(raw)
            if parsed is None:
                try:
                    parsed = parse_html(raw)
                except TelegramHTMLError as error:
                    raise ApiError(400, error.description) from None
                # A broadcast sends the same HTML thousands of times: parse it once.
                self._parsed_html[raw] = parsed
                if len(self._parsed_html) > 256:
                    self._parsed_html.popitem(last=False)
            plain = parsed[0]
            entities = [{**e} for e in parsed[1]]  # callers fill in and trim their copy
            html = raw
        else:
            plain = raw
            given = p.json(entities_name, error=f"can't parse {entities_name} JSON object")
            entities = [dict(e) for e in given] if isinstance(given, list) else []
        plain, entities = strip_text(plain, entities)
        return plain, entities, html

    def _message_text(self, p: _Params) -> tuple[str, list[JSON], str | None]:
        plain, entities, html = self._formatted(p, "text", "parse_mode", "entities")
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        return plain, entities, html

    def _caption(self, p: _Params) -> tuple[str, list[JSON], str | None]:
        plain, entities, html = self._formatted(p, "caption", "parse_mode", "caption_entities")
        if utf16_len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return plain, entities, html

    def _reply_markup(self, p: _Params) -> JSON | None:
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
                    self._check_button(button)
            return {"inline_keyboard": rows}
        if any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            return dict(markup)
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if not any(k in button for k in _BUTTON_ACTIONS):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"(?i)^(https?://[^\s/]+|tg://)\S*$", url):
                raise bad_request("BUTTON_URL_INVALID")

    def _reply_to(self, p: _Params, chat: _Chat) -> int | None:
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
        if int(message_id) in self._messages.get(chat.id, {}):
            return int(message_id)
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")

    # ------------------------------------------------------------------ injected faults

    def _inject_refusal(self) -> None:
        """Refuse a sending call the way a storm or a failing Telegram would."""
        faults = self.faults
        if faults.storm_active(self.clock()):
            self.counters["storm"] += 1
            retry = faults.storm_retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        error = self._dice.server_error(faults)
        if error is not None:
            raise ApiError(*error)

    def _delivered(self, msg: _Message) -> None:
        content = msg.text if msg.text is not None else (msg.caption or msg.photo or "")
        self.deliveries.record(msg.chat_id, content, self.clock())
        if self.faults.block_at:
            self._block_due()

    def _block_due(self) -> None:
        accepted = self.deliveries.accepted
        due = [user for user, at in self.faults.block_at.items() if at <= accepted]
        for user_id in due:
            del self.faults.block_at[user_id]
            self.counters["blocked_mid_broadcast"] += 1
            self.block_bot(user_id)

    # ------------------------------------------------------------------ flood control

    def _admit(self, chat: _Chat, *, paid: bool) -> None:
        """Refuse with 429 if a new message to `chat` now would break a limit; else count it."""
        limits = self.limits
        if not limits.enforce:
            return
        now = self.clock()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        bucket: _Bucket | None = None
        group: deque[float] | None = None
        if chat.type == "private":
            bucket = self._private_buckets.get(chat.id)
            if bucket is None:
                bucket = _Bucket(tokens=float(limits.private_burst), stamp=now)
                self._private_buckets[chat.id] = bucket
            bucket.tokens = min(
                float(limits.private_burst),
                bucket.tokens + (now - bucket.stamp) * limits.private_per_second,
            )
            bucket.stamp = now
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / limits.private_per_second
                raise self._too_many(wait)
        else:
            group = self._group_windows.setdefault(chat.id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= limits.group_per_minute:
                excess = len(group) - limits.group_per_minute
                raise self._too_many(group[excess] + 60.0 - now)
        cap = limits.paid_broadcast_per_second if paid else limits.global_per_second
        if len(window) >= cap:
            # The window admits one more once it is down to ceil(cap) - 1 entries.
            expire = min(len(window) - max(math.ceil(cap) - 1, 0), len(window))
            oldest = window[expire - 1] if expire > 0 else now
            raise self._too_many(oldest + 1.0 - now)
        window.append(now)
        if bucket is not None:
            bucket.tokens -= 1.0
        if group is not None:
            group.append(now)

    def _too_many(self, wait: float) -> ApiError:
        seconds = max(1, math.ceil(wait - 1e-9))
        return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})

    # ------------------------------------------------------------------ Bot API methods

    def _method_table(self) -> dict[str, Callable[[_Params], Any]]:
        return {
            "getMe": lambda p: {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            },
            "logOut": lambda p: True,
            "close": lambda p: True,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": lambda p: {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            },
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "sendMessage": self._m_send_message,
            "sendPhoto": self._m_send_photo,
            "sendMediaGroup": self._m_send_media_group,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "editMessageText": self._m_edit_text,
            "editMessageCaption": self._m_edit_caption,
            "editMessageReplyMarkup": self._m_edit_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback,
            "getChat": self._m_get_chat,
            "getChatMember": self._m_get_chat_member,
            "sendChatAction": self._m_send_chat_action,
            "getFile": self._m_get_file,
        }

    def _start_poll(self, p: _Params) -> int:
        if self._webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._poll_generation += 1
        return self._poll_generation

    def _take_updates(self, p: _Params) -> list[JSON]:
        offset = p.integer("offset")
        if offset is not None and offset > 0:
            self._updates = [u for u in self._updates if u[0] >= offset]
        elif offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        allowed = p.json("allowed_updates", error="can't parse allowed_updates JSON object")
        if isinstance(allowed, list):
            # Like Telegram, the filter sticks until it is set again; [] means the default.
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        self._updates = [u for u in self._updates if u[1] in self._allowed_updates]
        limit = p.integer("limit") or 100
        limit = min(max(limit, 1), 100)
        return [{"update_id": uid, kind: body} for uid, kind, body in self._updates[:limit]]

    def _m_get_updates(self, p: _Params) -> list[JSON]:
        self._start_poll(p)
        self._notify()
        return self._take_updates(p)

    def _m_set_webhook(self, p: _Params) -> bool:
        self._webhook_url = p.text("url") or ""
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    def _m_delete_webhook(self, p: _Params) -> bool:
        self._webhook_url = ""
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    @staticmethod
    def _scope_key(p: _Params) -> str:
        scope = p.json("scope", error="can't parse BotCommandScope JSON object")
        scope_key = json.dumps(
            scope if isinstance(scope, dict) else {"type": "default"}, sort_keys=True
        )
        return f"{scope_key}|{p.text('language_code') or ''}"

    def _m_set_my_commands(self, p: _Params) -> bool:
        commands = p.json("commands", error="can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).lstrip("/")
            description = str(item.get("description", ""))
            if not _BOT_COMMAND_NAME.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("command description must be non-empty")
            cleaned.append({"command": command, "description": description})
        self._scoped_commands[self._scope_key(p)] = cleaned
        self.commands = list(cleaned)
        return True

    def _m_get_my_commands(self, p: _Params) -> list[JSON]:
        return list(self._scoped_commands.get(self._scope_key(p), []))

    def _m_delete_my_commands(self, p: _Params) -> bool:
        key = self._scope_key(p)
        if self._scoped_commands.pop(key, None) is not None and key.startswith(
            '{"type": "default"}|'
        ):
            self.commands = []
        return True

    def _m_send_message(self, p: _Params) -> JSON:
        chat = self._writable_chat(p)
        text, entities, html = self._message_text(p)
        markup = self._reply_markup(p)
        reply_to = self._reply_to(p, chat)
        self._admit(chat, paid=p.flag("allow_paid_broadcast"))
        msg = self._store(
            chat.id,
            from_bot=True,
            sender=self.bot_user,
            text=text,
            entities=self._fill_mentions(entities),
            html=html,
            reply_markup=markup,
            reply_to=reply_to,
        )
        self.counters["sent"] += 1
        return self._message_api(msg)

    def _photo_file(self, p: _Params, value: Any) -> str:
        """The file id for a photo given as upload, attach://name, URL or known file id."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.value(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            file_id = self._new_file("uploaded", value.data)
            return file_id
        if not isinstance(value, str) or not value:
            raise bad_request("there is no photo in the request")
        if value in self._files:
            return value
        if value.endswith("-s") and value[:-2] in self._files:
            return value[:-2]
        if re.match(r"(?i)^https?://\S+$", value):
            # The sandbox fetches nothing; a host under the reserved .invalid domain stands
            # for a URL Telegram cannot fetch.
            if re.match(r"(?i)^https?://[^/:]+\.invalid(?:[/:]|$)", value):
                raise bad_request("failed to get HTTP URL content")
            return self._new_file(value, None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _new_file(self, source: str, data: bytes | None) -> str:
        number = next(self._ids)
        file_id = f"AgACAgSandbox{number:08d}"
        self._files[file_id] = _File(file_id, f"AQADSbx{number:06d}", source, data)
        return file_id

    def _m_send_photo(self, p: _Params) -> JSON:
        chat = self._writable_chat(p)
        photo = self._photo_file(p, p.value("photo"))
        caption, entities, html = self._caption(p)
        markup = self._reply_markup(p)
        reply_to = self._reply_to(p, chat)
        self._admit(chat, paid=p.flag("allow_paid_broadcast"))
        msg = self._store(
            chat.id,
            from_bot=True,
            sender=self.bot_user,
            photo=photo,
            caption=caption,
            caption_entities=self._fill_mentions(entities),
            caption_html=html,
            reply_markup=markup,
            reply_to=reply_to,
        )
        self.counters["sent"] += 1
        return self._message_api(msg)

    def _m_send_media_group(self, p: _Params) -> list[JSON]:
        chat = self._writable_chat(p)
        media = p.json("media", error="can't parse media JSON object")
        if not isinstance(media, list) or not media:
            raise bad_request("media must be non-empty")
        if len(media) > 10:
            raise bad_request("too many messages to send as an album")
        items: list[tuple[str, str, list[JSON], str | None]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request("can't parse InputMedia: only photos are supported here")
            sub = _Params({**p.raw, **{k: v for k, v in item.items() if k != "media"}})
            file_id = self._photo_file(p, item.get("media"))
            caption, entities, html = self._caption(sub)
            items.append((file_id, caption, entities, html))
        reply_to = self._reply_to(p, chat)
        # One album is admitted as one send: close enough for pacing, and never blocks forever.
        self._admit(chat, paid=p.flag("allow_paid_broadcast"))
        group_id = str(13_000_000_000_000_000 + next(self._ids))
        sent = []
        for file_id, caption, entities, html in items:
            msg = self._store(
                chat.id,
                from_bot=True,
                sender=self.bot_user,
                photo=file_id,
                caption=caption,
                caption_entities=self._fill_mentions(entities),
                caption_html=html,
                reply_to=reply_to,
                media_group_id=group_id,
            )
            sent.append(self._message_api(msg))
        self.counters["sent"] += len(sent)
        return sent

    def _source_message(self, p: _Params) -> _Message:
        source_chat = self._chat_param(p, "from_chat_id")
        message_id = p.integer("message_id")
        msg = self._find(source_chat.id, message_id or 0)
        if msg is None:
            raise bad_request("message to copy not found")
        return msg

    def _m_copy_message(self, p: _Params) -> JSON:
        chat = self._writable_chat(p)
        source = self._source_message(p)
        markup = self._reply_markup(p)
        fields: JSON = {
            "text": source.text,
            "entities": list(source.entities),
            "html": source.html,
            "photo": source.photo,
            "caption": source.caption,
            "caption_entities": list(source.caption_entities),
            "caption_html": source.caption_html,
            "reply_markup": markup if markup is not None else source.reply_markup,
        }
        if p.value("caption") is not None and source.photo is not None:
            caption, entities, html = self._caption(p)
            fields.update(caption=caption, caption_entities=entities, caption_html=html)
        self._admit(chat, paid=p.flag("allow_paid_broadcast"))
        msg = self._store(chat.id, from_bot=True, sender=self.bot_user, **fields)
        self.counters["sent"] += 1
        return {"message_id": msg.message_id}

    def _m_forward_message(self, p: _Params) -> JSON:
        chat = self._writable_chat(p)
        source = self._source_message(p)
        source_chat = self._chats[source.chat_id]
        origin: JSON
        if source_chat.type == "channel":
            origin = {
                "type": "channel",
                "chat": source_chat.as_api(),
                "message_id": source.message_id,
                "date": source.date,
            }
        else:
            origin = {"type": "user", "sender_user": source.sender or {}, "date": source.date}
        self._admit(chat, paid=p.flag("allow_paid_broadcast"))
        msg = self._store(
            chat.id,
            from_bot=True,
            sender=self.bot_user,
            text=source.text,
            entities=list(source.entities),
            html=source.html,
            photo=source.photo,
            caption=source.caption,
            caption_entities=list(source.caption_entities),
            caption_html=source.caption_html,
            forward_origin=origin,
        )
        self.counters["sent"] += 1
        return self._message_api(msg)

    def _editable(self, p: _Params) -> _Message:
        if p.value("inline_message_id") is not None:
            raise bad_request("message to edit not found")
        chat = self._writable_chat(p)
        message_id = p.integer("message_id", error="message to edit not found")
        msg = self._find(chat.id, message_id or 0)
        if msg is None:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg

    def _finish_edit(self, msg: _Message) -> JSON:
        msg.edit_date = self._now_date()
        self._changed(msg)
        self.counters["edited"] += 1
        return self._message_api(msg)

    def _m_edit_text(self, p: _Params) -> JSON:
        msg = self._editable(p)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities, html = self._message_text(p)
        entities = self._fill_mentions(entities)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._reply_markup(p)
        if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED[len("Bad Request: ") :])
        msg.text, msg.entities, msg.html, msg.reply_markup = text, entities, html, markup
        return self._finish_edit(msg)

    def _m_edit_caption(self, p: _Params) -> JSON:
        msg = self._editable(p)
        if msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities, html = self._caption(p)
        entities = self._fill_mentions(entities)
        markup = self._reply_markup(p)
        if (caption, entities, markup) == (msg.caption, msg.caption_entities, msg.reply_markup):
            raise bad_request(NOT_MODIFIED[len("Bad Request: ") :])
        msg.caption, msg.caption_entities, msg.caption_html = caption, entities, html
        msg.reply_markup = markup
        return self._finish_edit(msg)

    def _m_edit_markup(self, p: _Params) -> JSON:
        msg = self._editable(p)
        markup = self._reply_markup(p)
        if markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED[len("Bad Request: ") :])
        msg.reply_markup = markup
        return self._finish_edit(msg)

    def _m_delete_message(self, p: _Params) -> bool:
        chat = self._chat_param(p)
        message_id = p.integer("message_id", error="message to delete not found")
        msg = self._messages.get(chat.id, OrderedDict()).pop(message_id or 0, None)
        if msg is None:
            raise bad_request("message to delete not found")
        self._recent.pop((chat.id, msg.message_id), None)
        version = self._touch_chat(chat.id)
        self._deleted.append(
            {"chat_id": chat.id, "message_id": msg.message_id, "version": version, "seq": self._seq}
        )
        self.counters["deleted"] += 1
        return True

    def _m_answer_callback(self, p: _Params) -> bool:
        query_id = p.text("callback_query_id") or ""
        text = p.text("text") or ""
        if len(text) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._callback_queries.pop(query_id, None)
        if query is None:
            raise ApiError(400, QUERY_TOO_OLD)
        self._seq += 1
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "user_id": query["user_id"],
                "chat_id": query["chat_id"],
                "text": text,
                "show_alert": p.flag("show_alert"),
                "url": p.text("url"),
                "seq": self._seq,
            }
        )
        self._notify()
        return True

    def _m_get_chat(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        return {
            **chat.as_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_get_chat_member(self, p: _Params) -> JSON:
        chat = self._chat_param(p)
        user_id = p.integer("user_id", error="user not found")
        if user_id == self.bot_id:
            if chat.type == "private":
                return {"status": "member", "user": self.bot_user}
            rights = dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_invite_users",
                    "can_change_info",
                    "can_post_messages",
                    "can_edit_messages",
                ),
                True,
            )
            rights.update(
                dict.fromkeys(
                    (
                        "is_anonymous",
                        "can_be_edited",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    ),
                    False,
                )
            )
            return {"status": "administrator", "user": self.bot_user, **rights}
        user = self._users.get(user_id or 0)
        if user is None or (chat.type == "private" and chat.id != user_id):
            raise bad_request("user not found")
        return {"status": "member", "user": user}

    def _m_send_chat_action(self, p: _Params) -> bool:
        self._writable_chat(p)
        if not p.text("action"):
            raise bad_request("action is empty")
        return True

    def _m_get_file(self, p: _Params) -> JSON:
        file_id = p.text("file_id") or ""
        stored = self._files.get(file_id[:-2] if file_id.endswith("-s") else file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        data: JSON = {"file_id": file_id, "file_unique_id": stored.unique_id}
        if stored.data is not None:
            data["file_size"] = len(stored.data)
        data["file_path"] = f"photos/{stored.file_id}.jpg"
        return data

    def _fill_mentions(self, entities: list[JSON]) -> list[JSON]:
        """text_mention entities carry the full User, as Telegram fills them in."""
        for entity in entities:
            if entity["type"] == "text_mention":
                known = self._users.get(entity["user"]["id"])
                if known is not None:
                    entity["user"] = dict(known)
        return entities
