"""End to end: a reader whose Telegram speaks zh, ms or ta is answered in it; menus per language."""

from __future__ import annotations

import json
import re

import pytest

from bot import commands
from bot.rendering import _, i18n, plain_text
from content.preferences import LANGUAGES
from tests.support.reader import say
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

TRANSLATED = [language for language in LANGUAGES if language != "en"]
DEFAULT_SCOPE = json.dumps({"type": "default"}, sort_keys=True)


def _in(language: str, message: str) -> str:
    """`message` as the reader sees it in `language` (plain text, as the sandbox stores it)."""
    with i18n.using(i18n.translations_for(language)):
        return plain_text(_(message))


@pytest.mark.parametrize(("code", "language"), [("zh-hans", "zh"), ("ms", "ms"), ("ta-IN", "ta")])
async def test_help_and_start_speak_the_readers_telegram_language(
    stack: Stack, code: str, language: str
) -> None:
    reader = 5100 + TRANSLATED.index(language)
    stack.sandbox.add_user(reader, "Reader", language_code=code)
    heading = _in(language, "<b>What I can do</b>")
    assert heading != "What I can do"
    help_text = (await say(stack, "/help", user=reader))["text"]
    assert help_text.startswith(heading) and "/search" in help_text
    assert _in(language, "stories that mention them, best first") in help_text
    assert "What I can do" not in help_text
    start = (await say(stack, "/start", user=reader))["text"]
    greeting = _in(
        language, "👋 Hello, {name}! I bring you the newsroom's articles, right here in Telegram."
    ).format(name="Reader")
    assert greeting in start and "Hello" not in start
    settings = (await say(stack, "/settings", user=reader))["text"]
    assert settings.startswith(_in(language, "⚙️ <b>Your settings</b>")), settings
    assert "Quiet hours" not in settings and "Time zone" not in settings


async def test_an_english_or_unknown_telegram_language_gets_english(stack: Stack) -> None:
    stack.sandbox.add_user(5200, "Reader", language_code="de")
    assert (await say(stack, "/help", user=5200))["text"].startswith("What I can do")


async def test_dates_in_lists_are_written_the_readers_way(stack: Stack) -> None:
    stack.sandbox.add_user(5300, "Reader", language_code="zh")
    latest = (await say(stack, "/latest", user=5300))["text"]
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", latest), latest
    assert not re.search(r"\b(AM|PM)\b", latest)


async def test_the_command_menu_is_set_once_per_language_and_translated(stack: Stack) -> None:
    sandbox = stack.sandbox
    keys = {f"{DEFAULT_SCOPE}|{code}" for code in ("", *LANGUAGES)}
    assert dict(sandbox.command_sets) == dict.fromkeys(keys, 1)
    english = sandbox.commands_for(None)
    assert [c["description"] for c in english] == [d for _, d in commands.menu()]
    for language in TRANSLATED:
        menu = sandbox.commands_for(language)
        assert [c["command"] for c in menu] == [c["command"] for c in english]
        for item, original in zip(menu, english, strict=True):
            assert item["description"] == _in(language, original["description"])
            assert item["description"] != original["description"]
    # A Telegram language the bot has no menu for falls back to the default (English).
    assert sandbox.commands_for("de") == english
