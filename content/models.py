"""Domain values shared by the whole newsroom: frozen dataclasses and enums, no I/O."""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NewType

# A Telegram chat as Newswire names it everywhere: the numeric id as text (ids exceed 32 bits,
# so never a narrow int) or a channel's "@username", which only some chats have.
ChatId = NewType("ChatId", str)


def chat_id_of(value: int | str) -> ChatId:
    """The one conversion into a ChatId (from PTB's int ids, settings or stored values)."""
    return ChatId(str(value).strip())


# The one definition of an article id: ASCII letters, digits, "_" and "-", 1 to 40 of them.
ARTICLE_ID_PATTERN = r"[A-Za-z0-9_-]{1,40}"
ARTICLE_ID_RE = re.compile(rf"^{ARTICLE_ID_PATTERN}$")


def is_article_id(text: str) -> bool:
    """Whether `text` is exactly an article id (no trailing newline, nothing around it)."""
    return re.fullmatch(ARTICLE_ID_PATTERN, text) is not None


def make_article_id(key: str) -> str:
    """Stable 12-character id for an article from any identifying key (url, headline+time)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=6).hexdigest()


def headline_id(title: str, published: datetime | None) -> str:
    """The id of an article that names none: from its headline and publication time."""
    return make_article_id(f"{title}|{published.isoformat() if published else ''}")


class BlockKind(enum.Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a channel post goes: a chat, or a forum topic in one (`message_thread_id`).

    Its `key` is what the outbox stores as a delivery's chat: the chat alone, or
    "chat:thread" for a topic, so one story goes to each topic of a forum once.
    """

    chat: ChatId
    thread: int | None = None

    @property
    def key(self) -> ChatId:
        return self.chat if self.thread is None else ChatId(f"{self.chat}:{self.thread}")

    @classmethod
    def parse(cls, text: str) -> Target:
        """`@name`, a numeric id, or either with `:thread_id`; ValueError when it is neither."""
        text = text.strip()
        chat, sep, thread = text.rpartition(":") if ":" in text else (text, "", "")
        if not _TARGET_CHAT_RE.match(chat):
            raise ValueError(f"{text!r} is not a chat (@name or numeric id, then :topic id)")
        if sep and not (thread.isascii() and thread.isdigit() and 0 < int(thread) < 2**31):
            raise ValueError(f"{text!r}: the forum topic must be a positive number")
        if sep and int(thread) == GENERAL_TOPIC:
            # Telegram takes no message_thread_id for General: such a route would never deliver.
            raise ValueError(
                f"{text!r}: topic 1 is the forum's General topic, which takes no thread id:"
                f" route to {chat} alone"
            )
        return cls(ChatId(chat), int(thread) if sep else None)


GENERAL_TOPIC = 1  # a forum's General topic: posts there carry no message_thread_id
_TARGET_CHAT_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")


class LinkPreview(enum.Enum):
    """Whether a text post shows its article's link preview, and where."""

    OFF = "off"
    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """How the source asks a story to be posted (front matter and push fields of these names).

    None: the channel's own setting decides. `withdrawn`: the source took the story back
    (`status: withdrawn`).
    """

    breaking: bool = False
    silent: bool | None = None
    protect_content: bool | None = None
    link_preview: LinkPreview | None = None
    withdrawn: bool = False

    def to_json(self) -> dict[str, object]:
        """Only what differs from the defaults (an empty dict: nothing asked)."""
        out: dict[str, object] = {}
        if self.breaking:
            out["breaking"] = True
        for name in ("silent", "protect_content"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.link_preview is not None:
            out["link_preview"] = self.link_preview.value
        if self.withdrawn:
            out["withdrawn"] = True
        return out

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> PublishOptions:
        if not data:
            return cls()
        preview = data.get("link_preview")
        silent, protect = data.get("silent"), data.get("protect_content")
        return cls(
            breaking=bool(data.get("breaking", False)),
            silent=None if silent is None else bool(silent),
            protect_content=None if protect is None else bool(protect),
            link_preview=LinkPreview(preview) if isinstance(preview, str) else None,
            withdrawn=bool(data.get("withdrawn", False)),
        )


class ReviewState(enum.Enum):
    """A story under editorial review (REVIEW=true); NULL in the database: never reviewed."""

    WAITING = "waiting"  # previews sent to the editors, nobody decided yet
    HELD = "held"  # an editor held it: not posted until someone publishes it
    PUBLISHED = "published"  # an editor published it: planned like any story


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of an article's body, in reading order."""

    kind: BlockKind
    text: str


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed article. `summary` and derived topics are filled in by the pipeline."""

    id: str
    title: str
    blocks: tuple[Block, ...]
    standfirst: str | None = None
    author: str | None = None
    published: datetime | None = None  # timezone-aware when present
    tags: tuple[str, ...] = ()  # given by the source (front matter, feed categories)
    topics: tuple[str, ...] = ()  # tags plus derived topics, normalised slugs
    summary: str = ""
    channel_hint: str | None = None  # the outlet's Telegram link found in the boilerplate
    url: str | None = None
    image: str | None = None
    publish_at: datetime | None = None  # embargo: not posted before this time
    source: str | None = None  # where it came from (file path, feed url)
    options: PublishOptions = PublishOptions()  # how the source asks it to be posted
    # Workflow state, not content: set by storage (a re-parse never changes them).
    withdrawn_at: datetime | None = None  # taken back by its source or an editor
    review: ReviewState | None = None
    reviewed_by: str | None = None  # the editor who published or held it (their name)
    summary_by: str | None = None  # the editor who wrote the summary: new versions keep it

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks if b.kind is BlockKind.HEADING)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks if b.kind is BlockKind.PARAGRAPH)

    @property
    def body_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


class ArticleParseError(ValueError):
    """A source that cannot become an article; `reason` is for people."""

    def __init__(self, source: str | Path, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = str(source)
        self.reason = reason


class SubscriptionKind(enum.Enum):
    TOPIC = "topic"
    KEYWORD = "keyword"


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: ChatId
    kind: SubscriptionKind
    value: str  # topic slug or lower-cased keyword
    excludes: tuple[str, ...] = ()  # words, phrases or topics left out ("ukraine -sports")


class DeliveryState(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # a try failed; it will be retried at next_attempt_at
    DEAD = "dead"  # given up, with a reason
    # Not sent alone: for the reader's digest or the end of their quiet hours. The row's
    # `bundle` is NULL while it waits, then the id of the digest delivery it went out in.
    HELD = "held"
    # The story was withdrawn: the post was deleted (or never sent).
    WITHDRAWN = "withdrawn"


class DeliveryKind(enum.Enum):
    CHANNEL = "channel"
    READER = "reader"
    DIGEST = "digest"  # one message bundling a reader's held stories (their digest)
    AWAY = "away"  # the same, when quiet hours end ("While you were away")
    REVIEW = "review"  # the exact channel post, previewed to an editor with its buttons


@dataclass(frozen=True, slots=True)
class Delivery:
    """One planned send of an article to a chat (a row of the outbox)."""

    id: int
    article_id: str
    chat_id: ChatId
    kind: DeliveryKind
    priority: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    rank: int = 0
    message_id: int | None = None
    last_error: str | None = None
    delete_due: bool = False  # the story was withdrawn: delete this sent post


@dataclass(frozen=True, slots=True)
class TopicCount:
    topic: str
    count: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    article: Article
    score: float


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source went missing or came back: reported once per change, not at every scan."""

    source: str
    available: bool
    reason: str | None = None  # why it is unavailable


@dataclass(slots=True)
class IngestReport:
    """What one scan of the sources did; the bot turns it into log lines and admin notices."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    edits: int = 0  # channel posts queued to be edited because their story changed
    unchanged: int = 0
    errors: list[ArticleParseError] = field(default_factory=list)
    status_changes: list[SourceStatus] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # stories a source took back
    deletes: int = 0  # channel posts of withdrawn stories queued to be deleted
