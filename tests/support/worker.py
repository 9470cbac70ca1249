"""A delivery worker on its own: a real SQLite outbox, the sandbox over HTTP, a DeliveryBot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from bot.delivery.caches import Renderer
from bot.delivery.transport import AiohttpRequest, DeliveryBot
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.rendering import Rendered
from bot.sandbox import Sandbox, SandboxServer
from content.models import Article, DeliveryKind, SubscriptionKind, chat_id_of
from content.storage import Repository
from tests.support.articles import make_article

TOKEN = "123456:worker-test-token-aaaaaaaaaaaaaaaaaa"
PUBLISHED = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def simple_render(article: Article, kind: DeliveryKind, zone: tzinfo) -> Rendered:
    """A post that is just the bold title."""
    return Rendered(f"<b>{article.title}</b>", None)


@dataclass
class WorkerRig:
    sandbox: Sandbox
    repo: Repository
    bot: DeliveryBot
    db_path: Path
    _tasks: list[tuple[DeliveryWorker, asyncio.Task[None]]]

    async def readers_following(self, chat_ids: list[int], *, topic: str = "food") -> None:
        """Readers known to the sandbox and the database, following `topic`."""
        for chat in chat_ids:
            self.sandbox.add_user(chat, "Reader")
            await self.repo.readers.upsert_chat(
                chat_id=chat_id_of(chat), first_name=None, username=None, now=PUBLISHED
            )
            await self.repo.readers.subscribe(
                chat_id=chat_id_of(chat), kind=SubscriptionKind.TOPIC, value=topic, now=PUBLISHED
            )

    async def publish(self, article_id: str, title: str, *, topic: str = "food") -> Article:
        """Store a story and plan its deliveries (no channels), as the pipeline would."""
        article = make_article(
            article_id, title=title, body="Body.", published=PUBLISHED, topics=(topic,)
        )
        await self.repo.articles.upsert(article, now=PUBLISHED)
        await self.repo.outbox.plan(article, channels=[], keyword_matches=[], now=PUBLISHED)
        return article

    def start(self, render: Renderer = simple_render, **config: Any) -> DeliveryWorker:
        """A worker running in a task; the rig stops it at the end."""
        worker = DeliveryWorker(
            repo=self.repo,
            bot=self.bot,
            render=render,
            clock=now,
            wakeup=asyncio.Event(),
            config=WorkerConfig(**config),
        )
        self._tasks.append((worker, asyncio.create_task(worker.run())))
        return worker

    async def stop(self, worker: DeliveryWorker) -> None:
        for running, task in self._tasks:
            if running is worker:
                worker.stop()
                await task

    def received(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sandbox.bot_messages(chat_id)]


@asynccontextmanager
async def delivery_bot(server: SandboxServer, token: str = TOKEN) -> AsyncIterator[DeliveryBot]:
    """The worker's Bot (on its aiohttp transport) against a served sandbox."""
    async with DeliveryBot(
        token,
        base_url=server.api_base_url,
        base_file_url=server.file_base_url,
        request=AiohttpRequest(),
    ) as bot:
        yield bot


@asynccontextmanager
async def worker_rig(tmp_path: Path) -> AsyncIterator[WorkerRig]:
    """A served sandbox, a migrated SQLite outbox and a DeliveryBot; workers started on it stop."""
    async with SandboxServer(Sandbox(bot_token=TOKEN), port=0) as server:
        db_path = tmp_path / "outbox.db"
        repo = Repository.open(f"sqlite+aiosqlite:///{db_path}")
        await repo.migrate()
        try:
            async with delivery_bot(server) as bot:
                rig = WorkerRig(server.sandbox, repo, bot, db_path, [])
                try:
                    yield rig
                finally:
                    for worker, task in rig._tasks:
                        worker.stop()
                        await asyncio.gather(task, return_exceptions=True)
        finally:
            await repo.close()
