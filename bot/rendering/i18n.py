"""The message catalog: every reader-facing string goes through `_()` (gettext-compatible).

English is the identity (the msgids are the English text). Each other language is a gettext
catalog in bot/locales/<lang>/LC_MESSAGES/newswire.mo (`make i18n` extracts, updates and
compiles them); `translations_for(language)` loads one, and `using()` selects it for the current
task, so call sites stay plain `_("…").format(name=…)` whatever the reader's language. Dates and
numbers follow the active catalog's language through `locale()` (Babel).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale

from content.preferences import DEFAULT_LANGUAGE, language_from_code

DOMAIN = "newswire"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

ENGLISH = gettext.NullTranslations()
_active: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=ENGLISH)


def _(message: str) -> str:
    """The message in the active language (placeholders are filled after, with .format)."""
    return _active.get().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in the active language."""
    return _active.get().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it yet (translated where shown)."""
    return message


@contextmanager
def using(translations: gettext.NullTranslations) -> Iterator[None]:
    """Render in `translations` inside the block (per task: concurrent updates do not mix)."""
    token = _active.set(translations)
    try:
        yield
    finally:
        _active.reset(token)


def activate(translations: gettext.NullTranslations) -> None:
    """Render in `translations` for the rest of this task (one update's handlers: its own task)."""
    _active.set(translations)


def translations_for(language: str) -> gettext.NullTranslations:
    """The catalog of a language or `language_code` (English or unknown: the msgids as they are)."""
    return _catalog(language_from_code(language) or DEFAULT_LANGUAGE)


@cache  # keyed by one of LANGUAGES only: any language_code Telegram sends maps onto those
def _catalog(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return ENGLISH
    # A missing .mo is a packaging fault: fail loudly rather than fall back to English.
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[language])


def language() -> str:
    """The active catalog's language (English for the identity and for test catalogs)."""
    return language_from_code(_active.get().info().get("language")) or DEFAULT_LANGUAGE


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def locale() -> Locale:
    """The Babel locale of the active language (dates and numbers)."""
    return _locale(language())
