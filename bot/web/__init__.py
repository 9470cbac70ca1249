"""Newswire's own web server: CMS pushes now; health, metrics and Telegram webhooks later."""

from __future__ import annotations

from bot.context import Services
from bot.web import push
from bot.web.server import WebServer, WebServerError, build_app

__all__ = ["WebServer", "WebServerError", "web_server"]


def web_server(
    services: Services,
    *,
    host: str,
    port: int,
    push_secret: str | None,
    ghost_secret: str | None,
) -> WebServer:
    """Newswire's web app with every feature's routes, ready to start."""
    app = build_app(services)
    push.install(app, push.PushConfig(push_secret=push_secret, ghost_secret=ghost_secret))
    return WebServer(app, host=host, port=port)
