"""Thin scheduler adapters: each job calls one pipeline use-case with the current time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Bot

from bot.context import NewswireContext, Services
from bot.delivery.pins import unpin_due
from bot.notify import AdminNotifier
from bot.progress import progress_factory
from content.models import IngestReport
from content.pipeline import plan_due, release_due, scan_folder
from content.sources.polling import PollConfig, poll_due

log = logging.getLogger(__name__)

ACTIVITY_KEPT = timedelta(days=2)  # the chart shows 24 hours; a day more for a look back


async def plan_and_wake(
    services: Services, *, now: datetime, edits: int = 0, deletes: int = 0, via: str = ""
) -> int:
    """Queue what became due and wake the worker when there is something to send, edit or delete."""
    plan = await plan_due(
        services.repo,
        channels=services.channels,
        now=now,
        default_zone=services.zone,
        routes=services.routes,
        review=services.review,
        editors=[str(editor) for editor in sorted(services.admin_ids)],
    )
    for article in plan.reviews:
        log.info("sent %s “%s” to the editors for review", article.id, article.title)
    for article in plan.articles:
        log.info("publishing %s “%s”%s", article.id, article.title, via)
    if plan.deliveries or edits or deletes:
        services.outbox_wakeup.set()
    return plan.deliveries


async def scan_and_plan(services: Services, notifier: AdminNotifier | None = None) -> int:
    """Ingest the content folder and queue what became due; returns deliveries planned."""
    now = services.clock()
    report = await scan_folder(
        services.repo,
        services.content_dir,
        now=now,
        default_tz=services.zone,
        summarizer=services.summarizer,
        show_progress=progress_factory(logger=log),  # the first start's archive import
        withdraw_removed=services.withdraw_on_file_removed,
    )
    for change in report.status_changes:
        # Once per change (the pipeline remembers), not at every scan.
        if change.available:
            log.info("content folder %s is back", change.source)
            text = f"Content folder {change.source} is back: reading articles again."
        else:
            log.warning("content folder %s %s", change.source, change.reason)
            text = (
                f"Content folder {change.source} {change.reason}: "
                "nothing new is read until it is back."
            )
        if notifier is not None:
            await notifier.send(text)
    for error in report.errors:
        log.warning("skipped article file %s: %s", error.source, error.reason)
        if notifier is not None:
            await notifier.send(f"Skipped article file {error.source}: {error.reason}")
    if report.new or report.updated:
        log.info("articles: %d new, %d updated", len(report.new), len(report.updated))
    if report.edits:
        log.info("%d sent channel posts queued to be edited", report.edits)
    await report_withdrawn(report, notifier)
    planned = await plan_and_wake(services, now=now, edits=report.edits, deletes=report.deletes)
    services.scan_count += 1
    return planned


async def report_withdrawn(report: IngestReport, notifier: AdminNotifier | None) -> None:
    """Log what sources took back; tell editors when posts they can see are being deleted."""
    if not report.withdrawn:
        return
    ids = ", ".join(report.withdrawn[:10]) + (", …" if len(report.withdrawn) > 10 else "")
    log.info(
        "%d stories withdrawn (%s); %d channel posts queued to be deleted",
        len(report.withdrawn),
        ids,
        report.deletes,
    )
    if report.deletes and notifier is not None:
        # Stories that were never posted vanish quietly: only deleted posts surprise editors.
        stories, posts = len(report.withdrawn), report.deletes
        await notifier.send(
            f"Withdrawn at the source: {stories} {'story' if stories == 1 else 'stories'}"
            f" ({ids}); {posts} channel {'post is' if posts == 1 else 'posts are'} being deleted."
        )


async def scan_job(context: NewswireContext) -> None:
    """JobQueue entry point: the folder watch."""
    await scan_and_plan(context.services, context.services.notifier)


async def poll_and_plan(
    services: Services, config: PollConfig, notifier: AdminNotifier | None = None
) -> int:
    """Poll the feeds and sites that are due, then queue what became due; deliveries planned."""
    now = services.clock()
    fetcher = services.fetcher
    if fetcher is None:
        return 0
    report = await poll_due(
        services.repo,
        fetcher,
        now=now,
        summarizer=services.summarizer,
        default_tz=services.zone,
        config=config,
    )
    for change in report.status_changes:
        # Once per change (the poller remembers), not at every poll.
        if change.available:
            log.info("source %s is back", change.source)
            text = f"Source {change.source} is working again."
        else:
            log.warning("source %s %s", change.source, change.reason)
            text = f"Source {change.source} {change.reason}"
        if notifier is not None:
            await notifier.send(text)
    for error in report.errors:
        # Reported once per version of the item (the item map remembers).
        log.warning("skipped %s: %s", error.source, error.reason)
        if notifier is not None:
            await notifier.send(f"Skipped {error.source}: {error.reason}")
    if report.new or report.updated:
        log.info("source items: %d new, %d updated", len(report.new), len(report.updated))
    await report_withdrawn(report, notifier)
    planned = await plan_and_wake(services, now=now, edits=report.edits, deletes=report.deletes)
    services.poll_count += 1
    return planned


async def poll_job(context: NewswireContext) -> None:
    """JobQueue entry point: the feeds and sites (`job.data` is the PollConfig)."""
    job = context.job
    config = job.data if job is not None and isinstance(job.data, PollConfig) else PollConfig()
    try:
        await poll_and_plan(context.services, config, context.services.notifier)
    except Exception:
        # The database being away or a bug: logged, and the next tick tries again.
        log.exception("polling the sources failed")


async def release_held(services: Services) -> int:
    """Queue the digests and "While you were away" messages that fell due; returns how many."""
    queued = await release_due(services.repo, now=services.clock())
    if queued:
        log.info("%d digests queued", queued)
        services.outbox_wakeup.set()
    return queued


async def unpin_expired(services: Services, bot: Bot, *, now: datetime) -> int:
    """Unpin breaking stories' posts whose PIN_HOURS are over; returns pins settled."""
    return await unpin_due(services.repo, bot, now=now)


async def unpin_job(context: NewswireContext) -> None:
    """JobQueue entry point: pins whose time is up."""
    try:
        await unpin_expired(context.services, context.bot, now=context.services.clock())
    except Exception:
        # The database being away or a bug: logged, and the next tick tries again.
        log.exception("unpinning posts failed")


async def sample_activity(services: Services) -> int:
    """Note the waiting queue's length for this minute (the /stats chart); forget old minutes."""
    now = services.clock()
    waiting = await services.repo.activity.record_pending(now=now)
    await services.repo.activity.prune(before=now - ACTIVITY_KEPT)
    return waiting


async def statistics_job(context: NewswireContext) -> None:
    """JobQueue entry point: refresh the database planner's statistics as tables grow."""
    try:
        await context.services.repo.refresh_statistics()
    except Exception:
        log.exception("refreshing the database statistics failed")


async def activity_job(context: NewswireContext) -> None:
    """JobQueue entry point: once a minute, the queue for the /stats chart."""
    try:
        await sample_activity(context.services)
    except Exception:
        # The database being away: this minute stays blank in the chart.
        log.exception("sampling the queue for /stats failed")


async def release_job(context: NewswireContext) -> None:
    """JobQueue entry point: digests and the ends of quiet hours."""
    try:
        await release_held(context.services)
    except Exception:
        # The database being away or a bug: logged, and the next tick tries again.
        log.exception("releasing held stories failed")
