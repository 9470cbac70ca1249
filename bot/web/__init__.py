"""Newswire's own web server: CMS pushes, Telegram webhooks, health and metrics."""

from __future__ import annotations

from bot.context import Services
from bot.web import health, push, webhook
from bot.web.health import HealthConfig
from bot.web.server import WebServer, WebServerError, build_app
from bot.web.webhook import WebhookConfig

__all__ = [
    "HealthConfig",
    "WebServer",
    "WebServerError",
    "WebhookConfig",
    "monitoring_server",
    "web_server",
]


def web_server(
    services: Services,
    *,
    host: str,
    port: int,
    push_secret: str | None,
    ghost_secret: str | None,
    telegram: WebhookConfig | None = None,
    health_config: HealthConfig | None = None,
) -> WebServer:
    """Newswire's web app with every feature's routes, ready to start."""
    app = build_app(services)
    push.install(app, push.PushConfig(push_secret=push_secret, ghost_secret=ghost_secret))
    health.install(app, health_config or HealthConfig(worker_here=False))
    if telegram is not None:
        webhook.install(app, telegram)
    return WebServer(app, host=host, port=port)


def monitoring_server(
    services: Services, *, host: str, port: int, health_config: HealthConfig
) -> WebServer:
    """Only `/healthz` and `/metrics`: a worker process's server (no pushes, no updates)."""
    app = build_app(services)
    health.install(app, health_config)
    return WebServer(app, host=host, port=port)
