"""Fairness: at most N updates per reader in a sliding window; the rest dropped quietly."""

from __future__ import annotations

import enum
from collections import OrderedDict, deque

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import reply

UPDATES_PER_WINDOW = 20
WINDOW_SECONDS = 10.0
# Inline queries come a keystroke at a time: their own, larger window, so typing a search does
# not use up the reader's commands (and over it they are dropped without a note).
INLINE_PER_WINDOW = 60
MAX_TRACKED_READERS = 10_000  # least recently seen readers are forgotten beyond this


class Verdict(enum.Enum):
    ADMIT = "admit"
    WARN = "warn"  # the first refused update: the reader is told once
    DROP = "drop"


class ReaderWindows:
    """Per-reader sliding windows over a monotonic clock, in bounded memory."""

    def __init__(
        self,
        *,
        limit: int = UPDATES_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        max_readers: int = MAX_TRACKED_READERS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_readers = max_readers
        # reader -> (times of their last `limit` admitted updates, warned since then)
        self._readers: OrderedDict[int, tuple[deque[float], bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._readers)

    def check(self, reader: int, now: float) -> Verdict:
        times, warned = self._readers.pop(reader, (deque(maxlen=self.limit), False))
        self._readers[reader] = (times, warned)
        if len(self._readers) > self.max_readers:
            self._readers.popitem(last=False)
        if len(times) < self.limit or now - times[0] >= self.window:
            times.append(now)
            self._readers[reader] = (times, False)
            return Verdict.ADMIT
        if warned:
            return Verdict.DROP
        self._readers[reader] = (times, True)
        return Verdict.WARN


def is_inline(update: Update) -> bool:
    """Updates of inline mode, counted in their own window."""
    return update.inline_query is not None or update.chosen_inline_result is not None


def throttle_handler(
    windows: ReaderWindows | None = None,
    inline_windows: ReaderWindows | None = None,
) -> TypeHandler[Update, NewswireContext, None]:
    """Runs before every other handler (group -1); stops updates over a reader's limit."""
    state = windows or ReaderWindows()
    inline_state = inline_windows or ReaderWindows(limit=INLINE_PER_WINDOW)

    async def check(update: Update, context: NewswireContext) -> None:
        user = update.effective_user
        if user is None:
            return
        inline = is_inline(update)
        verdict = (inline_state if inline else state).check(user.id, context.services.monotonic())
        if verdict is Verdict.ADMIT:
            return
        if verdict is Verdict.WARN and not inline:
            if update.callback_query is not None:
                await update.callback_query.answer(rendering.slow_down())
            else:
                await reply(update, rendering.notice(rendering.slow_down()))
        raise ApplicationHandlerStop

    return TypeHandler(Update, check)
