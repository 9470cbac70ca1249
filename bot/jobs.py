"""Thin scheduler adapters: each job calls one pipeline use-case with the current time."""

from __future__ import annotations

import logging

from bot.context import NewswireContext, Services
from bot.notify import AdminNotifier
from content.pipeline import plan_due, scan_folder

log = logging.getLogger(__name__)


async def scan_and_plan(services: Services, notifier: AdminNotifier | None = None) -> int:
    """Ingest the content folder and queue what became due; returns deliveries planned."""
    now = services.clock()
    report = await scan_folder(
        services.repo,
        services.content_dir,
        now=now,
        default_tz=services.zone,
        summarizer=services.summarizer,
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
    plan = await plan_due(services.repo, channels=services.channels, now=now)
    for article in plan.articles:
        log.info("publishing %s “%s”", article.id, article.title)
    if plan.deliveries or report.edits:
        services.outbox_wakeup.set()
    services.scan_count += 1
    return plan.deliveries


async def scan_job(context: NewswireContext) -> None:
    """JobQueue entry point: the folder watch."""
    await scan_and_plan(context.services, context.services.notifier)
