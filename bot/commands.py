"""One registry of commands: it feeds setMyCommands, /help, the welcome text and the handlers.

A new command is one `Command` in `registry()`; its texts are catalog ids (marked with `N_`,
translated where they are shown).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.rendering.i18n import N_, _

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
    from bot.handlers import admin, articles, search, start, subscriptions

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
            "help",
            start.help_command,
            menu=N_("What I can do"),
            welcome=N_("everything I can do"),
            menu_last=True,
        ),
        Command("stats", admin.stats, admin_only=True),
        Command("retry", admin.retry, admin_only=True),
    )


def reader_commands() -> tuple[Command, ...]:
    """The commands every reader may use (admin commands stay out of help and menus)."""
    return tuple(c for c in registry() if not c.admin_only)


def menu() -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands, rarely typed ones last."""
    shown = [c for c in reader_commands() if c.menu]
    ordered = [c for c in shown if not c.menu_last] + [c for c in shown if c.menu_last]
    return [(c.name, _(c.menu or "")) for c in ordered]
