"""Readers' links: a link to one of the outlet's stories gets its card; others one line."""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import NEW_MESSAGES, reply
from content.sources.links import LinkKind, first_link, open_link, outlet_domains
from content.visibility import is_visible

_ANSWERS = {
    LinkKind.BLOCKED: rendering.link_blocked,
    LinkKind.UNREACHABLE: rendering.link_unreachable,
    LinkKind.NOT_AN_ARTICLE: rendering.link_not_an_article,
}


async def on_link(update: Update, context: NewswireContext) -> None:
    message, services = update.effective_message, context.services
    url = first_link(message.text or "") if message is not None else None
    if url is None or services.fetcher is None:
        await reply(update, rendering.hint())
        return
    sources = [source.url for source in await services.repo.sources.all()]
    domains = outlet_domains(services.site_domains, sources)
    now = services.clock()
    outcome = await open_link(
        services.repo,
        url,
        domains=domains,
        fetcher=services.fetcher,
        now=now,
        summarizer=services.summarizer,
        default_tz=services.zone,
    )
    if outcome.kind is LinkKind.OTHER_SITE:
        await reply(update, rendering.link_other_site(domains))
    elif outcome.article is not None and is_visible(outcome.article, now=now):
        await reply(update, rendering.article_card(outcome.article, zone=context.reader.zone))
    elif outcome.article is not None:
        await reply(update, rendering.link_not_an_article())  # embargoed: not there yet
    else:
        await reply(update, _ANSWERS[outcome.kind]())


# Private chats only: in a group, links are the members' conversation, not requests.
HANDLERS = [
    MessageHandler(
        NEW_MESSAGES
        & filters.ChatType.PRIVATE
        & ~filters.COMMAND
        & filters.Regex(r"(?i)https?://\S"),
        on_link,
    )
]
