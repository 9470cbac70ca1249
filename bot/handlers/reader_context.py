"""Who is asking: load the reader's settings once per update, for handlers and rendering."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.context import NewswireContext, Reader
from bot.rendering import i18n
from content.models import chat_id_of
from content.preferences import DEFAULT_LANGUAGE, ReaderSettings, language_from_code, zone_of


async def load_reader(update: Update, context: NewswireContext) -> None:
    """Set `context.reader` and the update's language from the stored settings."""
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    # A new reader speaks their Telegram language until they choose one.
    spoken = language_from_code(user.language_code if user else None) or DEFAULT_LANGUAGE
    # A private reader's chat is their id; a group's settings are the group's. Inline queries
    # have no chat: the user's own settings apply.
    owner = chat.id if chat is not None else user.id if user is not None else None
    if owner is None:
        context.reader = Reader(settings=ReaderSettings(), zone=services.zone, language=spoken)
    else:
        settings = await services.repo.readers.settings_of(
            chat_id_of(owner), default_language=spoken
        )
        context.reader = Reader(
            settings=settings,
            zone=zone_of(settings.timezone, services.zone),
            language=settings.language,
        )
    # concurrent_updates: each update runs in its own task, so this holds for its handlers only.
    i18n.activate(i18n.translations_for(context.reader.language))


def reader_context_handler() -> TypeHandler[Update, NewswireContext, None]:
    """Runs in group -1 after the throttle, before every feature handler."""
    return TypeHandler(Update, load_reader)
