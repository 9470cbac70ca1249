"""What operators poll: `GET /healthz` (is this process working) and `GET /metrics`.

Neither needs a secret (operators keep them off the public internet): they show counts,
ages and error kinds, never a secret, a reader or an article.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from bot import metrics
from bot.context import Services
from bot.delivery.supervise import describe
from bot.web.server import SERVICES

log = logging.getLogger(__name__)

MAX_ROUND_AGE = 60.0  # the worker loop goes round at least every second when idle
DATABASE_TIMEOUT = 2.0


def _version() -> str:
    try:
        return version("newswire")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class HealthConfig:
    """Whether this process runs a delivery worker (else it runs elsewhere), and the limits."""

    worker_here: bool
    max_round_age: float = MAX_ROUND_AGE
    database_timeout: float = DATABASE_TIMEOUT
    version: str = _version()


HEALTH = web.AppKey("health", HealthConfig)


async def _database(services: Services, limit: float) -> str | None:
    """None when the database answers in time, else the problem in a few words."""
    try:
        await asyncio.wait_for(services.repo.ping(), limit)
    except TimeoutError:
        return f"database: no answer within {limit:g} s"
    except Exception as exc:
        # The details (hosts, paths) go to the log only; the answer names the kind of error.
        log.warning("health check: the database does not answer (%s)", describe(exc))
        return f"database: not answering ({type(getattr(exc, 'orig', None) or exc).__name__})"
    return None


def _worker(services: Services, config: HealthConfig) -> tuple[Any, str | None]:
    """The worker's part of the answer, and its problem if any."""
    if services.worker_health is None:
        if config.worker_here:
            return {"alive": False, "last_round_seconds": None}, "worker: not started"
        return "elsewhere", None  # a bot-only process: the workers answer for themselves
    health = services.worker_health()
    age = None if health.last_tick_age is None else round(health.last_tick_age, 1)
    shown = {"alive": health.alive, "last_round_seconds": age, "failing_rounds": health.failing_for}
    if not health.alive:
        return shown, "worker: stopped"
    if age is None:
        return shown, "worker: no round yet"
    if age > config.max_round_age:
        return shown, f"worker: no round for {age:.0f} s"
    return shown, None


async def healthz(request: web.Request) -> web.Response:
    """200 and `{"status": "ok", ...}`, or 503 and the problems by name."""
    services, config = request.app[SERVICES], request.app[HEALTH]
    problems = []
    database = await _database(services, config.database_timeout)
    if database is not None:
        problems.append(database)
    worker, worker_problem = _worker(services, config)
    if worker_problem is not None:
        problems.append(worker_problem)
    body: dict[str, Any] = {
        "status": "failing" if problems else "ok",
        "database": "failing" if database else "ok",
        "worker": worker,
        "version": config.version,
    }
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=503 if problems else 200)


async def metrics_route(request: web.Request) -> web.Response:
    """The process's metrics in Prometheus' text format (outbox gauges read now)."""
    services = request.app[SERVICES]
    try:
        await metrics.refresh_outbox(services.repo, now=services.clock())
    except Exception as exc:
        # The counters are still worth scraping; the gauges keep their last values.
        log.warning("metrics: could not read the outbox (%s)", describe(exc))
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})


def install(app: web.Application, config: HealthConfig) -> None:
    """Add `/healthz` and `/metrics` to Newswire's web app."""
    app[HEALTH] = config
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_route)
