"""Editors' views of the polled sources: /sources, /addsource and /removesource answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.rendering.i18n import _, ngettext
from bot.rendering.text import Rendered, escape, format_time, notice, shorten
from content.sources.registry import AddOutcome, AddStatus, RemoveOutcome, RemoveStatus
from content.storage import PolledSource, SourceKind, SourceState

SOURCES_PER_PAGE = 8  # a page of the longest sources stays under Telegram's 4096 characters
_URL_SHOWN = 90
_ERROR_SHOWN = 120


def _state(source: PolledSource) -> str:
    if source.state is SourceState.DISABLED:
        return _("disabled")
    if source.failures:
        return _("failing ({count}× in a row)").format(count=source.failures)
    return _("active")


def _kind(source: PolledSource) -> str:
    return _("WordPress") if source.kind is SourceKind.WORDPRESS else _("feed")


def _source_lines(number: int, source: PolledSource, *, zone: tzinfo) -> list[str]:
    title = escape(shorten(source.title, 80)) if source.title else _("<i>no title yet</i>")
    lines = [
        f"<b>{number}.</b> {title} · {_kind(source)} · {_state(source)}",
        escape(shorten(source.url, _URL_SHOWN)),
    ]
    when = (
        _("last success {time}").format(time=format_time(source.last_success_at, zone))
        if source.last_success_at
        else _("never polled successfully")
    )
    facts = [when, _("{count} items seen").format(count=source.items_seen)]
    if source.state is SourceState.ACTIVE:
        facts.append(_("next poll {time}").format(time=format_time(source.next_poll_at, zone)))
    lines.append(" · ".join(facts))
    if source.last_error:
        lines.append(
            _("last error: {error}").format(error=escape(shorten(source.last_error, _ERROR_SHOWN)))
        )
    return lines


def source_list(sources: Sequence[PolledSource], *, zone: tzinfo, page: int = 1) -> Rendered:
    """/sources: each source numbered (the number /removesource takes), a page at a time."""
    if not sources:
        return Rendered(_("No sources yet. Add a feed or a site with /addsource <i>url</i>."))
    pages = (len(sources) + SOURCES_PER_PAGE - 1) // SOURCES_PER_PAGE
    page = max(1, min(page, pages))
    first = (page - 1) * SOURCES_PER_PAGE
    header = ngettext("📡 <b>{count} source</b>", "📡 <b>{count} sources</b>", len(sources))
    zone_name = escape(str(zone))
    lines = [
        header.format(count=len(sources)) + " " + _("(times in {zone})").format(zone=zone_name)
    ]
    for offset, source in enumerate(sources[first : first + SOURCES_PER_PAGE]):
        lines.append("")
        lines += _source_lines(first + offset + 1, source, zone=zone)
    lines.append("")
    if pages > 1:
        lines.append(
            _("Page {page} of {pages}: /sources <i>page</i> for another.").format(
                page=page, pages=pages
            )
        )
    lines.append(_("Add one with /addsource <i>url</i>, remove one with /removesource <i>n</i>."))
    return Rendered("\n".join(lines))


def _found(outcome: AddOutcome) -> str:
    source = outcome.source
    assert source is not None
    title = escape(outcome.title) if outcome.title else escape(shorten(source.url, _URL_SHOWN))
    if source.kind is SourceKind.WORDPRESS:
        count = ngettext("{count} post", "{count} posts", outcome.entries or 0)
        what = _("WordPress site {title} ({count})")
    else:
        count = ngettext("{count} item", "{count} items", outcome.entries or 0)
        what = _("feed {title} ({count})")
    found = what.format(title=title, count=count.format(count=outcome.entries or 0))
    if outcome.discovered:
        found += " " + _("found on that page: {url}").format(
            url=escape(shorten(source.url, _URL_SHOWN))
        )
    return found


def source_added(outcome: AddOutcome) -> Rendered:
    """The answer to /addsource."""
    status = outcome.status
    if status is AddStatus.ADDED:
        return Rendered(
            _(
                "✅ Added the {found}. Its first poll imports what it holds as the archive"
                " (not posted); new items are posted from then on."
            ).format(found=_found(outcome))
        )
    source = outcome.source
    name = ""
    if source is not None:
        name = escape(source.title or shorten(source.url, _URL_SHOWN))
    if status is AddStatus.ALREADY:
        return Rendered(_("That source is already there: {name}. See /sources.").format(name=name))
    if status is AddStatus.ENABLED:
        return Rendered(
            _("That source was there but disabled: {name} is polled again.").format(name=name)
        )
    reason = escape(shorten(outcome.reason or "", _ERROR_SHOWN))
    answers = {
        AddStatus.INVALID: _(
            "Not added: give a feed or page URL (https://…) or wordpress:https://site."
        ),
        AddStatus.LIMIT: _(
            "Not added: there are {limit} sources already, the most I poll."
            " Remove one with /removesource <i>n</i> first."
        ),
        AddStatus.BLOCKED: _("Not added: that URL leads to a private or local address."),
        AddStatus.NOT_FOUND: _("Not added: nothing there ({reason})."),
        AddStatus.TIMEOUT: _("Not added: the site did not answer in time."),
        AddStatus.UNREACHABLE: _("Not added: {reason}."),
        AddStatus.NOT_A_FEED: _(
            "Not added: that is not a feed, and no feed is named on that page."
        ),
        AddStatus.NOT_WORDPRESS: _("Not added: no WordPress posts there ({reason})."),
    }
    return notice(answers[status].format(reason=reason, limit=outcome.entries or 0))


def source_removed(outcome: RemoveOutcome) -> Rendered:
    """The answer to /removesource."""
    if outcome.status is RemoveStatus.NO_SUCH:
        if outcome.count == 0:
            return notice(_("There are no sources to remove."))
        return notice(
            _("No such source: give a number from 1 to {count} (see /sources).").format(
                count=outcome.count
            )
        )
    source = outcome.source
    assert source is not None
    name = escape(source.title or shorten(source.url, _URL_SHOWN))
    if outcome.status is RemoveStatus.DISABLED:
        return Rendered(
            _(
                "Disabled {name}: it is in the SOURCES setting, so removing it would bring it back"
                " at the next start. It is no longer polled; take it out of SOURCES to remove it."
            ).format(name=name)
        )
    return Rendered(
        _("Removed {name}: no longer polled. Its stories stay in the archive.").format(name=name)
    )


def usage_addsource() -> Rendered:
    return notice(
        _("Usage: /addsource <i>url</i> (a feed, a page naming one, or wordpress:https://site).")
    )


def usage_removesource() -> Rendered:
    return notice(_("Usage: /removesource <i>n</i> (the number from /sources)."))
