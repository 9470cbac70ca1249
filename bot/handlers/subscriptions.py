"""/topics, /subscribe, /unsubscribe, /subscriptions and their buttons."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import Update

from bot import rendering
from bot.callbacks import SubscribeTopic, Unsubscribe
from bot.context import NewswireContext
from bot.handlers.common import argument_text, edit, on_button, remember_reader, reply
from bot.rendering import settings as views
from content.models import SubscriptionKind, chat_id_of
from content.preferences import (
    MAX_EXCLUDES,
    MAX_SUBSCRIPTIONS,
    MAX_TERM_CHARS,
    SettingError,
    parse_subscribe,
)
from content.storage.readers import Followed
from content.topics import TOPICS, normalise_topic


async def topics(update: Update, context: NewswireContext) -> None:
    services = context.services
    await reply(
        update, rendering.topics(await services.repo.articles.topic_counts(now=services.clock()))
    )


def _forms(text: str) -> tuple[str, str]:
    """What the reader typed, as a topic slug and as a keyword."""
    return normalise_topic(text.lstrip("#")), " ".join(text.lower().split())


async def _classify(context: NewswireContext, text: str) -> tuple[SubscriptionKind, str] | None:
    """A known topic (taxonomy or seen on an article) by its slug, else a keyword."""
    slug, keyword = _forms(text)
    if slug and (slug in TOPICS or await context.services.repo.articles.known_topic(slug)):
        return SubscriptionKind.TOPIC, slug
    if not re.search(r"\w", keyword) or len(keyword) > MAX_TERM_CHARS:
        return None
    return SubscriptionKind.KEYWORD, keyword


async def _follow(
    update: Update,
    context: NewswireContext,
    kind: SubscriptionKind,
    value: str,
    excludes: Sequence[str] = (),
) -> Followed:
    """Subscribe the reader, within the per-reader limit (new exclusions replace old ones)."""
    chat = update.effective_chat
    assert chat is not None
    await remember_reader(update, context)
    return await context.services.repo.readers.follow(
        chat_id=chat_id_of(chat.id),
        kind=kind,
        value=value,
        excludes=excludes,
        now=context.services.clock(),
        limit=MAX_SUBSCRIPTIONS,
    )


async def subscribe(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    if not text:
        await reply(update, rendering.usage_subscribe())
        return
    try:
        request = parse_subscribe(text)
    except SettingError as exc:
        many = str(exc) == "too many exclusions"
        failure = views.too_many_excludes(MAX_EXCLUDES) if many else None
        await reply(update, failure or rendering.bad_keyword(MAX_TERM_CHARS))
        return
    classified = await _classify(context, request.term)
    if classified is None:
        await reply(update, rendering.bad_keyword(MAX_TERM_CHARS))
        return
    kind, value = classified
    outcome = await _follow(update, context, kind, value, request.excludes)
    if outcome is Followed.FULL:
        await reply(update, rendering.too_many_subscriptions(MAX_SUBSCRIPTIONS))
        return
    answer = rendering.subscribed(kind, value, created=outcome is not Followed.ALREADY)
    if request.excludes:
        answer = rendering.Rendered(answer.html + "\n" + views.excluding(request.excludes))
    await reply(update, answer)


async def unsubscribe(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    if not text:
        await reply(update, rendering.usage_unsubscribe())
        return
    chat = update.effective_chat
    assert chat is not None
    repo = context.services.repo
    removed = False
    for value in dict.fromkeys(_forms(text)):
        removed = (
            await repo.readers.unsubscribe(chat_id=chat_id_of(chat.id), value=value) or removed
        )
    await reply(update, rendering.unsubscribed(text, removed=removed))


async def subscriptions(update: Update, context: NewswireContext) -> None:
    chat = update.effective_chat
    assert chat is not None
    subs = await context.services.repo.readers.subscriptions_of(chat_id_of(chat.id))
    await reply(update, rendering.subscription_list(subs))


async def on_subscribe_button(
    update: Update, context: NewswireContext, data: SubscribeTopic
) -> None:
    """Under /topics: checked like /subscribe, and only a known topic is accepted."""
    query = update.callback_query
    assert query is not None
    classified = await _classify(context, data.topic)
    if classified is None or classified[0] is not SubscriptionKind.TOPIC:
        await query.answer(rendering.answer_expired())
        return
    topic = classified[1]
    outcome = await _follow(update, context, SubscriptionKind.TOPIC, topic)
    if outcome is Followed.FULL:
        await query.answer(rendering.answer_too_many(MAX_SUBSCRIPTIONS), show_alert=True)
        return
    await query.answer(rendering.answer_subscribed(topic, created=outcome is Followed.ADDED))


async def on_unsubscribe_button(
    update: Update, context: NewswireContext, data: Unsubscribe
) -> None:
    """Under /subscriptions: remove it and refresh the list."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    chat_id = chat_id_of(update.effective_chat.id)
    repo = context.services.repo
    removed = await repo.readers.unsubscribe(chat_id=chat_id, value=data.value)
    await query.answer(rendering.answer_unsubscribed(data.value, removed=removed))
    await edit(query, rendering.subscription_list(await repo.readers.subscriptions_of(chat_id)))


BUTTONS = [
    on_button(SubscribeTopic, on_subscribe_button),
    on_button(Unsubscribe, on_unsubscribe_button),
]
