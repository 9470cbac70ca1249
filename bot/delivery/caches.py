"""The worker's memory of articles, readers and ready posts: a fan-out reads and renders once."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from telegram.constants import ParseMode

from bot.delivery.transport import NO_OPTIONS, Prepared, prepare
from bot.rendering import Rendered, i18n, plain_text
from content.models import Article, ChatId, DeliveryKind
from content.preferences import DEFAULT_LANGUAGE, ReaderSettings, zone_of
from content.routing import Effective

Renderer = Callable[[Article, DeliveryKind, tzinfo], Rendered]  # called in the voice's language
ArticleLoader = Callable[[str], Awaitable[Article | None]]
SettingsLoader = Callable[[Sequence[ChatId]], Awaitable[Mapping[ChatId, ReaderSettings]]]


@dataclass(frozen=True, slots=True)
class Voice:
    """The language and time zone a post is rendered in."""

    language: str
    zone: tzinfo

    @property
    def key(self) -> tuple[str, str]:
        """Equal for posts that render alike (readers sharing it share one payload)."""
        return self.language, str(self.zone)


class ArticleCache:
    """Articles by id, read again after `ttl` seconds (an edit reaches the remaining readers)."""

    def __init__(
        self,
        load: ArticleLoader,
        *,
        ttl: float = 2.0,
        size: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Article | None]] = OrderedDict()

    async def get(self, article_id: str, *, fresh: bool = False) -> Article | None:
        """The article (None if gone); `fresh` reads the stored version whatever the cache holds."""
        now = self._clock()
        cached = self._entries.get(article_id)
        if cached is not None and not fresh and now - cached[0] < self.ttl:
            self._entries.move_to_end(article_id)
            return cached[1]
        article = await self._load(article_id)
        self._entries[article_id] = (now, article)
        self._entries.move_to_end(article_id)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return article


class VoiceCache:
    """Each reader's voice, read for a whole claim in one query and kept `ttl` seconds."""

    def __init__(
        self,
        load: SettingsLoader,
        *,
        zone: tzinfo,
        ttl: float = 5.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.outlet = Voice(DEFAULT_LANGUAGE, zone)  # channels, and readers never configured
        self.ttl = ttl
        # Larger than what a worker holds claimed and in flight at once (see worker.py), so
        # what a claim read is still here when its sends go out.
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[ChatId, tuple[float, Voice]] = OrderedDict()

    def _fresh(self, chat_id: ChatId, now: float) -> Voice | None:
        cached = self._entries.get(chat_id)
        if cached is None or now - cached[0] >= self.ttl:
            return None
        return cached[1]

    async def prefetch(self, chat_ids: Iterable[ChatId]) -> None:
        """Read the voices of these readers not known lately, in one query."""
        now = self._clock()
        missing = list(dict.fromkeys(c for c in chat_ids if self._fresh(c, now) is None))
        if not missing:
            return
        found = await self._load(missing)
        for chat_id in missing:
            settings = found.get(chat_id)
            voice = self.outlet
            if settings is not None:
                voice = Voice(settings.language, zone_of(settings.timezone, self.outlet.zone))
                # Shared objects for equal voices: the render cache compares them often.
                if voice == self.outlet:
                    voice = self.outlet
            self._entries[chat_id] = (now, voice)
            self._entries.move_to_end(chat_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def get(self, chat_id: ChatId) -> Voice:
        """A reader's voice (the outlet's for an unknown reader)."""
        voice = self._fresh(chat_id, self._clock())
        if voice is None:
            await self.prefetch([chat_id])  # not prefetched, or kept too long: read it alone
            voice = self._entries[chat_id][1]
        return voice


class RenderCache:
    """Each version of a post rendered once per voice, serialised once per publish options."""

    def __init__(
        self, render: Renderer, *, allow_paid_broadcast: bool = False, size: int = 1024
    ) -> None:
        self._render = render
        self.allow_paid_broadcast = allow_paid_broadcast
        self.size = size
        self._entries: OrderedDict[
            tuple[str, DeliveryKind, tuple[str, str]],
            tuple[Article, Rendered, dict[Effective, Prepared]],
        ] = OrderedDict()

    def get(
        self,
        article: Article,
        kind: DeliveryKind,
        voice: Voice,
        options: Effective = NO_OPTIONS,
    ) -> tuple[Rendered, Prepared]:
        """The post of this version of the article, in this language and zone, with these options.

        A story goes to a few channels with their own options: one render, and one request
        per distinct options (not per recipient).
        """
        key = (article.id, kind, voice.key)
        entry = self._entries.get(key)
        # A new version of the article is a new object (the article cache reads it again).
        if entry is None or entry[0] is not article:
            with i18n.using(i18n.translations_for(voice.language)):
                rendered = self._render(article, kind, voice.zone)
            entry = self._entries[key] = (article, rendered, {})
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        rendered, posts = entry[1], entry[2]
        post = posts.get(options)
        if post is None:
            post = posts[options] = self.prepare(rendered, options=options)
        return rendered, post

    def prepare(
        self,
        rendered: Rendered,
        *,
        as_html: bool = True,
        photo: bool = True,
        options: Effective = NO_OPTIONS,
    ) -> Prepared:
        """The request for a rendered post: as HTML or plain text, with or without its photo."""
        return prepare(
            rendered.html if as_html else plain_text(rendered.html),
            parse_mode=ParseMode.HTML.value if as_html else None,
            keyboard=rendered.keyboard,
            photo=rendered.photo if photo else None,
            allow_paid_broadcast=self.allow_paid_broadcast,
            options=options,
        )
