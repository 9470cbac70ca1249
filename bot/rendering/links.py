"""Answers to a reader's link that has no card: another site, a private address, no story."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rendering.i18n import _
from bot.rendering.text import Rendered, escape, notice

_MAX_SITES_SHOWN = 5


def link_other_site(domains: Sequence[str]) -> Rendered:
    """One line: which sites' links the bot opens."""
    if not domains:
        return Rendered(_("I don't open links yet. Try /latest or /search <i>words</i>."))
    shown = ", ".join(escape(d) for d in domains[:_MAX_SITES_SHOWN])
    if len(domains) > _MAX_SITES_SHOWN:
        shown += ", …"
    return Rendered(_("I only open links to stories on {sites}.").format(sites=shown))


def link_blocked() -> Rendered:
    return notice(_("That link leads to a private or local address: I don't open it."))


def link_unreachable() -> Rendered:
    return notice(_("I couldn't open that page just now. Please try again later."))


def link_not_an_article() -> Rendered:
    return Rendered(_("I found no story on that page. Try /search <i>words</i>."))
