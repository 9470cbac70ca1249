"""One story: its card, a subscriber's alert, a channel post, and its full text as pages."""

from __future__ import annotations

import re
from datetime import tzinfo

from bot.rendering.i18n import _
from bot.rendering.keyboards import card_keyboard, channel_keyboard
from bot.rendering.text import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    Rendered,
    escape,
    format_time,
    hashtag,
    plain_text,
    shorten,
    split_long,
    utf16_len,
)
from content.models import Article, BlockKind

_WEB_URL = re.compile(r"(?i)^https?://[^\s/$.?#][^\s]*$")


def web_image(article: Article) -> str | None:
    """The story's image when it is a web address Telegram can fetch (else None)."""
    image = article.image
    return image if image and _WEB_URL.match(image) else None


def byline(article: Article, zone: tzinfo) -> str:
    parts = [p for p in (article.author, format_time(article.published, zone)) if p]
    return " · ".join(parts)


def article_card(article: Article, *, zone: tzinfo) -> Rendered:
    """/read: title, byline, summary, and the buttons to read on."""
    lines = [f"<b>{escape(article.title)}</b>"]
    if by := byline(article, zone):
        lines.append(f"<i>{escape(by)}</i>")
    lines.append("")
    lines.append(escape(article.summary or article.standfirst or ""))
    if article.topics:
        lines += ["", " ".join(hashtag(t) for t in article.topics)]
    return Rendered("\n".join(lines).strip(), card_keyboard(article))


def reader_alert(article: Article, *, zone: tzinfo, reason: str | None) -> Rendered:
    """A direct message to a subscriber about a new article."""
    card = article_card(article, zone=zone)
    if reason:
        head = _("🔔 New story on {reason}").format(reason=escape(reason))
    else:
        head = _("🔔 New story")
    return Rendered(head + "\n\n" + card.html, card.keyboard)


def channel_post(article: Article, *, bot_username: str) -> Rendered:
    """A channel post: bold title, summary, hashtags, a button into the bot, the site link."""
    parts = [
        f"<b>{escape(article.title)}</b>",
        "",
        escape(article.summary or article.standfirst or ""),
    ]
    if article.topics:
        parts += ["", " ".join(hashtag(t) for t in article.topics)]
    text = "\n".join(parts).strip()
    # The story's image goes with it when it is a web address Telegram can fetch and the
    # text fits a caption; otherwise the post is a text message.
    photo = None
    image = web_image(article)
    if image and utf16_len(plain_text(text)) <= CAPTION_LIMIT:
        photo = image
    return Rendered(text, channel_keyboard(article, bot_username=bot_username), photo)


def article_pages(article: Article, *, zone: tzinfo, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The whole article as HTML pages, each at most `limit` characters once parsed."""
    title = shorten(article.title, 300)
    header = f"<b>{escape(title)}</b>"
    budget = limit - utf16_len(title) - 40  # room for the title and "(page 10/10)"
    parts: list[tuple[str | None, str]] = []  # (tag, text) in reading order
    if article.standfirst:
        parts.append(("i", article.standfirst))
    if by := byline(article, zone):
        parts.append((None, by))
    for block in article.blocks:
        parts.append(("b" if block.kind is BlockKind.HEADING else None, block.text))
    blocks: list[tuple[str, int]] = []
    for tag, text in parts:
        for piece in split_long(text, budget):
            body = escape(piece)
            blocks.append((f"<{tag}>{body}</{tag}>" if tag else body, utf16_len(piece)))
    pages: list[list[str]] = [[]]
    used = 0
    for block_html, size in blocks:
        extra = size + (2 if pages[-1] else 0)
        if pages[-1] and used + extra > budget:
            pages.append([])
            used, extra = 0, size
        pages[-1].append(block_html)
        used += extra
    total = len(pages)
    out = []
    for number, page in enumerate(pages, start=1):
        title = header + (f" ({number}/{total})" if total > 1 else "")
        out.append(title + "\n\n" + "\n\n".join(page))
    return out
