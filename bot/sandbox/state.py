"""What the sandbox's Telegram holds: users, chats, messages, files and their ids."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import JSON, ApiError, Refused, bad_request

MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
_FIRST_CHANNEL = 1_000_000_000_000 + 1_234_567_000
_FIRST_GROUP = 4_000_000_000
_FIRST_SUPERGROUP = 1_000_000_000_000 + 2_000_000_000
GENERAL_TOPIC = 1  # a forum's "General" topic: its messages carry no message_thread_id
STATUSES = ("creator", "administrator", "member", "left", "kicked")
RIGHTS = ("can_post_messages", "can_edit_messages", "can_delete_messages", "can_pin_messages")


@dataclass
class Rights:
    """The bot's membership in a chat and the four rights a publisher needs."""

    status: str = "member"
    can_post_messages: bool = False
    can_edit_messages: bool = False
    can_delete_messages: bool = False
    can_pin_messages: bool = False

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    def can(self, right: str) -> bool:
        """The creator can do everything; an administrator what it was granted."""
        return self.status == "creator" or (
            self.status == "administrator" and bool(getattr(self, right))
        )

    def as_json(self) -> JSON:
        return {"status": self.status, **{name: getattr(self, name) for name in RIGHTS}}


@dataclass
class Chat:
    """A chat as the sandbox stores it."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    topics: dict[int, str] = field(default_factory=dict)  # message_thread_id -> name
    pinned: list[int] = field(default_factory=list)  # pinned message ids, newest last
    pin_log: list[JSON] = field(default_factory=list)  # every pin and unpin, for tests
    rights: Rights = field(default_factory=Rights)  # the bot's, in this chat

    def as_api(self) -> JSON:
        """The Bot API Chat object."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    def view(self) -> JSON:
        """The chat as the page and tests see it: topics, pin and the bot's rights added."""
        data = self.as_api()
        if self.type == "private":
            return data
        data["pinned_message_id"] = self.pinned[-1] if self.pinned else None
        data["rights"] = self.rights.as_json()
        if self.is_forum:
            data["topics"] = [
                {"message_thread_id": thread, "name": name} for thread, name in self.topics.items()
            ]
        return data


@dataclass
class Message:
    """A message as the sandbox stores it (text or photo with caption)."""

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
    via_bot: JSON | None = None  # the bot whose inline result this message is
    message_thread_id: int | None = None  # a forum topic (None: General, or not a forum)
    silent: bool = False  # sent with disable_notification (no field in the Bot API Message)
    protected: bool = False  # protect_content
    link_preview_options: JSON | None = None
    version: int = 0
    seq: int = 0


@dataclass
class StoredFile:
    """An uploaded file (data) or a photo sent by URL (no data)."""

    file_id: str
    unique_id: str
    source: str
    data: bytes | None = None


class State:
    """Users, chats, messages and files, and the change counters the page polls on."""

    def __init__(self, clock: Callable[[], float], notify: Callable[[], None]) -> None:
        self.clock = clock
        self._notify = notify
        # Dates are wall-clock seconds derived from the injected clock, so a fake clock
        # moves message dates too.
        self._epoch = time.time() - clock()
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.usernames: dict[str, int] = {}
        self.blocked: set[int] = set()
        self.messages: dict[int, OrderedDict[int, Message]] = {}
        self.files: dict[str, StoredFile] = {}
        self.migrated: dict[int, int] = {}
        self.recent: OrderedDict[tuple[int, int], Message] = OrderedDict()
        self.deleted: deque[JSON] = deque(maxlen=10_000)
        self.seq = 0
        self.ids = itertools.count(1)
        self._next_message_id: dict[int, int] = {}
        self._chat_versions: dict[int, int] = {}
        self._next_channel = _FIRST_CHANNEL
        self._next_group = _FIRST_GROUP
        self._next_supergroup = _FIRST_SUPERGROUP
        # Users made in bulk exist as ranges until something refers to one of them.
        self._bulk_users: list[range] = []

    # ------------------------------------------------------------------ users and chats

    def add_user(
        self, user_id: int, first_name: str, username: str | None, language_code: str = "en"
    ) -> JSON:
        """Make a user who has started the bot, with their private chat."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username.lstrip("@")
        user["language_code"] = language_code
        self.users[user_id] = user
        chat = Chat(id=user_id, type="private", first_name=first_name)
        chat.username = user.get("username")
        self.chats[user_id] = chat
        self.touch_chat(user_id)
        return dict(user)

    def add_users_bulk(self, first_id: int, count: int) -> range:
        """Users first_id.. that exist once something refers to them (O(1) now)."""
        block = range(first_id, first_id + count)
        if count:
            self._bulk_users.append(block)
        return block

    def add_channel(self, name: str, title: str | None) -> int:
        """Create (or find) a channel by "@name" or by a numeric id such as -1001234567890."""
        raw = name.strip()
        if raw.lstrip("-").isdigit():
            chat_id = int(raw)
            if chat_id >= 0:
                raise Refused("a channel id is negative, e.g. -1001234567890")
            existing = self.chats.get(chat_id)
            if existing is not None and existing.type != "channel":
                raise Refused(f"chat {chat_id} exists and is not a channel")
            if existing is None:
                self.chats[chat_id] = Chat(
                    id=chat_id,
                    type="channel",
                    title=title or f"Channel {chat_id}",
                    rights=_admin(),
                )
                self.touch_chat(chat_id)
            return chat_id
        username = raw.lstrip("@")
        if not username:
            raise Refused("a channel needs an @username or a numeric id")
        existing_id = self.usernames.get(username.lower())
        if existing_id is not None:
            return existing_id
        self._next_channel += 1
        chat_id = -self._next_channel
        self.chats[chat_id] = Chat(
            id=chat_id, type="channel", title=title or username, username=username, rights=_admin()
        )
        self.usernames[username.lower()] = chat_id
        self.touch_chat(chat_id)
        return chat_id

    def add_group(self, title: str) -> int:
        """Create a basic group with the bot as a member."""
        self._next_group += 1
        chat_id = -self._next_group
        self.chats[chat_id] = Chat(id=chat_id, type="group", title=title)
        self.touch_chat(chat_id)
        return chat_id

    def add_forum(self, title: str, username: str | None = None, chat_id: int | None = None) -> int:
        """Create a forum supergroup (`is_forum`) where the bot is an administrator.

        `chat_id`: a chosen negative id (a configured `-100…:thread` route), else the next one.
        """
        name = (username or "").lstrip("@") or None
        if name is not None and name.lower() in self.usernames:
            raise Refused(f"@{name} is taken")
        if chat_id is not None:
            if chat_id >= 0 or chat_id in self.chats:
                raise Refused(f"chat {chat_id} exists or is not a supergroup id")
        else:
            self._next_supergroup += 1
            chat_id = -self._next_supergroup
        self.chats[chat_id] = Chat(
            id=chat_id,
            type="supergroup",
            title=title,
            username=name,
            is_forum=True,
            rights=_admin(),
        )
        if name is not None:
            self.usernames[name.lower()] = chat_id
        # Topic ids are message ids (a topic is its "topic created" message); 1 is General.
        self._next_message_id[chat_id] = GENERAL_TOPIC
        self.touch_chat(chat_id)
        return chat_id

    def add_topic(self, chat_id: int, name: str) -> int:
        """A new topic in a forum; returns its message_thread_id."""
        chat = self.chats.get(chat_id)
        if chat is None or not chat.is_forum:
            raise Refused("topics exist only in a forum supergroup")
        if not 1 <= len(name) <= 128:
            raise Refused("a topic name is 1-128 characters")
        thread = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = thread
        chat.topics[thread] = name
        self.touch_chat(chat_id)
        return thread

    def set_rights(self, chat_id: int, rights: Rights) -> None:
        """The bot's status and rights in a chat change."""
        chat = self.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise Refused("rights apply to channels and groups")
        chat.rights = rights
        self.touch_chat(chat_id)

    def migrate_group(self, chat_id: int) -> int:
        """A basic group becomes a supergroup; returns the new -100... id."""
        if chat_id in self.migrated:
            return self.migrated[chat_id]
        old = self.chats.get(chat_id)
        if old is None or old.type != "group":
            raise Refused("only a basic group can be migrated")
        self._next_supergroup += 1
        new_id = -self._next_supergroup
        self.chats[new_id] = Chat(id=new_id, type="supergroup", title=old.title)
        self.migrated[chat_id] = new_id
        self.touch_chat(chat_id)
        self.touch_chat(new_id)
        return new_id

    def resolve_chat(self, chat_id: int | str) -> int | None:
        """A chat id for an id or "@username", or None when no such chat exists."""
        if isinstance(chat_id, str):
            raw = chat_id.strip()
            if raw.startswith("@"):
                return self.usernames.get(raw[1:].lower())
            try:
                chat_id = int(raw)
            except ValueError:
                return None
        if chat_id in self.chats:
            return chat_id
        if chat_id > 0 and any(chat_id in block for block in self._bulk_users):
            self.add_user(chat_id, f"Reader {chat_id}", None)
            return chat_id
        return None

    def chat_for(self, raw: Any, name: str = "chat_id") -> Chat:
        """The chat a Bot API parameter names, with Telegram's errors."""
        if raw is None or raw == "":
            raise bad_request(f"{name} is empty")
        resolved = self.resolve_chat(raw if isinstance(raw, int | str) else str(raw))
        if resolved is None:
            raise bad_request("chat not found")
        moved_to = self.migrated.get(resolved)
        if moved_to is not None:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": moved_to})
        return self.chats[resolved]

    def writable_chat(self, raw: Any) -> Chat:
        """`chat_for`, refusing a private chat whose user blocked the bot."""
        chat = self.chat_for(raw)
        if chat.type == "private" and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    # ------------------------------------------------------------------ messages

    def now_date(self) -> int:
        """The current date as Telegram stamps it (Unix seconds)."""
        return int(self._epoch + self.clock())

    def chat_version(self, chat_id: int) -> int:
        """A counter that moves whenever a message in the chat is added, edited or deleted."""
        return self._chat_versions.get(chat_id, 0)

    def touch_chat(self, chat_id: int) -> int:
        """Record a change in the chat; returns its new version."""
        self.seq += 1
        self._chat_versions[chat_id] = self._chat_versions.get(chat_id, 0) + 1
        self._notify()
        return self._chat_versions[chat_id]

    def find(self, chat_id: int, message_id: int) -> Message | None:
        """A stored message, or None."""
        chat_messages = self.messages.get(chat_id)
        return chat_messages.get(message_id) if chat_messages is not None else None

    def store(self, chat_id: int, *, from_bot: bool, sender: JSON | None, **fields: Any) -> Message:
        """Store a new message with the chat's next message id."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        msg = Message(
            chat_id=chat_id,
            message_id=message_id,
            date=self.now_date(),
            from_bot=from_bot,
            sender=sender,
            **fields,
        )
        self.messages.setdefault(chat_id, OrderedDict())[message_id] = msg
        self.changed(msg)
        return msg

    def changed(self, msg: Message) -> None:
        """A message was added or edited: bump versions, remember it for the page's feed."""
        msg.version = self.touch_chat(msg.chat_id)
        msg.seq = self.seq
        key = (msg.chat_id, msg.message_id)
        self.recent[key] = msg
        self.recent.move_to_end(key)

    def delete(self, chat_id: int, message_id: int) -> bool:
        """Delete a message (as a person would); False when there is no such message."""
        msg = self.messages.get(chat_id, OrderedDict()).pop(message_id, None)
        if msg is None:
            return False
        self.recent.pop((chat_id, message_id), None)
        chat = self.chats.get(chat_id)
        if chat is not None and message_id in chat.pinned:
            chat.pinned.remove(message_id)
        version = self.touch_chat(chat_id)
        self.deleted.append(
            {"chat_id": chat_id, "message_id": message_id, "version": version, "seq": self.seq}
        )
        return True

    def age(self, chat_id: int, message_id: int, seconds: int) -> Message:
        """Move a message's date back by `seconds` (to test Telegram's 48-hour rules)."""
        msg = self.find(chat_id, message_id)
        if msg is None:
            raise Refused("message not found")
        if seconds < 0:
            raise Refused("seconds must not be negative")
        msg.date -= seconds
        self.changed(msg)
        return msg

    def pin(self, chat: Chat, message_id: int, *, disable_notification: bool) -> None:
        """Pin a message (it becomes the chat's pinned message); the pin is logged."""
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        chat.pin_log.append(
            {
                "action": "pin",
                "message_id": message_id,
                "disable_notification": disable_notification,
                "date": self.now_date(),
            }
        )
        self.touch_chat(chat.id)

    def unpin(self, chat: Chat, message_ids: list[int]) -> None:
        """Unpin these messages; logged."""
        for message_id in message_ids:
            if message_id in chat.pinned:
                chat.pinned.remove(message_id)
            chat.pin_log.append(
                {"action": "unpin", "message_id": message_id, "date": self.now_date()}
            )
        self.touch_chat(chat.id)

    def new_file(self, source: str, data: bytes | None) -> str:
        """Store a file; returns its file_id."""
        number = next(self.ids)
        file_id = f"AgACAgSandbox{number:08d}"
        self.files[file_id] = StoredFile(file_id, f"AQADSbx{number:06d}", source, data)
        return file_id

    # ------------------------------------------------------------------ shapes

    def message_api(self, msg: Message, *, with_reply: bool = True) -> JSON:
        """The Bot API Message object."""
        chat = self.chats[msg.chat_id]
        data: JSON = {"message_id": msg.message_id, "date": msg.date, "chat": chat.as_api()}
        if chat.type == "channel":
            data["sender_chat"] = chat.as_api()
        elif msg.sender is not None:
            data["from"] = msg.sender
        if msg.message_thread_id is not None:
            data["message_thread_id"] = msg.message_thread_id
            data["is_topic_message"] = True
        if msg.reply_to is not None and with_reply:
            replied = self.find(msg.chat_id, msg.reply_to)
            if replied is not None:
                data["reply_to_message"] = self.message_api(replied, with_reply=False)
        if msg.via_bot is not None:
            data["via_bot"] = msg.via_bot
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.photo is not None:
            stored = self.files[msg.photo]
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
        if msg.link_preview_options is not None and msg.text is not None:
            data["link_preview_options"] = msg.link_preview_options
        if msg.protected:
            data["has_protected_content"] = True
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    def view(self, msg: Message) -> JSON:
        """A message as the page and tests see it (not the Bot API shape)."""
        photo_source = self.files[msg.photo].source if msg.photo else None
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
            "reply_to": msg.reply_to,
            "via_bot": msg.via_bot["username"] if msg.via_bot else None,
            "message_thread_id": msg.message_thread_id,
            "silent": msg.silent,
            "protected": msg.protected,
            "link_preview_options": msg.link_preview_options,
            "pinned": msg.message_id in self.chats[msg.chat_id].pinned,
            "version": msg.version,
            "seq": msg.seq,
        }

    def messages_after(self, chat_id: int, after: int = 0, version: int | None = None) -> JSON:
        """Messages newer than `after`, plus (when `version` is given) those changed since it."""
        chosen = [
            self.view(m)
            for m in self.messages.get(chat_id, {}).values()
            if m.message_id > after or (version is not None and m.version > version)
        ]
        deleted = [
            d["message_id"]
            for d in self.deleted
            if d["chat_id"] == chat_id and version is not None and d["version"] > version
        ]
        return {
            "chat_id": chat_id,
            "version": self.chat_version(chat_id),
            "messages": chosen,
            "deleted": deleted,
        }

    def recent_since(self, since: int) -> list[JSON]:
        """Messages added or edited after sequence number `since`, oldest first."""
        changed: list[JSON] = []
        for msg in reversed(self.recent.values()):
            if msg.seq <= since:
                break
            changed.append(self.view(msg))
        changed.reverse()
        return changed


def _admin() -> Rights:
    """An administrator with every right a publisher needs (channels start like this)."""
    return Rights("administrator", True, True, True, True)
