"""Reading: /latest, /read, and the buttons that page through an article."""

from __future__ import annotations

import re
from dataclasses import replace

from telegram import Update

from bot import rendering
from bot.callbacks import ArticlePage, BackToCard, NoOp, OpenArticle
from bot.context import NewswireContext
from bot.handlers.common import argument_text, edit, on_button, reply
from bot.rendering.replies import answer_withdrawn, withdrawn_story
from content.models import Article, is_article_id
from content.visibility import is_visible, is_withdrawn

LATEST_DEFAULT = 5
LATEST_MAX = 20
_COUNT = re.compile(r"[0-9]{1,6}")  # ASCII digits: "²".isdigit() is true, int("²") fails


class Withdrawn:
    """A story readers could see until its publisher took it back."""


WITHDRAWN = Withdrawn()


async def readable_article(context: NewswireContext, article_id: str) -> Article | None:
    """The story a reader asked for, or None: unknown and not-yet-visible look the same."""
    found = await look_up(context, article_id)
    return found if isinstance(found, Article) else None


async def look_up(context: NewswireContext, article_id: str) -> Article | Withdrawn | None:
    """The story a reader asked for, WITHDRAWN, or None (unknown, or not visible yet).

    Only a story readers could have seen is said to be withdrawn: one withdrawn under embargo
    or before review is unknown, like any story they may not see.
    """
    if not is_article_id(article_id):
        return None
    services = context.services
    article = await services.repo.articles.get(article_id)
    if article is None:
        return None
    now = services.clock()
    if is_withdrawn(article) and is_visible(replace(article, withdrawn_at=None), now=now):
        return WITHDRAWN
    if not is_visible(article, now=now):
        return None
    return article


async def latest(update: Update, context: NewswireContext) -> None:
    raw = argument_text(context)
    if raw and not _COUNT.fullmatch(raw):
        await reply(update, rendering.usage_latest(LATEST_MAX))
        return
    count = min(max(int(raw), 1), LATEST_MAX) if raw else LATEST_DEFAULT
    services = context.services
    items = await services.repo.articles.latest(limit=count, now=services.clock())
    await reply(update, rendering.latest(items, zone=context.reader.zone))


async def show_article(update: Update, context: NewswireContext, article_id: str) -> None:
    """Reply with an article's card, or say it is not there."""
    article = await look_up(context, article_id)
    if article is None:
        await reply(update, rendering.not_found(article_id))
        return
    if isinstance(article, Withdrawn):
        await reply(update, withdrawn_story())
        return
    await reply(update, rendering.article_card(article, zone=context.reader.zone))


async def read(update: Update, context: NewswireContext) -> None:
    article_id = argument_text(context)
    if not article_id:
        await reply(update, rendering.usage_read())
        return
    await show_article(update, context, article_id.split()[0])


async def _pressed_article(
    update: Update, context: NewswireContext, article_id: str
) -> Article | None:
    """The article a button names, if a reader may see it; answers the press."""
    query = update.callback_query
    assert query is not None
    article = await look_up(context, article_id)
    if article is None:
        await query.answer(rendering.answer_gone(), show_alert=True)
        return None
    if isinstance(article, Withdrawn):
        await query.answer(answer_withdrawn(), show_alert=True)
        return None
    await query.answer()
    return article


async def on_open_button(update: Update, context: NewswireContext, data: OpenArticle) -> None:
    """Under a list: send the article's card below the list, keeping the list."""
    if article := await _pressed_article(update, context, data.article_id):
        await reply(update, rendering.article_card(article, zone=context.reader.zone))


async def on_card_button(update: Update, context: NewswireContext, data: BackToCard) -> None:
    """Under a page: turn the page back into the article's card."""
    query = update.callback_query
    if query is not None and (article := await _pressed_article(update, context, data.article_id)):
        await edit(query, rendering.article_card(article, zone=context.reader.zone))


async def on_page_button(update: Update, context: NewswireContext, data: ArticlePage) -> None:
    """Page n of the full article, edited in place."""
    query = update.callback_query
    if query is None or not (article := await _pressed_article(update, context, data.article_id)):
        return
    pages = rendering.article_pages(article, zone=context.reader.zone)
    page = min(data.page, len(pages) - 1)
    keyboard = rendering.page_keyboard(article, page, len(pages))
    await edit(query, rendering.Rendered(pages[page], keyboard))


async def on_noop_button(update: Update, context: NewswireContext, data: NoOp) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


BUTTONS = [
    on_button(OpenArticle, on_open_button),
    on_button(BackToCard, on_card_button),
    on_button(ArticlePage, on_page_button),
    on_button(NoOp, on_noop_button),
]
