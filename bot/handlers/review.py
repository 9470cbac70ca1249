"""Editorial review (REVIEW=true), for ADMIN_IDS only: the preview's buttons, /post (alone:
what waits), /hold, /summary."""

from __future__ import annotations

from telegram import Update

from bot import rendering
from bot.callbacks import Review
from bot.context import NewswireContext, Services
from bot.handlers.common import argument_text, on_button, reply
from bot.jobs import plan_and_wake
from bot.rendering import review as view
from content import review
from content.pipeline import SUMMARY_MAX_CHARS
from content.review import Decision, ReviewOutcome

ID_LIMIT = 64  # longer is no article id; kept short so nothing long is looked up or echoed
LIST_LIMIT = 20  # /post alone: the newest stories waiting or held (the total says the rest)
CHANGED = (Decision.PUBLISHED, Decision.HELD, Decision.STOPPED)


def _editor(update: Update) -> str:
    """How other editors see who decided: the first name, else @username."""
    user = update.effective_user
    if user is None:
        return "?"
    return user.first_name or (f"@{user.username}" if user.username else str(user.id))


async def _decide(services: Services, action: str, article_id: str, *, by: str) -> ReviewOutcome:
    """Publish or hold; the previews are edited, and a published story is planned at once."""
    now = services.clock()
    if action == Review.PUBLISH:
        outcome = await review.publish(services.repo, article_id, by=by, now=now)
    else:
        outcome = await review.hold(services.repo, article_id, by=by, now=now)
    if outcome.decision in CHANGED:
        services.outbox_wakeup.set()  # the previews' edits
    if outcome.decision is Decision.PUBLISHED:
        await plan_and_wake(services, now=now, via=" (published by an editor)")
    return outcome


async def pressed(update: Update, context: NewswireContext, data: Review) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    user = update.effective_user
    if user is None or user.id not in services.admin_ids:
        # Only editors decide: anyone else's press is answered like any stale or forged one.
        await query.answer(rendering.answer_expired())
        return
    if data.action == Review.EDIT_SUMMARY:
        article = await services.repo.articles.get(data.article_id)
        if article is None:
            await query.answer(view.decided(ReviewOutcome(Decision.NOT_FOUND)))
            return
        await query.answer(view.summary_answer())
        await reply(update, view.summary_prompt(article))
        return
    outcome = await _decide(services, data.action, data.article_id, by=_editor(update))
    await query.answer(view.decided(outcome))


async def post(update: Update, context: NewswireContext) -> None:
    """/post <id>: publish a story waiting for review or held; /post alone lists them."""
    article_id = argument_text(context)[:ID_LIMIT]
    if not article_id:
        # An editor whose preview never arrived (they had not started the bot) finds it here.
        queue = await review.awaiting(context.services.repo, limit=LIST_LIMIT)
        await reply(update, view.awaiting_list(queue))
        return
    outcome = await _decide(context.services, Review.PUBLISH, article_id, by=_editor(update))
    await reply(update, view.decided_message(outcome))


async def hold(update: Update, context: NewswireContext) -> None:
    """/hold <id>: keep a story back; a queued one has its unsent posts stopped."""
    article_id = argument_text(context)[:ID_LIMIT]
    if not article_id:
        await reply(update, view.usage_hold())
        return
    outcome = await _decide(context.services, Review.HOLD, article_id, by=_editor(update))
    await reply(update, view.decided_message(outcome))


async def summary(update: Update, context: NewswireContext) -> None:
    """/summary <id> <text>: replace a story's summary; sent posts and previews are edited."""
    args = context.args or []
    if len(args) < 2:
        await reply(update, view.usage_summary())
        return
    services = context.services
    outcome = await review.replace_summary(
        services.repo,
        args[0][:ID_LIMIT],
        " ".join(args[1:]),
        by=_editor(update),
        now=services.clock(),
    )
    if outcome.edits:
        services.outbox_wakeup.set()
    await reply(update, view.summary_replaced(outcome, max_chars=SUMMARY_MAX_CHARS))


BUTTONS = [on_button(Review, pressed)]
