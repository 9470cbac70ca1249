"""The command registry and the handler list: one source for the menu, /help and handlers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import commands
from bot.callbacks import ALL_BUTTONS, ArticlePage, BackToCard, NoOp, OpenArticle, Unsubscribe
from bot.handlers import all_handlers
from bot.handlers.fallback import stale_button
from tests.support.stack import ADMIN

# CommandHandler reads the bot's username (for "/cmd@bot"); nothing is ever sent.
BOT: Any = SimpleNamespace(username="newswire_bot")


def update(kind: str, text: str, *, user: int = ADMIN) -> Update:
    """A private message (or its edit) as Telegram sends it."""
    message: dict[str, Any] = {
        "message_id": 7,
        "date": 1_780_000_000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "Editor"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if kind == "edited_message":
        message["edit_date"] = 1_780_000_100
    return Update.de_json({"update_id": 1, kind: message}, BOT)


def claiming(upd: Update) -> list[Any]:
    """The group-0 handlers that would take this update."""
    return [h for h in all_handlers(frozenset({ADMIN}))[0] if h.check_update(upd)]


def test_menu_is_what_it_was() -> None:
    assert commands.menu() == [
        ("latest", "Newest stories"),
        ("search", "Find stories by words"),
        ("topics", "Topics with story counts"),
        ("subscribe", "Get new stories on a topic or keyword"),
        ("unsubscribe", "Stop a subscription"),
        ("subscriptions", "What you follow"),
        ("settings", "Delivery, quiet hours, language, time zone"),
        ("read", "Read a story by id"),
        ("digest", "Instant, hourly or a daily digest"),
        ("quiet", "Quiet hours"),
        ("timezone", "Your time zone"),
        ("language", "Language: en, zh, ms, ta"),
        ("mute", "Never get stories about a word or topic"),
        ("unmute", "Undo a mute"),
        ("help", "What I can do"),
    ]


def test_every_registered_command_has_exactly_one_handler() -> None:
    handlers = [h for h in all_handlers(frozenset({ADMIN}))[0] if isinstance(h, CommandHandler)]
    names = [name for h in handlers for name in h.commands]
    assert sorted(names) == sorted(c.name for c in commands.registry())


@pytest.mark.parametrize("text", ["/retry abc", "/latest", "/subscribe food", "hello"])
def test_an_edited_message_runs_nothing(text: str) -> None:
    # Editing an old "/retry x" must not retry again; a new message still does.
    assert claiming(update("edited_message", text)) == []
    assert claiming(update("message", text))  # the first of these takes it


def test_admin_commands_fall_through_for_readers() -> None:
    taken = claiming(update("message", "/retry abc", user=1001))
    assert [h.callback.__name__ for h in taken] == ["unknown_command"]


@pytest.mark.parametrize(
    "data",
    [
        OpenArticle("abc").encode(),
        ArticlePage("abc", 3).encode(),
        BackToCard("abc").encode(),
        NoOp().encode(),
        Unsubscribe("food").encode(),
        "s:food",
    ],
)
def test_each_button_kind_reaches_one_feature_handler(data: str) -> None:
    query = {
        "id": "1",
        "from": {"id": 1001, "is_bot": False, "first_name": "R"},
        "chat_instance": "1",
        "data": data,
    }
    upd = Update.de_json({"update_id": 2, "callback_query": query}, BOT)
    taken = claiming(upd)
    assert len(taken) == 2 and taken[-1].callback is stale_button  # the fallback comes last
    assert isinstance(taken[0], CallbackQueryHandler)
    assert sum(kind.matches(data) for kind in ALL_BUTTONS) == 1


def test_unknown_data_reaches_only_the_stale_button_answer() -> None:
    query = {
        "id": "1",
        "from": {"id": 1001, "is_bot": False, "first_name": "R"},
        "chat_instance": "1",
        "data": "p:abc:²",
    }
    upd = Update.de_json({"update_id": 3, "callback_query": query}, BOT)
    assert [h.callback for h in claiming(upd)] == [stale_button]
