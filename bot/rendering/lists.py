"""Lists a reader asks for: latest stories, search results, topics, their subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.rendering.i18n import _, ngettext
from bot.rendering.keyboards import list_keyboard, subscriptions_keyboard, topics_keyboard
from bot.rendering.text import Rendered, escape, format_time, hashtag, shorten
from content.models import Article, SearchHit, Subscription, SubscriptionKind, TopicCount


def _article_list(title: str, items: Sequence[Article], *, zone: tzinfo) -> Rendered:
    lines = [title, ""]
    for number, article in enumerate(items, start=1):
        when = format_time(article.published, zone)
        lines.append(f"{number}. <b>{escape(article.title)}</b>")
        if when:
            lines.append(f"    <i>{escape(when)}</i>")
    return Rendered("\n".join(lines), list_keyboard(items))


def latest(items: Sequence[Article], *, zone: tzinfo) -> Rendered:
    if not items:
        return Rendered(
            _("No articles yet. New stories will appear here as soon as they are published.")
        )
    return _article_list(_("🗞 <b>Latest stories</b>"), items, zone=zone)


def search_results(query: str, hits: Sequence[SearchHit], *, zone: tzinfo) -> Rendered:
    shown = escape(shorten(query, 60))
    if not hits:
        return Rendered(
            _("Nothing found for “{query}”. Try other words, or /latest.").format(query=shown)
        )
    title = _("🔎 <b>Results for “{query}”</b>").format(query=shown)
    return _article_list(title, [h.article for h in hits], zone=zone)


def topics(counts: Sequence[TopicCount]) -> Rendered:
    if not counts:
        return Rendered(_("No topics yet: they appear as articles come in."))
    lines = [_("🏷 <b>Topics</b>"), ""]
    for item in counts:
        stories = ngettext("{count} story", "{count} stories", item.count)
        lines.append(f"{hashtag(item.topic)} — {stories.format(count=item.count)}")
    lines += ["", _("Tap a topic to subscribe, or send /subscribe <i>topic or keyword</i>.")]
    return Rendered("\n".join(lines), topics_keyboard([item.topic for item in counts]))


def subscription_list(subs: Sequence[Subscription]) -> Rendered:
    if not subs:
        return Rendered(
            _("You follow nothing yet. Send /subscribe <i>topic or keyword</i>, or see /topics.")
        )
    lines = [_("🔔 <b>You follow</b>"), ""]
    for sub in subs:
        if sub.kind is SubscriptionKind.TOPIC:
            label, kind = hashtag(sub.value), _("topic")
        else:
            label, kind = f"“{sub.value}”", _("keyword")
        line = f"• {escape(label)} <i>({kind})</i>"
        if sub.excludes:
            words = ", ".join(f"“{escape(e)}”" for e in sub.excludes)
            line += " " + _("except {words}").format(words=words)
        lines.append(line)
    return Rendered("\n".join(lines), subscriptions_keyboard(subs))
