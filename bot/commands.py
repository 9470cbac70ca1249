"""One registry of commands: it feeds setMyCommands, /help, the welcome text and the handlers.

A new command is one `Command` in `registry()`; its texts are catalog ids (marked with `N_`,
translated where they are shown).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.rendering.i18n import ENGLISH, N_, _, translations_for, using
from content.preferences import LANGUAGES

if TYPE_CHECKING:
    from telegram import Update

    from bot.context import NewswireContext

CommandCallback = Callable[["Update", "NewswireContext"], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class Command:
    """A command, its handler, and how it is described in the menu, /help and the welcome."""

    name: str
    handler: CommandCallback
    menu: str | None = None  # setMyCommands description; None: not in the menu
    help: str | None = None  # its /help line after the dash; None: not listed
    welcome: str | None = None  # its welcome line ("{count}": stories in the archive)
    args: str | None = None  # the argument's name, shown in /help ("<i>words</i>", "[n]")
    optional_args: bool = False  # shown as "[n]" in /help, left out of the welcome
    menu_last: bool = False  # rarely typed: listed after the others in the menu
    admin_only: bool = False  # ADMIN_IDS only; anyone else gets the unknown-command hint


@cache
def registry() -> tuple[Command, ...]:
    """Every command, in /help order."""
    # Imported here: handler modules render /help and the welcome from this registry.
    from bot.handlers import (
        admin,
        articles,
        review,
        search,
        sources,
        start,
        subscriptions,
        withdrawals,
    )
    from bot.handlers import settings as prefs

    return (
        Command("start", start.start),
        Command(
            "latest",
            articles.latest,
            menu=N_("Newest stories"),
            help=N_("the newest stories (up to 20)"),
            welcome=N_("the newest stories ({count} in the archive)"),
            args=N_("n"),
            optional_args=True,
        ),
        Command(
            "read",
            articles.read,
            menu=N_("Read a story by id"),
            help=N_("a story's summary, then the full text page by page"),
            args=N_("id"),
            menu_last=True,
        ),
        Command(
            "search",
            search.search,
            menu=N_("Find stories by words"),
            help=N_("stories that mention them, best first"),
            welcome=N_("find a story"),
            args=N_("words"),
        ),
        Command(
            "topics",
            subscriptions.topics,
            menu=N_("Topics with story counts"),
            help=N_("topics with how many stories each"),
            welcome=N_("what we write about"),
        ),
        Command(
            "subscribe",
            subscriptions.subscribe,
            menu=N_("Get new stories on a topic or keyword"),
            help=N_("a message whenever a new story matches"),
            welcome=N_("get new stories as they are published"),
            args=N_("topic or keyword"),
        ),
        Command(
            "unsubscribe",
            subscriptions.unsubscribe,
            menu=N_("Stop a subscription"),
            help=N_("stop those messages"),
            args=N_("topic or keyword"),
        ),
        Command(
            "subscriptions",
            subscriptions.subscriptions,
            menu=N_("What you follow"),
            help=N_("what you follow"),
        ),
        Command(
            "settings",
            prefs.show_settings,
            menu=N_("Delivery, quiet hours, language, time zone"),
            help=N_("when and how news reaches you, with buttons to change it"),
            welcome=N_("when and how news reaches you"),
        ),
        Command(
            "digest",
            prefs.digest,
            menu=N_("Instant, hourly or a daily digest"),
            help=N_("off (each story as published), hourly, or daily at a time"),
            args=N_("off | hourly | daily HH:MM"),
            menu_last=True,
        ),
        Command(
            "quiet",
            prefs.quiet,
            menu=N_("Quiet hours"),
            help=N_("hold messages during these hours, then send them as one"),
            args=N_("HH:MM-HH:MM | off"),
            menu_last=True,
        ),
        Command(
            "timezone",
            prefs.timezone,
            menu=N_("Your time zone"),
            help=N_("a city, a zone like Asia/Singapore, or UTC+8"),
            args=N_("zone"),
            menu_last=True,
        ),
        Command(
            "language",
            prefs.language,
            menu=N_("Language: en, zh, ms, ta"),
            help=N_("English, 中文, Bahasa Melayu or தமிழ்"),
            args=N_("en | zh | ms | ta"),
            menu_last=True,
        ),
        Command(
            "mute",
            prefs.mute,
            menu=N_("Never get stories about a word or topic"),
            help=N_("leave out every story that mentions it (alone: your mutes)"),
            args=N_("word or topic"),
            menu_last=True,
        ),
        Command(
            "unmute",
            prefs.unmute,
            menu=N_("Undo a mute"),
            help=N_("get stories that mention it again"),
            args=N_("word or topic"),
            menu_last=True,
        ),
        Command(
            "help",
            start.help_command,
            menu=N_("What I can do"),
            welcome=N_("everything I can do"),
            menu_last=True,
        ),
        Command("stats", admin.stats, admin_only=True),
        Command("retry", admin.retry, admin_only=True),
        Command("withdraw", withdrawals.withdraw_command, admin_only=True),
        Command("sources", sources.list_sources, admin_only=True),
        Command("addsource", sources.addsource, admin_only=True),
        Command("removesource", sources.removesource, admin_only=True),
        Command("post", review.post, admin_only=True),
        Command("hold", review.hold, admin_only=True),
        Command("summary", review.summary, admin_only=True),
    )


def reader_commands() -> tuple[Command, ...]:
    """The commands every reader may use (admin commands stay out of help and menus)."""
    return tuple(c for c in registry() if not c.admin_only)


def menu() -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands, rarely typed ones last."""
    shown = [c for c in reader_commands() if c.menu]
    ordered = [c for c in shown if not c.menu_last] + [c for c in shown if c.menu_last]
    return [(c.name, _(c.menu or "")) for c in ordered]


def menus() -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The menu per `language_code` for setMyCommands: None (English, for everyone else) first."""
    with using(ENGLISH):
        result: list[tuple[str | None, list[tuple[str, str]]]] = [(None, menu())]
    for language in LANGUAGES:
        with using(translations_for(language)):
            result.append((language, menu()))
    return result
