"""Inline keyboards: every button's data is built by its typed class in bot/callbacks.py."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    ArticlePage,
    BackToCard,
    NoOp,
    OpenArticle,
    SubscribeTopic,
    Unsubscribe,
)
from bot.rendering.i18n import _
from bot.rendering.text import shorten
from content.models import Article, Subscription


def keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """A keyboard of the non-empty rows, or None when there is nothing to press."""
    rows = [list(r) for r in rows if r]
    return InlineKeyboardMarkup(rows) if rows else None


def deep_link(bot_username: str, article_id: str) -> str:
    return f"https://t.me/{bot_username}?start=a_{article_id}"


def _site(article: Article) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(_("🌐 Open on site"), url=article.url)] if article.url else []


def card_keyboard(article: Article) -> InlineKeyboardMarkup | None:
    """Under a card: read the full text here, or open the site."""
    read = InlineKeyboardButton(
        _("📖 Read full article"), callback_data=ArticlePage(article.id, 0).encode()
    )
    return keyboard([[read, *_site(article)]])


def channel_keyboard(article: Article, *, bot_username: str) -> InlineKeyboardMarkup | None:
    """Under a channel post: a deep link into the bot, and the site."""
    into_bot = InlineKeyboardButton(
        _("📖 Read in the bot"), url=deep_link(bot_username, article.id)
    )
    return keyboard([[into_bot, *_site(article)]])


def page_keyboard(article: Article, page: int, total: int) -> InlineKeyboardMarkup | None:
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        data = ArticlePage(article.id, page - 1).encode()
        nav.append(InlineKeyboardButton(_("‹ Previous"), callback_data=data))
    if total > 1:
        nav.append(InlineKeyboardButton(f"{page + 1}/{total}", callback_data=NoOp().encode()))
    if page < total - 1:
        data = ArticlePage(article.id, page + 1).encode()
        nav.append(InlineKeyboardButton(_("Next ›"), callback_data=data))
    back = InlineKeyboardButton(_("↩ Summary"), callback_data=BackToCard(article.id).encode())
    return keyboard([nav, [back, *_site(article)]])


def list_keyboard(items: Sequence[Article]) -> InlineKeyboardMarkup | None:
    """One button per listed story, numbered like the list."""
    return keyboard(
        [
            [
                InlineKeyboardButton(
                    f"{number}. {shorten(article.title, 40)}",
                    callback_data=OpenArticle(article.id).encode(),
                )
            ]
            for number, article in enumerate(items, start=1)
        ]
    )


def topics_keyboard(topics: Sequence[str]) -> InlineKeyboardMarkup | None:
    """A ➕ button per topic, two a row (a topic too long for callback data gets none)."""
    buttons = [
        InlineKeyboardButton(
            _("➕ {topic}").format(topic=topic), callback_data=SubscribeTopic(topic).encode()
        )
        for topic in topics
        if SubscribeTopic(topic).fits()
    ]
    return keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def subscriptions_keyboard(subs: Sequence[Subscription]) -> InlineKeyboardMarkup | None:
    """A ✖ button per subscription whose value fits in callback data."""
    return keyboard(
        [
            [
                InlineKeyboardButton(
                    _("✖ Stop {value}").format(value=shorten(sub.value, 30)),
                    callback_data=Unsubscribe(sub.value).encode(),
                )
            ]
            for sub in subs
            if Unsubscribe(sub.value).fits()
        ]
    )
