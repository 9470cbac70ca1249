"""Composition root: build the services, the PTB application, the jobs and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from telegram import BotCommand, Update
from telegram.ext import ApplicationBuilder, ContextTypes

from bot import commands, metrics, rendering
from bot.bot_lock import BotLock
from bot.config import Settings
from bot.context import BotData, NewswireApp, NewswireContext, Services, utc_now
from bot.delivery.pacing import PacerConfig, SendWindow
from bot.delivery.replies import SharedBudgetLimiter
from bot.delivery.supervise import supervise
from bot.delivery.transport import AiohttpRequest, DeliveryBot
from bot.delivery.worker import DeliveryWorker, Publishing, WorkerConfig
from bot.doctor import warn_at_start_up
from bot.handlers import all_handlers
from bot.jobs import (
    activity_job,
    poll_job,
    release_job,
    scan_job,
    statistics_job,
    unpin_job,
)
from bot.logs import add_secrets
from bot.notify import AdminNotifier
from bot.rendering import i18n
from bot.rendering.review import preview as review_preview
from bot.web import HealthConfig, WebhookConfig, WebServer, monitoring_server, web_server
from bot.web.webhook import ALLOWED_UPDATES
from content.fetching import Fetcher, default_user_agent
from content.ingest import FullText
from content.models import Article, DeliveryKind, Target
from content.preferences import DEFAULT_LANGUAGE
from content.routing import Route
from content.sources.polling import PollConfig, register_sources
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer, OpenAISummarizer, Summarizer

if TYPE_CHECKING:
    from bot.sandbox import Sandbox

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:sandbox-token-not-a-secret-000000000"
SANDBOX_DEMO_CHANNEL = "@newswire_demo"
RELEASE_INTERVAL = 20.0  # seconds between looks for digests and quiet hours that ended
STATISTICS_INTERVAL = 6 * 3600.0  # seconds between refreshes of the planner statistics
ACTIVITY_INTERVAL = 60.0  # seconds between samples of the queue (one per chart minute)
UNPIN_INTERVAL = 60.0  # seconds between looks for pinned breaking posts whose hours are over


def build_summarizer(settings: Settings) -> Summarizer:
    extractive = ExtractiveSummarizer()
    if settings.summarizer == "openai" and settings.summarizer_url and settings.summarizer_model:
        key = (
            settings.summarizer_api_key.get_secret_value() if settings.summarizer_api_key else None
        )
        return OpenAISummarizer(
            url=settings.summarizer_url,
            model=settings.summarizer_model,
            api_key=key,
            fallback=extractive,
        )
    return extractive


def sandbox_route_targets(sandbox: Sandbox, routes: Sequence[Route]) -> None:
    """CHANNEL_ROUTES in the sandbox: a chat becomes a channel, "chat:thread" a forum topic."""
    for route in routes:
        target = route.target
        if target.thread is None:
            sandbox.add_channel(target.chat)
        else:
            _sandbox_topic(sandbox, target)


def _sandbox_topic(sandbox: Sandbox, target: Target) -> None:
    """A forum holding the target's topic (topic ids are message ids: made up to it)."""
    assert target.thread is not None
    chat_id = sandbox.resolve_chat(target.chat)
    if chat_id is None:
        if target.chat.startswith("@"):
            chat_id = sandbox.add_forum(f"Forum {target.chat}", username=target.chat)
        else:
            chat_id = sandbox.add_forum(f"Forum {target.chat}", chat_id=int(target.chat))
    view = next(c for c in sandbox.chats() if c["id"] == chat_id)
    known = {t["message_thread_id"] for t in view.get("topics", ())}
    thread = max(known, default=1)
    while target.thread not in known and thread < target.thread:
        thread = sandbox.add_topic(chat_id, f"Topic {thread + 1}")
        known.add(thread)
    if target.thread not in known:
        log.warning("sandbox: no topic %d in %s; posts there fail", target.thread, target.chat)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass(frozen=True)
class Periodic:
    """A repeating job: what runs, every how many seconds, the first run, and its late grace."""

    callback: Callable[[NewswireContext], Coroutine[Any, Any, None]]
    interval: float
    first: float
    name: str
    grace: int  # seconds a late tick may still run


class Role(enum.Enum):
    """What this process does: poll updates and scan sources, send from the outbox, or both."""

    ALL = "all"
    BOT = "bot"
    WORKER = "worker"

    @property
    def polls(self) -> bool:
        return self is not Role.WORKER

    @property
    def sends(self) -> bool:
        return self is not Role.BOT


@dataclass
class Endpoint:
    """Where the Bot API is: real Telegram or the sandbox."""

    token: str
    base_url: str
    base_file_url: str


async def _on_error(update: object, context: NewswireContext) -> None:
    """Log the failure; tell the reader something went wrong instead of going silent."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(Exception):
            await update.effective_message.reply_text(rendering.went_wrong())


class Newswire:
    """The running product: bot, scheduler and delivery worker over one repository."""

    def __init__(
        self,
        settings: Settings,
        endpoint: Endpoint,
        *,
        channels: tuple[str, ...],
        role: Role = Role.ALL,
    ) -> None:
        self.settings = settings
        self.role = role
        self.endpoint = endpoint
        self.repo = Repository.open(settings.database_url)
        # One send window for the worker and the replies of this process (see replies.py).
        self.send_window = SendWindow(int(settings.global_rate))
        self.services = Services(
            repo=self.repo,
            summarizer=build_summarizer(settings),
            zone=settings.zone,
            channels=channels,
            admin_ids=frozenset(settings.admin_ids),
            content_dir=settings.content_dir,
            clock=utc_now,
            site_domains=tuple(settings.site_domains),
            feed_interval=settings.feed_interval,
            configured_sources=tuple(settings.sources),
            routes=settings.routes,
            review=settings.review,
            withdraw_on_file_removed=settings.withdraw_on_file_removed,
        )
        # One HTTP client for feeds, article pages and readers' links (closed at stop).
        self.services.fetcher = Fetcher(
            allow_private=settings.private_urls_allowed,
            user_agent=default_user_agent(settings.user_agent_contact),
        )
        self.application: NewswireApp = self._build_application()
        self._worker_task: asyncio.Task[None] | None = None
        self._send_bot: DeliveryBot | None = None
        self.worker: DeliveryWorker | None = None
        self.bot_lock = BotLock(self.repo, utc_now)
        self.web: WebServer | None = None

    def _build_application(self) -> NewswireApp:
        application = (
            ApplicationBuilder()
            .token(self.endpoint.token)
            .base_url(self.endpoint.base_url)
            .base_file_url(self.endpoint.base_file_url)
            .context_types(ContextTypes(context=NewswireContext, bot_data=BotData))
            .concurrent_updates(True)
            # Replies take their slots from the worker's shared budget (see replies.py).
            .rate_limiter(SharedBudgetLimiter(self.repo, self._pacing(), window=self.send_window))
            .build()
        )
        application.bot_data.install(self.services)
        application.add_handlers(all_handlers(self.services.admin_ids))
        application.add_error_handler(_on_error)
        return application

    def _pacing(self) -> PacerConfig:
        return PacerConfig(global_per_second=self.settings.global_rate)

    def _render(self, article: Article, kind: DeliveryKind, zone: tzinfo) -> rendering.Rendered:
        username = self.application.bot.username
        if kind is DeliveryKind.REVIEW:
            # The exact channel post (in the channel's language), then the editor's status line
            # and buttons in the editor's language (the worker renders in it).
            with i18n.using(i18n.translations_for(DEFAULT_LANGUAGE)):
                post = self._render(article, DeliveryKind.CHANNEL, zone)
            return review_preview(article, post)
        if kind is DeliveryKind.CHANNEL:
            return rendering.channel_post(article, bot_username=username)
        return rendering.reader_alert(article, zone=zone, reason=None)

    async def start(self) -> None:
        await self.repo.migrate()
        if self.role.polls:
            await self.bot_lock.acquire()  # raises AnotherBotRunning
        app = self.application
        await app.initialize()
        notifier = AdminNotifier(app.bot, self.settings.admin_ids)
        self.services.notifier = notifier
        if not self.role.polls:
            # Health and metrics only: every process answers /healthz (compose checks workers).
            await self._start_monitoring()  # raises WebServerError
        if self.role.polls:
            # A missing channel or a missing right is told now, not by posts going nowhere.
            await warn_at_start_up(app.bot, self.settings, self.services.channels, notifier.send)
            # After the token is checked, before polling: a taken port stops start-up early.
            await self._start_web()  # raises WebServerError
            # One menu per language (Telegram shows the one matching the reader's app language).
            for language, menu in commands.menus():
                await app.bot.set_my_commands(
                    [BotCommand(c, d) for c, d in menu], language_code=language
                )
            await app.start()
            assert app.updater is not None and app.job_queue is not None
            if self.settings.telegram_webhook_url:
                await self._set_webhook(self.settings.telegram_webhook_url)
            else:
                # PTB calls deleteWebhook first: switching back from webhook mode just works.
                await app.updater.start_polling(poll_interval=0.0, timeout=10)
            for job in self._periodic_jobs():
                app.job_queue.run_repeating(
                    job.callback,
                    interval=job.interval,
                    first=job.first,
                    name=job.name,
                    # A late tick is still worth running; two at once never are.
                    job_kwargs={
                        "misfire_grace_time": job.grace,
                        "coalesce": True,
                        "max_instances": 1,
                    },
                )
            await self._start_polling_sources()
        if self.role.sends:
            # The worker sends through its own bot with a lighter transport (see transport.py).
            self._send_bot = DeliveryBot(
                self.endpoint.token,
                base_url=self.endpoint.base_url,
                base_file_url=self.endpoint.base_file_url,
                request=AiohttpRequest(
                    connection_pool_size=max(8, self.settings.worker_concurrency * 2)
                ),
            )
            await self._send_bot.initialize()
            self.worker = DeliveryWorker(
                repo=self.repo,
                bot=self._send_bot,
                render=self._render,
                clock=self.services.clock,
                wakeup=self.services.outbox_wakeup,
                pacing=self._pacing(),
                notify=notifier.send,
                window=self.send_window,
                zone=self.services.zone,
                publishing=Publishing(
                    channel_options=self.settings.channel_option_table,
                    quiet=self.settings.channel_quiet,
                    pin_breaking=self.settings.pin_breaking,
                    pin_hours=self.settings.pin_hours,
                ),
                config=WorkerConfig(
                    concurrency=self.settings.worker_concurrency,
                    allow_paid_broadcast=self.settings.allow_paid_broadcast,
                ),
            )
            self.services.worker_health = self.worker.health  # shown by /stats
            # A worker task that dies anyway is logged at ERROR and started again.
            self._worker_task = asyncio.create_task(
                supervise("delivery worker", self.worker.run, stop=self.worker.stopping),
                name="outbox-worker",
            )
        log.info("bot @%s is running (role %s)", app.bot.username, self.role.value)

    def _periodic_jobs(self) -> list[Periodic]:
        """The polling process's fixed jobs; each ticks over due times kept in the database."""
        return [
            Periodic(scan_job, self.settings.scan_interval, 0.1, "scan", 30),
            # Digests and the ends of quiet hours: due times are whole minutes.
            Periodic(release_job, RELEASE_INTERVAL, 1.0, "release", 30),
            # Pinned breaking posts come down after PIN_HOURS (due times are on the rows).
            Periodic(unpin_job, UNPIN_INTERVAL, 2.0, "unpin", 60),
            # The queue's length once a minute, for the /stats chart.
            Periodic(activity_job, ACTIVITY_INTERVAL, 5.0, "activity", 30),
            # The planner's statistics, now and as the archive grows (SQLite keeps none).
            Periodic(statistics_job, STATISTICS_INTERVAL, 1.0, "statistics", 600),
        ]

    async def _start_polling_sources(self) -> None:
        """Register SOURCES (idempotent) and tick the poll job; each source keeps its own time."""
        settings = self.settings
        await register_sources(
            self.repo, settings.sources, now=self.services.clock(), interval=settings.feed_interval
        )
        assert self.application.job_queue is not None
        self.application.job_queue.run_repeating(
            poll_job,
            # The tick only looks for due sources: cheap, so at most every few seconds.
            interval=min(settings.feed_interval, settings.scan_interval, 5.0),
            first=0.2,
            name="poll",
            data=PollConfig(
                interval=settings.feed_interval,
                full_text=FullText(settings.full_text),
                observe=metrics.feed_polled,
            ),
            job_kwargs={"misfire_grace_time": 30, "coalesce": True, "max_instances": 1},
        )

    async def _start_web(self) -> None:
        """Newswire's own web server (CMS pushes), in the process that polls."""
        settings = self.settings
        self.web = web_server(
            self.services,
            host=settings.http_host,
            port=settings.http_port,
            push_secret=_secret(settings.push_secret),
            ghost_secret=_secret(settings.ghost_webhook_secret),
            telegram=self._webhook(),
            health_config=HealthConfig(worker_here=self.role.sends),
        )
        await self.web.start()

    def _webhook(self) -> WebhookConfig | None:
        """Webhook mode's route (TELEGRAM_WEBHOOK_URL), or None when polling."""
        url = self.settings.telegram_webhook_url
        secret = _secret(self.settings.telegram_webhook_secret)
        if not url or not secret:
            return None
        add_secrets(secret)  # never logged, whoever built the settings
        return WebhookConfig(url=url, secret=secret, application=self.application)

    async def _set_webhook(self, url: str) -> None:
        """Ask Telegram to POST updates to our server (instead of long polling)."""
        await self.application.bot.set_webhook(
            url,
            secret_token=_secret(self.settings.telegram_webhook_secret),
            allowed_updates=ALLOWED_UPDATES,
            # Updates that came while Newswire was down are still wanted.
            drop_pending_updates=False,
        )
        # Left set at stop: Telegram keeps what arrives meanwhile, and a stopping process
        # must not remove the webhook a new one (a rolling restart) has just set.
        where = urlsplit(url)
        log.info("updates come by webhook to %s://%s%s", where.scheme, where.netloc, where.path)

    async def _start_monitoring(self) -> None:
        """A worker process's web server: /healthz and /metrics on HTTP_PORT."""
        self.web = monitoring_server(
            self.services,
            host=self.settings.http_host,
            port=self.settings.http_port,
            health_config=HealthConfig(worker_here=self.role.sends),
        )
        await self.web.start()

    async def stop(self) -> None:
        app = self.application
        if self.web is not None:
            await self.web.stop()  # no new pushes while the rest stops
        if self.worker is not None and self._worker_task is not None:
            self.worker.stop()
            try:
                await self._worker_task
            except Exception:
                # The rest of the stop must still run (polling, sessions, the database).
                log.exception("delivery worker failed while stopping")
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self._send_bot is not None:
            await self._send_bot.shutdown()
        if self.services.fetcher is not None:
            await self.services.fetcher.close()
        await self.bot_lock.release()
        await self.repo.close()
