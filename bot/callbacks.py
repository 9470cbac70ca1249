"""Typed callback data: one small class per button kind, so a button and its handler agree.

Each class owns its wire format (`PREFIX` plus fields joined by ":"): `encode()` builds the
data a keyboard carries, `decode(data)` parses it strictly (exact prefix, exact field count,
ASCII digits, the article-id pattern, at most 64 bytes) and `matches` is the handler's pattern.
Telegram clients can send any data, so anything that does not decode is treated as stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self

from content.models import ARTICLE_ID_PATTERN
from content.preferences import LANGUAGES

CALLBACK_LIMIT = 64  # bytes, Telegram's limit on callback_data

_ID = ARTICLE_ID_PATTERN
# ASCII digits only ("²".isdigit() is true and int("²") fails), no leading zeros.
_PAGE = r"0|[1-9][0-9]{0,3}"
_VALUE = r"[^\x00-\x1f\x7f]+"  # a topic or keyword (may hold ":"); no control characters


class Button:
    """Base of the callback data classes: strict parsing from `SHAPE`, encoding via `parts`."""

    __slots__ = ()
    PREFIX: ClassVar[str]
    SHAPE: ClassVar[re.Pattern[str]]

    def parts(self) -> tuple[str | int, ...]:
        return ()

    def encode(self) -> str:
        """The callback_data string; raises ValueError when it would not decode back."""
        data = ":".join(str(p) for p in (self.PREFIX, *self.parts()))
        if type(self).decode(data) != self:
            raise ValueError(f"not valid {type(self).__name__} data: {data[:80]!r}")
        return data

    def fits(self) -> bool:
        """Whether this button can be sent at all (some values are too long for 64 bytes)."""
        try:
            self.encode()
        except ValueError:
            return False
        return True

    @classmethod
    def decode(cls, data: object) -> Self | None:
        """The button this data stands for, or None when it is not exactly this kind."""
        if not isinstance(data, str) or len(data.encode("utf-8")) > CALLBACK_LIMIT:
            return None
        match = cls.SHAPE.fullmatch(data)
        return cls._from_fields(match.groups()) if match else None

    @classmethod
    def matches(cls, data: object) -> bool:
        """The CallbackQueryHandler pattern: only data that decodes reaches the handler."""
        return cls.decode(data) is not None

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(*fields)


def _shape(prefix: str, *fields: str) -> re.Pattern[str]:
    return re.compile(":".join([re.escape(prefix), *(f"({f})" for f in fields)]))


@dataclass(frozen=True, slots=True)
class OpenArticle(Button):
    """Under a list: send the article's card."""

    PREFIX: ClassVar[str] = "o"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("o", _ID)
    article_id: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.article_id,)


@dataclass(frozen=True, slots=True)
class ArticlePage(Button):
    """Under a card or a page: show page `page` (from 0) of the full text in place."""

    PREFIX: ClassVar[str] = "p"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("p", _ID, _PAGE)
    article_id: str
    page: int

    def parts(self) -> tuple[str | int, ...]:
        return (self.article_id, self.page)

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(fields[0], int(fields[1]))


@dataclass(frozen=True, slots=True)
class BackToCard(Button):
    """Under a page: turn the page back into the article's card."""

    PREFIX: ClassVar[str] = "r"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("r", _ID)
    article_id: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.article_id,)


@dataclass(frozen=True, slots=True)
class SubscribeTopic(Button):
    """Under /topics: follow this topic (validated like /subscribe by the handler)."""

    PREFIX: ClassVar[str] = "s"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("s", _VALUE)
    topic: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.topic,)


@dataclass(frozen=True, slots=True)
class Unsubscribe(Button):
    """Under /subscriptions: stop following this topic or keyword."""

    PREFIX: ClassVar[str] = "u"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("u", _VALUE)
    value: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.value,)


@dataclass(frozen=True, slots=True)
class NoOp(Button):
    """A label that does nothing when pressed (the "2/5" between page arrows)."""

    PREFIX: ClassVar[str] = "noop"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile("noop")


_HHMM = r"(?:[01][0-9]|2[0-3])[0-5][0-9]"  # a time of day without the colon: "0730"


@dataclass(frozen=True, slots=True)
class SetDigest(Button):
    """Under /settings: instant ("off"), hourly, or daily at `at` ("0700"; "" otherwise)."""

    PREFIX: ClassVar[str] = "cd"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile(rf"cd:(off|hourly|daily):({_HHMM})?")
    mode: str
    at: str = ""

    def parts(self) -> tuple[str | int, ...]:
        return (self.mode, self.at)

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(fields[0], fields[1] or "")


@dataclass(frozen=True, slots=True)
class SetQuiet(Button):
    """Under /settings: quiet hours from `start` to `end` ("2200", "0700"), or off (both "")."""

    PREFIX: ClassVar[str] = "cq"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile(rf"cq:(?:({_HHMM})-({_HHMM})|off)")
    start: str = ""
    end: str = ""

    def parts(self) -> tuple[str | int, ...]:
        return (f"{self.start}-{self.end}",) if self.start else ("off",)

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(fields[0] or "", fields[1] or "")


@dataclass(frozen=True, slots=True)
class SetBreaking(Button):
    """Under /settings: whether stories tagged breaking go through quiet hours."""

    PREFIX: ClassVar[str] = "cb"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile("cb:([01])")
    on: bool

    def parts(self) -> tuple[str | int, ...]:
        return (int(self.on),)

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(fields[0] == "1")


@dataclass(frozen=True, slots=True)
class SetLanguage(Button):
    """Under /settings: the reader's language (one of content.preferences.LANGUAGES)."""

    PREFIX: ClassVar[str] = "cl"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile(f"cl:({'|'.join(LANGUAGES)})")
    language: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.language,)


@dataclass(frozen=True, slots=True)
class ToggleTopic(Button):
    """Under the welcome: follow this topic, or stop following it (the ✓ shows which)."""

    PREFIX: ClassVar[str] = "ct"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("ct", _VALUE)
    topic: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.topic,)


@dataclass(frozen=True, slots=True)
class OnboardingDone(Button):
    """Under the welcome: the reader has picked their topics."""

    PREFIX: ClassVar[str] = "cx"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile("cx")


@dataclass(frozen=True, slots=True)
class DigestMore(Button):
    """Under a digest: list the stories behind its "and N more" (`digest`: its delivery id)."""

    PREFIX: ClassVar[str] = "dm"
    SHAPE: ClassVar[re.Pattern[str]] = re.compile("dm:([1-9][0-9]{0,17})")
    digest: int

    def parts(self) -> tuple[str | int, ...]:
        return (self.digest,)

    @classmethod
    def _from_fields(cls, fields: tuple[str, ...]) -> Self:
        return cls(int(fields[0]))


@dataclass(frozen=True, slots=True)
class Review(Button):
    """Under an editor's preview (REVIEW=true): publish, hold, or edit the story's summary."""

    PUBLISH: ClassVar[str] = "p"
    HOLD: ClassVar[str] = "h"
    EDIT_SUMMARY: ClassVar[str] = "e"
    PREFIX: ClassVar[str] = "rv"
    SHAPE: ClassVar[re.Pattern[str]] = _shape("rv", "[phe]", _ID)
    action: str
    article_id: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.action, self.article_id)


ALL_BUTTONS: tuple[type[Button], ...] = (
    OpenArticle,
    ArticlePage,
    BackToCard,
    SubscribeTopic,
    Unsubscribe,
    NoOp,
    SetDigest,
    SetQuiet,
    SetBreaking,
    SetLanguage,
    ToggleTopic,
    OnboardingDone,
    DigestMore,
    Review,
)
