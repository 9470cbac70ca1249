"""The message catalog: every reader-facing string goes through `_()` (gettext-compatible).

English is the identity today. A language is a `gettext.NullTranslations` (Babel's compiled
catalogs are `gettext.GNUTranslations`); `using()` selects one for the current task, so call
sites stay plain `_("…").format(name=…)` whatever the reader's language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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
