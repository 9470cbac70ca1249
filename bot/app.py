"""Composition root: build the services, the PTB application, the jobs and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from dataclasses import dataclass

from telegram import BotCommand, Update
from telegram.ext import ApplicationBuilder, ContextTypes

from bot import rendering
from bot.config import Settings
from bot.context import NewswireApp, NewswireContext, Services, utc_now
from bot.delivery.pacing import PacerConfig
from bot.delivery.transport import AiohttpRequest, DeliveryBot
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.handlers import COMMANDS, all_handlers
from bot.jobs import scan_job
from bot.notify import AdminNotifier
from content.models import Article, DeliveryKind
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer, OpenAISummarizer, Summarizer

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:sandbox-token-not-a-secret-000000000"
SANDBOX_DEMO_CHANNEL = "@newswire_demo"


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
            await update.effective_message.reply_text(
                "Sorry, something went wrong. Please try again."
            )


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
        self.services = Services(
            repo=self.repo,
            summarizer=build_summarizer(settings),
            zone=settings.zone,
            channels=channels,
            admin_ids=frozenset(settings.admin_ids),
            content_dir=settings.content_dir,
            clock=utc_now,
        )
        self.application: NewswireApp = self._build_application()
        self._worker_task: asyncio.Task[None] | None = None
        self._send_bot: DeliveryBot | None = None
        self.worker: DeliveryWorker | None = None

    def _build_application(self) -> NewswireApp:
        application = (
            ApplicationBuilder()
            .token(self.endpoint.token)
            .base_url(self.endpoint.base_url)
            .base_file_url(self.endpoint.base_file_url)
            .context_types(ContextTypes(context=NewswireContext))
            .concurrent_updates(True)
            .build()
        )
        application.bot_data["services"] = self.services
        for handler in all_handlers(self.services.admin_ids):
            application.add_handler(handler)
        application.add_error_handler(_on_error)
        return application

    def _render(self, article: Article, kind: DeliveryKind) -> rendering.Rendered:
        username = self.application.bot.username
        if kind is DeliveryKind.CHANNEL:
            return rendering.channel_post(article, bot_username=username)
        return rendering.reader_alert(article, zone=self.services.zone, reason=None)

    async def start(self) -> None:
        await self.repo.migrate()
        app = self.application
        await app.initialize()
        notifier = AdminNotifier(app.bot, self.settings.admin_ids)
        app.bot_data["notifier"] = notifier
        if self.role.polls:
            await app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
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
                pacing=PacerConfig(global_per_second=self.settings.global_rate),
                notify=notifier.send,
                config=WorkerConfig(
                    concurrency=self.settings.worker_concurrency,
                    allow_paid_broadcast=self.settings.allow_paid_broadcast,
                ),
            )
            self._worker_task = asyncio.create_task(self.worker.run(), name="outbox-worker")
        log.info("bot @%s is running (role %s)", app.bot.username, self.role.value)

    async def stop(self) -> None:
        app = self.application
        if self.worker is not None and self._worker_task is not None:
            self.worker.stop()
            await self._worker_task
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self._send_bot is not None:
            await self._send_bot.shutdown()
        await self.repo.close()
