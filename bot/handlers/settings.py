"""/settings (one message, edited in place by its buttons), /digest, /timezone, /quiet, /language,
/mute and /unmute."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from telegram import Update

from bot.callbacks import SetBreaking, SetDigest, SetLanguage, SetQuiet
from bot.context import NewswireContext, Reader
from bot.handlers.common import argument_text, edit, on_button, remember_reader, reply
from bot.rendering import i18n
from bot.rendering import settings as views
from bot.rendering.text import Rendered
from content.models import ChatId, chat_id_of
from content.preferences import (
    MAX_MUTES,
    MAX_TERM_CHARS,
    DigestMode,
    QuietHours,
    ReaderSettings,
    SettingError,
    normalize_term,
    parse_clock,
    parse_digest,
    parse_language,
    parse_quiet,
    parse_zone,
    zone_of,
)
from content.storage.readers import Followed


def _chat(update: Update) -> ChatId:
    chat = update.effective_chat
    assert chat is not None  # commands and buttons always come from a chat
    return chat_id_of(chat.id)


async def _save(
    update: Update, context: NewswireContext, change: Callable[[ReaderSettings], ReaderSettings]
) -> Reader:
    """Apply `change` to the stored settings; the update renders in the result from here on."""
    await remember_reader(update, context)
    services = context.services
    chat_id = _chat(update)
    current = await services.repo.readers.settings_of(
        chat_id, default_language=context.reader.language
    )
    settings = change(current)
    await services.repo.readers.update_settings(
        chat_id=chat_id, settings=settings, now=services.clock()
    )
    context.reader = Reader(
        settings=settings,
        zone=zone_of(settings.timezone, services.zone),
        language=settings.language,
    )
    i18n.activate(i18n.translations_for(settings.language))
    return context.reader


async def _view(update: Update, context: NewswireContext) -> Rendered:
    readers = context.services.repo.readers
    chat_id = _chat(update)
    reader = context.reader
    return views.settings_view(
        reader.settings,
        zone=reader.zone,
        now=context.services.clock(),
        subscriptions=await readers.subscription_count(chat_id),
        mutes=len(await readers.mutes_of(chat_id)),
    )


async def show_settings(update: Update, context: NewswireContext) -> None:
    await reply(update, await _view(update, context))


async def digest(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    usage = views.usage_digest(context.reader.settings)
    if not text:
        await reply(update, usage)
        return
    try:
        mode, at = parse_digest(text)
    except SettingError:
        await reply(update, views.bad_setting(usage))
        return
    reader = await _save(
        update, context, lambda s: dataclasses.replace(s, digest=mode, digest_at=at or s.digest_at)
    )
    await reply(update, views.digest_set(reader.settings, zone=reader.zone, now=_now(context)))


async def timezone(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    reader = context.reader
    usage = views.usage_timezone(views.zone_label(reader.settings, reader.zone))
    if not text:
        await reply(update, usage)
        return
    try:
        name = parse_zone(text)
    except SettingError:
        await reply(update, views.bad_setting(usage))
        return
    reader = await _save(update, context, lambda s: dataclasses.replace(s, timezone=name))
    await reply(update, views.timezone_set(name, zone=reader.zone, now=_now(context)))


async def quiet(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    usage = views.usage_quiet(context.reader.settings.quiet)
    if not text:
        await reply(update, usage)
        return
    try:
        hours = parse_quiet(text)
    except SettingError:
        await reply(update, views.bad_setting(usage))
        return
    reader = await _save(update, context, lambda s: dataclasses.replace(s, quiet=hours))
    await reply(update, views.quiet_set(hours, breaking=reader.settings.breaking_in_quiet))


async def language(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    usage = views.usage_language(context.reader.language)
    if not text:
        await reply(update, usage)
        return
    try:
        chosen = parse_language(text)
    except SettingError:
        await reply(update, views.bad_setting(usage))
        return
    await _save(update, context, lambda s: dataclasses.replace(s, language=chosen))
    await reply(update, views.language_set(chosen))  # in the new language already


async def mute(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    readers = context.services.repo.readers
    chat_id = _chat(update)
    if not text:
        await reply(update, views.mute_list(await readers.mutes_of(chat_id)))
        return
    value = normalize_term(text.strip('"“”'))
    if len(value) > MAX_TERM_CHARS:
        await reply(update, views.term_too_long(MAX_TERM_CHARS))
        return
    await remember_reader(update, context)
    outcome = await readers.mute(chat_id=chat_id, value=value, now=context.services.clock())
    if outcome is Followed.FULL:
        await reply(update, views.too_many_mutes(MAX_MUTES))
        return
    await reply(update, views.muted(value, created=outcome is Followed.ADDED))


async def unmute(update: Update, context: NewswireContext) -> None:
    text = argument_text(context)
    if not text:
        await reply(update, views.usage_unmute())
        return
    value = normalize_term(text.strip('"“”'))
    removed = await context.services.repo.readers.unmute(chat_id=_chat(update), value=value)
    await reply(update, views.unmuted(value, removed=removed))


def _now(context: NewswireContext) -> datetime:
    return context.services.clock()


# -- buttons under /settings: change one thing, then edit the same message -------------------


async def _apply(
    update: Update, context: NewswireContext, change: Callable[[ReaderSettings], ReaderSettings]
) -> None:
    query = update.callback_query
    assert query is not None
    await _save(update, context, change)
    await query.answer(views.answer_saved())
    await edit(query, await _view(update, context))


async def on_digest(update: Update, context: NewswireContext, data: SetDigest) -> None:
    mode = DigestMode(data.mode)
    at = parse_clock(data.at) if data.at else None
    await _apply(
        update, context, lambda s: dataclasses.replace(s, digest=mode, digest_at=at or s.digest_at)
    )


async def on_quiet(update: Update, context: NewswireContext, data: SetQuiet) -> None:
    hours = QuietHours(parse_clock(data.start), parse_clock(data.end)) if data.start else None
    await _apply(update, context, lambda s: dataclasses.replace(s, quiet=hours))


async def on_breaking(update: Update, context: NewswireContext, data: SetBreaking) -> None:
    await _apply(update, context, lambda s: dataclasses.replace(s, breaking_in_quiet=data.on))


async def on_language(update: Update, context: NewswireContext, data: SetLanguage) -> None:
    await _apply(update, context, lambda s: dataclasses.replace(s, language=data.language))


BUTTONS = [
    on_button(SetDigest, on_digest),
    on_button(SetQuiet, on_quiet),
    on_button(SetBreaking, on_breaking),
    on_button(SetLanguage, on_language),
]
