"""/topics, /subscribe, /unsubscribe, /subscriptions and their buttons."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, edit, remember_reader, reply
from content.models import SubscriptionKind
from content.topics import TOPICS, normalise_topic

MAX_KEYWORD = 48  # keeps "u:<value>" callback data within Telegram's 64 bytes


async def topics(update: Update, context: NewswireContext) -> None:
    services = context.services
    await reply(update, rendering.topics(await services.repo.topic_counts(now=services.clock())))


def _forms(text: str) -> tuple[str, str]:
    """What the reader typed, as a topic slug and as a keyword."""
    return normalise_topic(text.lstrip("#")), " ".join(text.lower().split())


async def _classify(context: NewswireContext, text: str) -> tuple[SubscriptionKind, str] | None:
    """A known topic (taxonomy or seen on an article) by its slug, else a keyword."""
    slug, keyword = _forms(text)
    if slug and (slug in TOPICS or await context.services.repo.known_topic(slug)):
        return SubscriptionKind.TOPIC, slug
    if not re.search(r"\w", keyword) or len(keyword) > MAX_KEYWORD:
        return None
    return SubscriptionKind.KEYWORD, keyword


async def subscribe(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    if not text:
        await reply(update, rendering.notice("Usage: /subscribe <topic or keyword>. See /topics."))
        return
    classified = await _classify(context, text)
    if classified is None:
        await reply(
            update,
            rendering.notice(
                f"A keyword needs a letter or digit and at most {MAX_KEYWORD} characters."
            ),
        )
        return
    await remember_reader(update, context)
    kind, value = classified
    chat = update.effective_chat
    assert chat is not None
    created = await context.services.repo.subscribe(
        chat_id=chat.id, kind=kind, value=value, now=context.services.clock()
    )
    await reply(update, rendering.subscribed(kind, value, created=created))


async def unsubscribe(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    if not text:
        await reply(
            update, rendering.notice("Usage: /unsubscribe <topic or keyword>. See /subscriptions.")
        )
        return
    chat = update.effective_chat
    assert chat is not None
    repo = context.services.repo
    removed = False
    for value in dict.fromkeys(_forms(text)):
        removed = await repo.unsubscribe(chat_id=chat.id, value=value) or removed
    await reply(update, rendering.unsubscribed(text, removed=removed))


async def subscriptions(update: Update, context: NewswireContext) -> None:
    chat = update.effective_chat
    assert chat is not None
    subs = await context.services.repo.subscriptions_of(chat.id)
    await reply(update, rendering.subscription_list(subs))


async def on_subscribe_button(update: Update, context: NewswireContext) -> None:
    """s:<topic> under /topics."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    topic = query.data.split(":", 1)[1]
    await remember_reader(update, context)
    created = await context.services.repo.subscribe(
        chat_id=update.effective_chat.id,
        kind=SubscriptionKind.TOPIC,
        value=topic,
        now=context.services.clock(),
    )
    await query.answer(f"Subscribed to {topic}" if created else f"You already follow {topic}")


async def on_unsubscribe_button(update: Update, context: NewswireContext) -> None:
    """u:<value> under /subscriptions: remove it and refresh the list."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    chat_id = update.effective_chat.id
    repo = context.services.repo
    value = query.data.split(":", 1)[1]
    removed = await repo.unsubscribe(chat_id=chat_id, value=value)
    await query.answer(f"Stopped {value}" if removed else "Already stopped")
    await edit(query, rendering.subscription_list(await repo.subscriptions_of(chat_id)))


HANDLERS = [
    CommandHandler("topics", topics),
    CommandHandler("subscribe", subscribe),
    CommandHandler("unsubscribe", unsubscribe),
    CommandHandler("subscriptions", subscriptions),
    CallbackQueryHandler(on_subscribe_button, pattern=r"^s:"),
    CallbackQueryHandler(on_unsubscribe_button, pattern=r"^u:"),
]
