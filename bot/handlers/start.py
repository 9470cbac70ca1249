"""/start (onboarding, deep links to a story or a topic), its topic toggles, and /help."""

from __future__ import annotations

import re

from telegram import Update

from bot import commands, rendering
from bot.callbacks import OnboardingDone, ToggleTopic
from bot.context import NewswireContext
from bot.handlers.articles import show_article
from bot.handlers.common import edit, on_button, remember_reader, reply
from bot.rendering import Rendered
from bot.rendering import settings as views
from content.models import ARTICLE_ID_PATTERN, SubscriptionKind, chat_id_of
from content.preferences import MAX_SUBSCRIPTIONS
from content.storage.readers import Followed
from content.topics import TOPICS

_DEEP_LINK = re.compile(rf"a_({ARTICLE_ID_PATTERN})")
# The site's "Follow on Telegram" buttons: t.me/<bot>?start=t_<topic slug>.
_TOPIC_LINK = re.compile(r"t_([a-z0-9-]{1,60})")


async def start(update: Update, context: NewswireContext) -> None:
    await remember_reader(update, context)
    payload = context.args[0] if context.args else ""
    if match := _DEEP_LINK.fullmatch(payload):
        await show_article(update, context, match.group(1))
        return
    topic_link = _TOPIC_LINK.fullmatch(payload)
    if topic_link and await _follow_from_link(update, context, topic_link.group(1)):
        return
    chat = update.effective_chat
    # A reader who follows nothing yet picks topics right here, under the welcome.
    onboarding = (
        chat is not None
        and chat.type == "private"
        and await context.services.repo.readers.subscription_count(chat_id_of(chat.id)) == 0
    )
    await reply(update, await _welcome(update, context, onboarding=onboarding))


async def _welcome(
    update: Update,
    context: NewswireContext,
    *,
    onboarding: bool,
    followed: frozenset[str] = frozenset(),
) -> Rendered:
    """The welcome; while onboarding, with the topic toggles (✓ on `followed`) and Done."""
    services = context.services
    count = await services.repo.articles.count(now=services.clock())
    user = update.effective_user
    welcome = rendering.welcome(
        first_name=user.first_name if user else None,
        article_count=count,
        commands=commands.reader_commands(),
    )
    if not onboarding:
        return welcome
    topics = await _onboarding_topics(context)
    shown = topics + sorted(followed - set(topics))  # a ✓ never disappears from under a finger
    if not shown:
        return welcome
    return Rendered(
        welcome.html + "\n\n" + views.onboarding_prompt(),
        views.onboarding_keyboard(shown, followed),
    )


async def _follow_from_link(update: Update, context: NewswireContext, slug: str) -> bool:
    """Subscribe to a topic from a deep link; False when no such topic (the welcome instead)."""
    chat = update.effective_chat
    repo = context.services.repo
    if chat is None or not (slug in TOPICS or await repo.articles.known_topic(slug)):
        return False
    outcome = await repo.readers.follow(
        chat_id=chat_id_of(chat.id),
        kind=SubscriptionKind.TOPIC,
        value=slug,
        now=context.services.clock(),
        limit=MAX_SUBSCRIPTIONS,
    )
    if outcome is Followed.FULL:
        await reply(update, rendering.too_many_subscriptions(MAX_SUBSCRIPTIONS))
    else:
        await reply(update, views.deep_subscribed(slug, created=outcome is Followed.ADDED))
    return True


async def _onboarding_topics(context: NewswireContext) -> list[str]:
    """The most-written topics, most first."""
    services = context.services
    counts = await services.repo.articles.topic_counts(now=services.clock())
    ranked = sorted(counts, key=lambda c: (-c.count, c.topic))
    return [c.topic for c in ranked[: views.ONBOARDING_TOPICS]]


async def _followed_topics(update: Update, context: NewswireContext) -> list[str]:
    assert update.effective_chat is not None
    subs = await context.services.repo.readers.subscriptions_of(
        chat_id_of(update.effective_chat.id)
    )
    return [s.value for s in subs if s.kind is SubscriptionKind.TOPIC]


async def _redraw(update: Update, context: NewswireContext, *, onboarding: bool) -> None:
    """The welcome again in the same message: toggles follow the subscriptions, or go."""
    query = update.callback_query
    assert query is not None
    followed = frozenset(await _followed_topics(update, context))
    await edit(query, await _welcome(update, context, onboarding=onboarding, followed=followed))


async def on_toggle_topic(update: Update, context: NewswireContext, data: ToggleTopic) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    repo = context.services.repo
    chat_id = chat_id_of(update.effective_chat.id)
    slug = data.topic
    if not (slug in TOPICS or await repo.articles.known_topic(slug)):
        await query.answer(rendering.answer_expired())
        return
    await remember_reader(update, context)
    if await repo.readers.unsubscribe(chat_id=chat_id, value=slug):
        await query.answer(rendering.answer_unsubscribed(slug, removed=True))
    else:
        outcome = await repo.readers.follow(
            chat_id=chat_id,
            kind=SubscriptionKind.TOPIC,
            value=slug,
            now=context.services.clock(),
            limit=MAX_SUBSCRIPTIONS,
        )
        if outcome is Followed.FULL:
            await query.answer(rendering.answer_too_many(MAX_SUBSCRIPTIONS), show_alert=True)
            return
        await query.answer(rendering.answer_subscribed(slug, created=True))
    await _redraw(update, context, onboarding=True)


async def on_onboarding_done(
    update: Update, context: NewswireContext, data: OnboardingDone
) -> None:
    """Done: the toggles go, and a short line says what /settings is for."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    await _redraw(update, context, onboarding=False)
    await reply(update, views.onboarding_done(await _followed_topics(update, context)))


async def help_command(update: Update, context: NewswireContext) -> None:
    await reply(update, rendering.help_message(commands.reader_commands()))


BUTTONS = [
    on_button(ToggleTopic, on_toggle_topic),
    on_button(OnboardingDone, on_onboarding_done),
]
