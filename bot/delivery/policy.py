"""The failure policy, in one place: what each Telegram answer means for a delivery."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)


class Verdict(enum.Enum):
    FLOOD = "flood"  # 429: wait retry_after for that scope, not a failed attempt
    BLOCKED = "blocked"  # 403: the reader is gone; drop the chat, no retries
    CHAT_GONE = "chat_gone"  # 400 chat not found: dead
    MIGRATED = "migrated"  # group became a supergroup: move and resend
    BAD_MARKUP = "bad_markup"  # can't parse entities: resend as plain text, log an error
    TRANSIENT = "transient"  # timeouts, network errors, 5xx: back off and retry
    REJECTED = "rejected"  # any other 400: retrying would not help
    UNCHANGED = "unchanged"  # an edit that changes nothing: the post is already right
    PHOTO_REFUSED = "photo_refused"  # Telegram cannot use the photo: post the story as text


# Telegram's answers when it cannot use a photo URL (as opposed to a bad chat or text).
_PHOTO_REFUSALS = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "there is no photo in the request",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    reason: str
    retry_after: float = 0.0
    new_chat_id: int | None = None


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds."""
    return _seconds(exc.retry_after)


def is_not_modified(exc: TelegramError) -> bool:
    """An edit that changes nothing: the message already reads like this."""
    return isinstance(exc, BadRequest) and "message is not modified" in str(exc).lower()


def is_query_too_old(exc: TelegramError) -> bool:
    """An answer to a callback or inline query that came too late (or names an unknown query)."""
    return isinstance(exc, BadRequest) and "query is too old" in str(exc).lower()


def is_wrong_message_kind(exc: TelegramError) -> bool:
    """An edit of text on a photo message (or of a caption on a text one)."""
    return isinstance(exc, BadRequest) and "in the message to edit" in str(exc).lower()


def is_delete_target_gone(exc: TelegramError) -> bool:
    """A delete of a message that is not there (deleted by hand already): nothing to do."""
    return isinstance(exc, BadRequest) and "message to delete not found" in str(exc).lower()


def is_undeletable(exc: TelegramError) -> bool:
    """Telegram refuses the delete: older than 48 hours, or the bot lacks the right."""
    return isinstance(exc, BadRequest) and "message can't be deleted" in str(exc).lower()


def classify(exc: TelegramError) -> Outcome:
    """Map a PTB exception to a verdict (order matters: BadRequest is a NetworkError)."""
    message = str(exc)
    lowered = message.lower()
    if isinstance(exc, RetryAfter):
        return Outcome(Verdict.FLOOD, message, retry_after=max(retry_after_seconds(exc), 1.0))
    if isinstance(exc, ChatMigrated):
        return Outcome(Verdict.MIGRATED, message, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return Outcome(Verdict.BLOCKED, message)
    if isinstance(exc, BadRequest):
        if "chat not found" in lowered:
            return Outcome(Verdict.CHAT_GONE, message)
        if is_not_modified(exc):
            return Outcome(Verdict.UNCHANGED, message)
        if any(marker in lowered for marker in _PHOTO_REFUSALS):
            return Outcome(Verdict.PHOTO_REFUSED, message)
        if "can't parse entities" in lowered:
            return Outcome(Verdict.BAD_MARKUP, message)
        return Outcome(Verdict.REJECTED, message)
    if isinstance(exc, InvalidToken | EndPointNotFound):
        # Also what an unimplemented method looks like; keep the delivery, shout in the log.
        return Outcome(Verdict.TRANSIENT, f"server refused the token or method: {message}")
    if isinstance(exc, TimedOut | NetworkError):
        return Outcome(Verdict.TRANSIENT, message or type(exc).__name__)
    return Outcome(Verdict.TRANSIENT, message or type(exc).__name__)


def backoff(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, in seconds, for the n-th failed attempt."""
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return random.uniform(ceiling / 2, ceiling)
