"""A digest, "While you were away", and the list behind a digest's "and N more"."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton

from bot.callbacks import DigestMore, OpenArticle
from bot.rendering.i18n import _, ngettext
from bot.rendering.keyboards import keyboard, list_keyboard
from bot.rendering.text import Rendered, escape, shorten
from content.digests import DigestPick
from content.models import Article, DeliveryKind

TITLE_CHARS = 120
SUMMARY_CHARS = 140  # one line on a phone


def _header(kind: DeliveryKind, count: int) -> str:
    if kind is DeliveryKind.AWAY:
        title = _("🌙 <b>While you were away</b>")
    else:
        title = _("📬 <b>Your news digest</b>")
    stories = ngettext("{count} new story", "{count} new stories", count).format(count=count)
    return f"{title}\n<i>{stories}</i>"


def _one_line(article: Article) -> str:
    text = " ".join((article.summary or article.standfirst or "").split())
    return shorten(text, SUMMARY_CHARS) if text else ""


def digest(pick: DigestPick, *, kind: DeliveryKind, digest_id: int) -> Rendered:
    """One message: a header, each story's title and one line, a button each, and the rest."""
    lines = [_header(kind, len(pick.shown) + len(pick.more)), ""]
    rows: list[list[InlineKeyboardButton]] = []
    for number, article in enumerate(pick.shown, start=1):
        lines.append(f"{number}. <b>{escape(shorten(article.title, TITLE_CHARS))}</b>")
        if line := _one_line(article):
            lines.append(escape(line))
        label = f"{number}. {shorten(article.title, 40)}"
        rows.append([InlineKeyboardButton(label, callback_data=OpenArticle(article.id).encode())])
    if pick.more:
        more = len(pick.more)
        lines += ["", ngettext("…and {count} more", "…and {count} more", more).format(count=more)]
        label = ngettext("See {count} more", "See {count} more", more).format(count=more)
        rows.append([InlineKeyboardButton(label, callback_data=DigestMore(digest_id).encode())])
    return Rendered("\n".join(lines), keyboard(rows))


def digest_rest(items: Sequence[Article]) -> Rendered:
    """The stories of a digest that did not fit in it, a button each."""
    if not items:
        return Rendered(_("Nothing more in this digest."))
    lines = [_("📬 <b>More from your digest</b>"), ""]
    lines += [
        f"{number}. <b>{escape(shorten(article.title, TITLE_CHARS))}</b>"
        for number, article in enumerate(items, start=1)
    ]
    return Rendered("\n".join(lines), list_keyboard(items))
