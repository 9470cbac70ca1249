"""End to end: a reader's "New story" alert is in their language and time zone."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.rendering import _, i18n, plain_text
from bot.rendering.text import format_time
from content.models import Article
from tests.support.articles import NEW_ARTICLE, write
from tests.support.reader import READER, say
from tests.support.stack import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ENGLISH_READER = 2002
TITLE = "Bus captain praised for returning lost wallet in Bedok"


def _written(language: str, message: str) -> str:
    with i18n.using(i18n.translations_for(language)):
        return plain_text(_(message))


def _time(language: str, article: Article, zone: str) -> str:
    with i18n.using(i18n.translations_for(language)):
        return format_time(article.published, ZoneInfo(zone))


async def _alert(stack: Stack, user: int) -> dict[str, Any]:
    alerts = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(user) if TITLE in m["text"]],
        what=f"the alert to {user}",
    )
    return alerts[0]  # type: ignore[no-any-return]


async def test_each_reader_gets_the_alert_in_their_language_and_zone(
    stack: Stack, content_dir: Path
) -> None:
    await say(stack, "/language zh")
    await say(stack, "/timezone Europe/London")
    await say(stack, "/subscribe transport")
    await say(stack, "/subscribe transport", user=ENGLISH_READER)
    write(content_dir, "bus.txt", NEW_ARTICLE)

    chinese, english = await _alert(stack, READER), await _alert(stack, ENGLISH_READER)
    latest = await stack.newswire.repo.articles.latest(
        limit=10, now=stack.newswire.services.clock()
    )
    [article] = [a for a in latest if a.title == TITLE]
    assert article.published is not None
    outlet = stack.settings.timezone
    assert _time("zh", article, "Europe/London") != _time("zh", article, outlet)  # zones differ
    head = _written("zh", "🔔 New story")
    assert head != "🔔 New story" and chinese["text"].startswith(head)
    london = _time("zh", article, "Europe/London")
    assert london in chinese["text"], chinese["text"]
    assert _time("zh", article, outlet) not in chinese["text"]
    assert english["text"].startswith("🔔 New story")
    assert _time("en", article, outlet) in english["text"], english["text"]
