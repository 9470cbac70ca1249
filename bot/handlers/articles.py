"""Reading: /latest, /read, and the buttons that page through an article."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, edit, reply
from content.models import Article

LATEST_DEFAULT = 5
LATEST_MAX = 20
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


async def latest(update: Update, context: NewswireContext) -> None:
    raw = argument_text(context)
    if raw and not raw.isdigit():
        await reply(update, rendering.notice(f"Usage: /latest [n], n from 1 to {LATEST_MAX}."))
        return
    count = min(max(int(raw), 1), LATEST_MAX) if raw else LATEST_DEFAULT
    services = context.services
    items = await services.repo.latest(limit=count, now=services.clock())
    await reply(update, rendering.latest(items, zone=services.zone))


async def show_article(update: Update, context: NewswireContext, article_id: str) -> None:
    """Reply with an article's card, or say it is not there."""
    services = context.services
    article = await services.repo.get_article(article_id) if _ID.match(article_id) else None
    if article is None or (article.publish_at and article.publish_at > services.clock()):
        await reply(update, rendering.notice(f"No article with id {article_id[:40]}. Try /latest."))
        return
    await reply(update, rendering.article_card(article, zone=services.zone))


async def read(update: Update, context: NewswireContext) -> None:
    article_id = argument_text(context)
    if not article_id:
        await reply(
            update, rendering.notice("Usage: /read <id> (ids are shown by /latest and /search).")
        )
        return
    await show_article(update, context, article_id.split()[0])


async def _pressed_article(update: Update, context: NewswireContext) -> Article | None:
    """The article a button names (data "<prefix>:<id>[:...]"); answers the press."""
    query = update.callback_query
    assert query is not None and query.data is not None
    article = await context.services.repo.get_article(query.data.split(":")[1])
    if article is None:
        await query.answer("That article is no longer available.", show_alert=True)
    else:
        await query.answer()
    return article


async def on_open_button(update: Update, context: NewswireContext) -> None:
    """o:<id> under a list: send the article's card below the list, keeping the list."""
    if article := await _pressed_article(update, context):
        await reply(update, rendering.article_card(article, zone=context.services.zone))


async def on_card_button(update: Update, context: NewswireContext) -> None:
    """r:<id> under a page: turn the page back into the article's card."""
    query = update.callback_query
    if query is not None and (article := await _pressed_article(update, context)):
        await edit(query, rendering.article_card(article, zone=context.services.zone))


async def on_page_button(update: Update, context: NewswireContext) -> None:
    """p:<id>:<n>: page n of the full article, edited in place."""
    query = update.callback_query
    if query is None or not (article := await _pressed_article(update, context)):
        return
    raw_page = (query.data or "").rsplit(":", 1)[-1]
    pages = rendering.article_pages(article, zone=context.services.zone)
    page = min(max(int(raw_page), 0), len(pages) - 1) if raw_page.isdigit() else 0
    keyboard = rendering.page_keyboard(article, page, len(pages))
    await edit(query, rendering.Rendered(pages[page], keyboard))


async def on_noop_button(update: Update, context: NewswireContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


HANDLERS = [
    CommandHandler("latest", latest),
    CommandHandler("read", read),
    CallbackQueryHandler(on_open_button, pattern=r"^o:"),
    CallbackQueryHandler(on_card_button, pattern=r"^r:"),
    CallbackQueryHandler(on_page_button, pattern=r"^p:"),
    CallbackQueryHandler(on_noop_button, pattern=r"^noop$"),
]
