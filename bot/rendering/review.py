"""Editorial review: the preview an editor gets, its buttons, and the answers to decisions."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.callbacks import NoOp, Review
from bot.rendering.i18n import _, ngettext
from bot.rendering.keyboards import keyboard
from bot.rendering.text import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    Rendered,
    escape,
    notice,
    plain_text,
    shorten,
    utf16_len,
)
from content.models import Article, ReviewState
from content.review import Decision, ReviewOutcome, ReviewQueue, SummaryOutcome, SummaryResult

# /post alone: titles and names are cut so twenty stories fit one message.
LIST_TITLE_CHARS = 80
LIST_BUTTON_CHARS = 40
LIST_NAME_CHARS = 32
LIST_HEADER_ROOM = 200  # the header line in any language


def _status(article: Article) -> str:
    """One line: where the story stands (plain text; the caller escapes it)."""
    by = article.reviewed_by or "?"
    if article.review is ReviewState.PUBLISHED:
        return _("✅ Published by {name}").format(name=by)
    if article.review is ReviewState.HELD:
        return _("⏸ Held by {name}: not posted").format(name=by)
    return _("📝 For review: not posted until an editor publishes it")


def _actions(article: Article) -> list[InlineKeyboardButton]:
    """The decisions still open: none once published; Publish (and the summary) when held."""
    if article.review is ReviewState.PUBLISHED:
        return []

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=Review(action, article.id).encode())

    publish = button(_("✅ Publish"), Review.PUBLISH)
    summary = button(_("✏️ Edit summary"), Review.EDIT_SUMMARY)
    if article.review is ReviewState.HELD:
        return [publish, summary]
    return [publish, button(_("⏸ Hold"), Review.HOLD), summary]


def preview(article: Article, post: Rendered) -> Rendered:
    """The exact channel post `post`, with where it stands on top and the editors' buttons."""
    status = escape(_status(article))
    rows = [list(row) for row in post.keyboard.inline_keyboard] if post.keyboard else []
    html = f"{status}\n\n{post.html}"
    if post.photo and utf16_len(plain_text(html)) > CAPTION_LIMIT:
        # The line would push the caption past Telegram's limit: it goes on a button instead.
        html = post.html
        rows.insert(0, [InlineKeyboardButton(_status(article), callback_data=NoOp().encode())])
    return Rendered(html, keyboard([*rows, _actions(article)]), post.photo)


def decided(outcome: ReviewOutcome) -> str:
    """The answer to a decision, short enough for a button's answer (200 characters)."""
    article, by = outcome.article, outcome.by or "?"
    title = article.title[:60] if article is not None else ""
    match outcome.decision:
        case Decision.PUBLISHED:
            return _("Published: “{title}” goes out now.").format(title=title)
        case Decision.HELD:
            return _("Held: “{title}” is not posted until someone publishes it.").format(
                title=title
            )
        case Decision.STOPPED:
            return ngettext(
                "Held: {count} unsent post or message of “{title}” stopped.",
                "Held: {count} unsent posts and messages of “{title}” stopped.",
                outcome.stopped,
            ).format(count=outcome.stopped, title=title)
        case Decision.ALREADY_PUBLISHED:
            return _("Already published by {name}.").format(name=by)
        case Decision.ALREADY_HELD:
            return _("Already held by {name}.").format(name=by)
        case Decision.ALREADY_SENT:
            return _("Nothing left to stop: “{title}” was sent already.").format(title=title)
        case Decision.NOT_IN_REVIEW:
            return _("“{title}” is not waiting for review: it goes out as usual.").format(
                title=title
            )
        case Decision.NOT_FOUND:
            return _("No story with that id.")


def decided_message(outcome: ReviewOutcome) -> Rendered:
    """The answer to /post or /hold."""
    return notice(decided(outcome))


def summary_prompt(article: Article) -> Rendered:
    """After "Edit summary": the command to send, prefilled with the summary to change."""
    command = f"/summary {article.id} {article.summary}"
    return Rendered(
        _("To replace the summary of “{title}”, send:").format(title=escape(article.title))
        + f"\n<code>{escape(command)}</code>\n"
        + _("(tap to copy it, then change the text)")
    )


def summary_answer() -> str:
    """The button's answer: the prompt follows as a message."""
    return _("Send /summary with the new text (see below).")


def summary_replaced(outcome: SummaryOutcome, *, max_chars: int) -> Rendered:
    """The answer to /summary."""
    match outcome.result:
        case SummaryResult.REPLACED:
            return notice(
                ngettext(
                    "Summary replaced; {count} sent post or preview will be edited.",
                    "Summary replaced; {count} sent posts and previews will be edited.",
                    outcome.edits,
                ).format(count=outcome.edits)
            )
        case SummaryResult.UNCHANGED:
            return notice(_("The summary already reads so."))
        case SummaryResult.TOO_LONG:
            return notice(
                _("That summary is too long: at most {count} characters.").format(count=max_chars)
            )
        case SummaryResult.NOT_FOUND:
            return notice(_("No story with that id."))
        case SummaryResult.EMPTY:
            return usage_summary()


def awaiting_list(queue: ReviewQueue) -> Rendered:
    """/post alone: the stories waiting or held, one line and one Publish button each."""
    if not queue.stories:
        return notice(_("Nothing is waiting for review or held."))
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    footer = _("Publish with a button, or send /post <article id>.")
    budget = MESSAGE_LIMIT - LIST_HEADER_ROOM - utf16_len(footer)
    for number, article in enumerate(queue.stories, start=1):
        line = (
            f"{number}. <b>{escape(shorten(article.title, LIST_TITLE_CHARS))}</b>\n"
            f"<code>{escape(article.id)}</code> · {escape(_list_state(article))}"
        )
        budget -= utf16_len(plain_text(line)) + 2
        if budget < 0:
            break  # unusually long names or titles: the newest that fit in one message
        lines.append(line)
        label = _("✅ Publish: {title}").format(title=shorten(article.title, LIST_BUTTON_CHARS))
        rows.append(
            [InlineKeyboardButton(label, callback_data=Review(Review.PUBLISH, article.id).encode())]
        )
    shown = len(lines)
    if queue.total > shown:
        head = ngettext(
            "{count} story waits for an editor; the newest {shown}:",
            "{count} stories wait for an editor; the newest {shown}:",
            queue.total,
        ).format(count=queue.total, shown=shown)
    else:
        head = ngettext(
            "{count} story waits for an editor:",
            "{count} stories wait for an editor:",
            queue.total,
        ).format(count=queue.total)
    html = "\n\n".join([escape(head), *lines, escape(footer)])
    return Rendered(html, keyboard(rows))


def _list_state(article: Article) -> str:
    """Where a listed story stands: waiting, or held by whom (plain text; the caller escapes it)."""
    if article.review is ReviewState.HELD:
        name = shorten(article.reviewed_by or "?", LIST_NAME_CHARS)
        return _("held by {name}").format(name=name)
    return _("waiting")


def usage_hold() -> Rendered:
    return notice(_("Usage: /hold <article id>: keep a story back (its unsent posts stop)."))


def usage_summary() -> Rendered:
    return notice(_("Usage: /summary <article id> <new summary>"))
