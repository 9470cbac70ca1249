"""Article, lists and outcomes -> Telegram HTML and keyboards: escaping, splitting, buttons."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from content.models import (
    Article,
    BlockKind,
    Delivery,
    DeliveryState,
    SearchHit,
    Subscription,
    SubscriptionKind,
    TopicCount,
)
from content.storage import OutboxCounts

CAPTION_LIMIT = 1024  # a photo's caption, after entity parsing
_WEB_URL = re.compile(r"(?i)^https?://[^\s/$.?#][^\s]*$")
MESSAGE_LIMIT = 4096  # characters after entity parsing; we count UTF-16 units to be safe
CALLBACK_LIMIT = 64  # bytes


def escape(text: str) -> str:
    """Escape text for Telegram HTML (only &lt; &gt; &amp; are needed outside attributes)."""
    return html.escape(text, quote=False)


def escape_attr(text: str) -> str:
    return html.escape(text, quote=True)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def callback(*parts: str | int) -> str:
    """Build callback_data, refusing anything Telegram would reject (over 64 bytes)."""
    data = ":".join(str(p) for p in parts)
    if not data or len(data.encode("utf-8")) > CALLBACK_LIMIT:
        raise ValueError(f"callback_data must be 1-{CALLBACK_LIMIT} bytes: {data[:80]!r}")
    return data


def hashtag(topic: str) -> str:
    """A topic slug as a Telegram hashtag (letters, digits and underscores only)."""
    return "#" + re.sub(r"\W+", "_", topic).strip("_")


def format_time(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{local.day} {local:%b %Y}, {hour}:{local:%M %p}"


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or text[: limit - 1]) + "…"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message: HTML text and an optional inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | None = None  # a photo URL: `html` is then its caption


def _keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    rows = [list(r) for r in rows if r]
    return InlineKeyboardMarkup(rows) if rows else None


def deep_link(bot_username: str, article_id: str) -> str:
    return f"https://t.me/{bot_username}?start=a_{article_id}"


# -- simple texts ---------------------------------------------------------------


def welcome(*, first_name: str | None, article_count: int) -> Rendered:
    name = f", {escape(first_name)}" if first_name else ""
    text = (
        f"👋 Hello{name}! I bring you the newsroom's articles, right here in Telegram.\n\n"
        f"• /latest — the newest stories ({article_count} in the archive)\n"
        "• /search <i>words</i> — find a story\n"
        "• /topics — what we write about\n"
        "• /subscribe <i>topic or keyword</i> — get new stories as they are published\n"
        "• /help — everything I can do"
    )
    return Rendered(text)


HELP = Rendered(
    "<b>What I can do</b>\n\n"
    "/latest [n] — the newest stories (up to 20)\n"
    "/read <i>id</i> — a story's summary, then the full text page by page\n"
    "/search <i>words</i> — stories that mention them, best first\n"
    "/topics — topics with how many stories each\n"
    "/subscribe <i>topic or keyword</i> — a message whenever a new story matches\n"
    "/unsubscribe <i>topic or keyword</i> — stop those messages\n"
    "/subscriptions — what you follow\n\n"
    "Tip: a keyword matches a story that contains it as a whole word, in any case."
)


def hint(unknown_command: str | None = None) -> Rendered:
    if unknown_command:
        return Rendered(
            f"I don't know {escape(unknown_command)}. Try /latest, /search <i>words</i> or /help."
        )
    return Rendered("I answer commands: try /latest, /search <i>words</i>, /topics or /help.")


def notice(text: str) -> Rendered:
    """A short plain notice (text is escaped)."""
    return Rendered(escape(text))


# -- articles -------------------------------------------------------------------


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
    buttons = [
        InlineKeyboardButton("📖 Read full article", callback_data=callback("p", article.id, 0))
    ]
    if article.url:
        buttons.append(InlineKeyboardButton("🌐 Open on site", url=article.url))
    return Rendered("\n".join(lines).strip(), _keyboard([buttons]))


def reader_alert(article: Article, *, zone: tzinfo, reason: str | None) -> Rendered:
    """A direct message to a subscriber about a new article."""
    card = article_card(article, zone=zone)
    head = f"🔔 New story{f' on {escape(reason)}' if reason else ''}\n\n"
    return Rendered(head + card.html, card.keyboard)


def channel_post(article: Article, *, bot_username: str) -> Rendered:
    """A channel post: bold title, summary, hashtags, a button into the bot, the site link."""
    parts = [
        f"<b>{escape(article.title)}</b>",
        "",
        escape(article.summary or article.standfirst or ""),
    ]
    if article.topics:
        parts += ["", " ".join(hashtag(t) for t in article.topics)]
    buttons = [InlineKeyboardButton("📖 Read in the bot", url=deep_link(bot_username, article.id))]
    if article.url:
        buttons.append(InlineKeyboardButton("🌐 Open on site", url=article.url))
    text = "\n".join(parts).strip()
    # The story's image goes with it when it is a web address Telegram can fetch and the
    # text fits a caption; otherwise the post is a text message.
    photo = None
    image = article.image
    if image and _WEB_URL.match(image) and utf16_len(plain_text(text)) <= CAPTION_LIMIT:
        photo = image
    return Rendered(text, _keyboard([buttons]), photo)


def plain_text(rendered_html: str) -> str:
    """The text a reader would see, without markup (fallback when HTML is refused)."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered_html))


def _split_long(text: str, limit: int) -> list[str]:
    """Split plain text into pieces of at most `limit` UTF-16 units at sentence or word ends."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[:limit]
        while utf16_len(window) > limit:
            window = window[:-1]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
        if cut < limit // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut >= limit // 4 else len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


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
        for piece in _split_long(text, budget):
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


def page_keyboard(article: Article, page: int, total: int) -> InlineKeyboardMarkup | None:
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton("‹ Previous", callback_data=callback("p", article.id, page - 1))
        )
    if total > 1:
        nav.append(InlineKeyboardButton(f"{page + 1}/{total}", callback_data=callback("noop")))
    if page < total - 1:
        nav.append(
            InlineKeyboardButton("Next ›", callback_data=callback("p", article.id, page + 1))
        )
    rows = [nav, [InlineKeyboardButton("↩ Summary", callback_data=callback("r", article.id))]]
    if article.url:
        rows[1].append(InlineKeyboardButton("🌐 Open on site", url=article.url))
    return _keyboard(rows)


def _article_list(title: str, items: Sequence[Article], *, zone: tzinfo) -> Rendered:
    lines = [title, ""]
    buttons = []
    for number, article in enumerate(items, start=1):
        when = format_time(article.published, zone)
        lines.append(f"{number}. <b>{escape(article.title)}</b>")
        if when:
            lines.append(f"    <i>{escape(when)}</i>")
        label = f"{number}. {shorten(article.title, 40)}"
        buttons.append([InlineKeyboardButton(label, callback_data=callback("o", article.id))])
    return Rendered("\n".join(lines), _keyboard(buttons))


def latest(items: Sequence[Article], *, zone: tzinfo) -> Rendered:
    if not items:
        return Rendered(
            "No articles yet. New stories will appear here as soon as they are published."
        )
    return _article_list("🗞 <b>Latest stories</b>", items, zone=zone)


def search_results(query: str, hits: Sequence[SearchHit], *, zone: tzinfo) -> Rendered:
    shown = escape(shorten(query, 60))
    if not hits:
        return Rendered(f"Nothing found for “{shown}”. Try other words, or /latest.")
    return _article_list(f"🔎 <b>Results for “{shown}”</b>", [h.article for h in hits], zone=zone)


def topics(counts: Sequence[TopicCount]) -> Rendered:
    if not counts:
        return Rendered("No topics yet: they appear as articles come in.")
    lines = ["🏷 <b>Topics</b>", ""]
    buttons = []
    for item in counts:
        noun = "story" if item.count == 1 else "stories"
        lines.append(f"{hashtag(item.topic)} — {item.count} {noun}")
        data = f"s:{item.topic}"
        if len(data.encode()) <= CALLBACK_LIMIT:
            buttons.append(InlineKeyboardButton(f"➕ {item.topic}", callback_data=data))
    lines += ["", "Tap a topic to subscribe, or send /subscribe <i>topic or keyword</i>."]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return Rendered("\n".join(lines), _keyboard(rows))


def subscription_list(subs: Sequence[Subscription]) -> Rendered:
    if not subs:
        return Rendered(
            "You follow nothing yet. Send /subscribe <i>topic or keyword</i>, or see /topics."
        )
    lines = ["🔔 <b>You follow</b>", ""]
    buttons = []
    for sub in subs:
        label = hashtag(sub.value) if sub.kind is SubscriptionKind.TOPIC else f"“{sub.value}”"
        kind = "topic" if sub.kind is SubscriptionKind.TOPIC else "keyword"
        lines.append(f"• {escape(label)} <i>({kind})</i>")
        data = f"u:{sub.value}"
        if len(data.encode()) <= CALLBACK_LIMIT:
            buttons.append(
                [InlineKeyboardButton(f"✖ Stop {shorten(sub.value, 30)}", callback_data=data)]
            )
    return Rendered("\n".join(lines), _keyboard(buttons))


def subscribed(kind: SubscriptionKind, value: str, *, created: bool) -> Rendered:
    what = f"the topic {hashtag(value)}" if kind is SubscriptionKind.TOPIC else f"“{escape(value)}”"
    if not created:
        return Rendered(f"You already follow {what}.")
    return Rendered(f"✅ Subscribed to {what}. I'll message you when a new story matches.")


def unsubscribed(value: str, *, removed: bool) -> Rendered:
    if removed:
        return Rendered(f"Done: no more messages for “{escape(value)}”.")
    return Rendered(f"You don't follow “{escape(value)}”. See /subscriptions.")


def stats(counts: OutboxCounts, *, subscribers: int, dead: Sequence[Delivery]) -> Rendered:
    """/stats for editors: outbox by state, last hour, audience, dead letters."""
    lines = ["📊 <b>Delivery</b>", ""]
    for state in DeliveryState:
        lines.append(f"{state.value}: {counts.by_state.get(state, 0)}")
    lines += [
        "",
        f"Last hour: {counts.sent_last_hour} sent, {counts.failed_last_hour} failed",
        f"Active subscribers: {subscribers}",
    ]
    if dead:
        lines += ["", "<b>Dead letters</b> (newest first)"]
        for item in dead:
            reason = shorten(item.last_error or "unknown", 80)
            lines.append(f"• {escape(item.article_id)} → {escape(item.chat_id)}: {escape(reason)}")
        lines.append("Re-queue an article's with /retry <i>article id</i>.")
    return Rendered("\n".join(lines))


def retried(article_id: str, count: int) -> Rendered:
    if count == 0:
        return Rendered(f"No dead deliveries for {escape(article_id)}.")
    return Rendered(f"Re-queued {count} dead deliveries of {escape(article_id)}.")
