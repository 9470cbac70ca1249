"""Composition root: build the services, the PTB application, the jobs and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from dataclasses import dataclass
from datetime import tzinfo

from pydantic import SecretStr
from telegram import BotCommand, Update
from telegram.ext import ApplicationBuilder, ContextTypes

from bot import commands, rendering
from bot.bot_lock import BotLock
from bot.config import Settings
from bot.context import BotData, NewswireApp, NewswireContext, Services, utc_now
from bot.delivery.pacing import PacerConfig, SendWindow
from bot.delivery.replies import SharedBudgetLimiter
from bot.delivery.supervise import supervise
from bot.delivery.transport import AiohttpRequest, DeliveryBot
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.handlers import all_handlers
from bot.jobs import poll_job, release_job, scan_job
from bot.notify import AdminNotifier
from bot.web import WebServer, web_server
from content.fetching import Fetcher, default_user_agent
from content.ingest import FullText
from content.models import Article, DeliveryKind
from content.sources.polling import PollConfig, register_sources
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer, OpenAISummarizer, Summarizer

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:sandbox-token-not-a-secret-000000000"
SANDBOX_DEMO_CHANNEL = "@newswire_demo"
RELEASE_INTERVAL = 20.0  # seconds between looks for digests and quiet hours that ended


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


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


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
        if self.role.polls:
            # After the token is checked, before polling: a taken port stops start-up early.
            await self._start_web()  # raises WebServerError
            # One menu per language (Telegram shows the one matching the reader's app language).
            for language, menu in commands.menus():
                await app.bot.set_my_commands(
                    [BotCommand(c, d) for c, d in menu], language_code=language
                )
            await app.start()
            assert app.updater is not None and app.job_queue is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            app.job_queue.run_repeating(
                scan_job,
                interval=self.settings.scan_interval,
                first=0.1,
                name="scan",
                # A late tick is still worth running; two at once never are.
                job_kwargs={"misfire_grace_time": 30, "coalesce": True, "max_instances": 1},
            )
            # Digests and the ends of quiet hours: due times are whole minutes.
            app.job_queue.run_repeating(
                release_job,
                interval=RELEASE_INTERVAL,
                first=1.0,
                name="release",
                job_kwargs={"misfire_grace_time": 30, "coalesce": True, "max_instances": 1},
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
                interval=settings.feed_interval, full_text=FullText(settings.full_text)
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
