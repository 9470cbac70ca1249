"""Conversation replies: welcome, help, hints, subscription outcomes, usage lines, answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.rendering.i18n import _
from bot.rendering.text import Rendered, escape, format_number, hashtag, notice
from content.models import SubscriptionKind
from content.storage.outbox import Withdrawal


class CommandDoc(Protocol):
    """What /help and the welcome need to know about a command (see bot/commands.py)."""

    @property
    def name(self) -> str: ...
    @property
    def args(self) -> str | None: ...
    @property
    def optional_args(self) -> bool: ...
    @property
    def help(self) -> str | None: ...
    @property
    def welcome(self) -> str | None: ...


def _args(command: CommandDoc, *, with_optional: bool) -> str:
    if not command.args or (command.optional_args and not with_optional):
        return ""
    if command.optional_args:
        return f" [{_(command.args)}]"
    return f" <i>{_(command.args)}</i>"


def welcome(
    *, first_name: str | None, article_count: int, commands: Sequence[CommandDoc]
) -> Rendered:
    if first_name:
        head = _(
            "👋 Hello, {name}! I bring you the newsroom's articles, right here in Telegram."
        ).format(name=escape(first_name))
    else:
        head = _("👋 Hello! I bring you the newsroom's articles, right here in Telegram.")
    lines = [
        f"• /{c.name}{_args(c, with_optional=False)} — "
        + _(c.welcome).format(count=format_number(article_count))
        for c in commands
        if c.welcome
    ]
    return Rendered(head + "\n\n" + "\n".join(lines))


def help_message(commands: Sequence[CommandDoc]) -> Rendered:
    lines = [f"/{c.name}{_args(c, with_optional=True)} — {_(c.help)}" for c in commands if c.help]
    return Rendered(
        _("<b>What I can do</b>")
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Tip: a keyword matches a story that contains it as a whole word, in any case.")
    )


def hint(unknown_command: str | None = None) -> Rendered:
    if unknown_command:
        return Rendered(
            _("I don't know {command}. Try /latest, /search <i>words</i> or /help.").format(
                command=escape(unknown_command)
            )
        )
    return Rendered(_("I answer commands: try /latest, /search <i>words</i>, /topics or /help."))


def subscribed(kind: SubscriptionKind, value: str, *, created: bool) -> Rendered:
    if kind is SubscriptionKind.TOPIC:
        if created:
            text = _(
                "✅ Subscribed to the topic {topic}. I'll message you when a new story matches."
            )
        else:
            text = _("You already follow the topic {topic}.")
        return Rendered(text.format(topic=hashtag(value)))
    if created:
        text = _("✅ Subscribed to “{keyword}”. I'll message you when a new story matches.")
    else:
        text = _("You already follow “{keyword}”.")
    return Rendered(text.format(keyword=escape(value)))


def unsubscribed(value: str, *, removed: bool) -> Rendered:
    if removed:
        return Rendered(_("Done: no more messages for “{value}”.").format(value=escape(value)))
    return Rendered(
        _("You don't follow “{value}”. See /subscriptions.").format(value=escape(value))
    )


# -- usage lines and refusals ------------------------------------------------------


def usage_latest(most: int) -> Rendered:
    return notice(_("Usage: /latest [n], n from 1 to {most}.").format(most=most))


def usage_read() -> Rendered:
    return notice(_("Usage: /read <id> (ids are shown by /latest and /search)."))


def usage_search() -> Rendered:
    return notice(_("Usage: /search <words>, e.g. /search hawker centre"))


def usage_subscribe() -> Rendered:
    return notice(_("Usage: /subscribe <topic or keyword>. See /topics."))


def usage_unsubscribe() -> Rendered:
    return notice(_("Usage: /unsubscribe <topic or keyword>. See /subscriptions."))


def not_found(article_id: str) -> Rendered:
    """The same answer for an unknown id and a story readers may not see yet."""
    return notice(_("No article with id {id}. Try /latest.").format(id=article_id[:40]))


def withdrawn_story() -> Rendered:
    """/read, a deep link or an article button of a story its publisher took back."""
    return notice(answer_withdrawn())


def answer_withdrawn() -> str:
    return _("This story was withdrawn by its publisher.")


def post_not_deleted(
    title: str, *, chat: str, message_id: int, reason: str, link: str | None
) -> str:
    """For the editors: Telegram refused to delete a withdrawn story's channel post."""
    text = _(
        "Could not delete the post of the withdrawn story “{title}” in {chat} "
        "(message {message_id}: {reason}). Please remove it by hand."
    ).format(title=title, chat=chat, message_id=message_id, reason=reason)
    return f"{text} {link}" if link else text


def usage_withdraw() -> Rendered:
    return notice(_("Usage: /withdraw <article id>: deletes its channel posts, hides it."))


def withdrew(article_id: str, done: Withdrawal | None) -> Rendered:
    """The editor's answer to /withdraw."""
    shown = escape(article_id)
    if done is None:
        return notice(_("No article with id {id}.").format(id=shown))
    if not done.first:
        return notice(_("{id} was withdrawn already.").format(id=shown))
    posts = done.deletes + done.in_flight
    return Rendered(
        _("Withdrew {id}. Channel posts to delete: {posts}. Messages not sent: {unsent}.").format(
            id=shown, posts=posts, unsent=done.unsent
        )
    )


def bad_keyword(most: int) -> Rendered:
    return notice(
        _("A keyword needs a letter or digit and at most {most} characters.").format(most=most)
    )


def too_many_subscriptions(most: int) -> Rendered:
    return notice(
        _(
            "You follow {most} topics and keywords, the most I can keep. "
            "Stop one first: see /subscriptions."
        ).format(most=most)
    )


def slow_down() -> str:
    """Said once to a reader over the update limit; what follows is dropped quietly."""
    return _("You are sending messages very fast. I'll answer again in a few seconds.")


def went_wrong() -> str:
    return _("Sorry, something went wrong. Please try again.")


# -- answers to button presses (plain text, shown as a toast or alert) ---------------


def answer_gone() -> str:
    """An article button whose story is unknown or not visible: the same words for both."""
    return _("That article is no longer available.")


def answer_expired() -> str:
    return _("This button has expired. Try /latest.")


def answer_subscribed(topic: str, *, created: bool) -> str:
    if created:
        return _("Subscribed to {topic}").format(topic=topic)
    return _("You already follow {topic}").format(topic=topic)


def answer_too_many(most: int) -> str:
    return _("You follow {most} topics and keywords already: stop one first.").format(most=most)


def answer_unsubscribed(value: str, *, removed: bool) -> str:
    return _("Stopped {value}").format(value=value) if removed else _("Already stopped")
