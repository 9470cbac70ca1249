"""Editorial review: the preview an editor gets, its buttons, and the answers to decisions."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.callbacks import NoOp, Review
from bot.rendering.i18n import _, ngettext
from bot.rendering.keyboards import keyboard
from bot.rendering.text import CAPTION_LIMIT, Rendered, escape, notice, plain_text, utf16_len
from content.models import Article, ReviewState
from content.review import Decision, ReviewOutcome, SummaryOutcome, SummaryResult


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


def usage_post() -> Rendered:
    return notice(_("Usage: /post <article id>: publish a story waiting for review or held."))


def usage_hold() -> Rendered:
    return notice(_("Usage: /hold <article id>: keep a story back (its unsent posts stop)."))


def usage_summary() -> Rendered:
    return notice(_("Usage: /summary <article id> <new summary>"))
