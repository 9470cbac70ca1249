"""Inline mode: stories as results a reader picks from in any chat (`@bot words`)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineQueryResultArticle, InputTextMessageContent
from telegram.constants import ParseMode

from bot.rendering.cards import channel_post, web_image
from bot.rendering.text import shorten
from content.models import Article
from content.summarizing.sentences import split_sentences

TITLE_CHARS = 120
DESCRIPTION_CHARS = 100


def one_line(article: Article) -> str:
    """The summary's first sentence (else the standfirst's), on one line and shortened."""
    # The summarizer's own splitter: "Jul. 4" and "Mr. Tan" do not end a sentence.
    sentences = split_sentences(" ".join((article.summary or article.standfirst or "").split()))
    return shorten(sentences[0], DESCRIPTION_CHARS) if sentences else ""


def inline_result(article: Article, *, bot_username: str) -> InlineQueryResultArticle:
    """One story in the list; choosing it sends the channel-post card with its two buttons."""
    card = channel_post(article, bot_username=bot_username)
    return InlineQueryResultArticle(
        id=article.id,  # at most 40 characters (ARTICLE_ID_PATTERN): within Telegram's 64 bytes
        title=shorten(" ".join(article.title.split()), TITLE_CHARS),
        description=one_line(article) or None,
        thumbnail_url=web_image(article),
        input_message_content=InputTextMessageContent(card.html, parse_mode=ParseMode.HTML),
        reply_markup=card.keyboard,
    )


def inline_results(
    articles: Sequence[Article], *, bot_username: str
) -> list[InlineQueryResultArticle]:
    """A page of stories as inline results, in the given order."""
    return [inline_result(a, bot_username=bot_username) for a in articles]
