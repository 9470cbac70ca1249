"""The worker's memory of articles and of ready posts: a fan-out reads and renders once."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from telegram.constants import ParseMode

from bot.delivery.transport import Prepared, prepare
from bot.rendering import Rendered, plain_text
from content.models import Article, DeliveryKind

Renderer = Callable[[Article, DeliveryKind], Rendered]
ArticleLoader = Callable[[str], Awaitable[Article | None]]


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


class RenderCache:
    """Each version of a post rendered and serialised once, not once per recipient."""

    def __init__(
        self, render: Renderer, *, allow_paid_broadcast: bool = False, size: int = 256
    ) -> None:
        self._render = render
        self.allow_paid_broadcast = allow_paid_broadcast
        self.size = size
        self._entries: dict[tuple[str, DeliveryKind], tuple[Article, Rendered, Prepared]] = {}

    def get(self, article: Article, kind: DeliveryKind) -> tuple[Rendered, Prepared]:
        key = (article.id, kind)
        entry = self._entries.get(key)
        # A new version of the article is a new object (the article cache reads it again).
        if entry is None or entry[0] is not article:
            rendered = self._render(article, kind)
            entry = self._entries[key] = (article, rendered, self.prepare(rendered))
            if len(self._entries) > self.size:
                self._entries.pop(next(iter(self._entries)))
        return entry[1], entry[2]

    def prepare(self, rendered: Rendered, *, as_html: bool = True, photo: bool = True) -> Prepared:
        """The request for a rendered post: as HTML or plain text, with or without its photo."""
        return prepare(
            rendered.html if as_html else plain_text(rendered.html),
            parse_mode=ParseMode.HTML.value if as_html else None,
            keyboard=rendered.keyboard,
            photo=rendered.photo if photo else None,
            allow_paid_broadcast=self.allow_paid_broadcast,
        )
