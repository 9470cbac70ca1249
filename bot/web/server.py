"""Newswire's own web server (aiohttp): the app factory, JSON errors, start and stop.

Routes are added by feature modules (`push.install`, `webhook.install`, `health.install`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.context import Services

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServerError(Exception):
    """The web server cannot start (the port is taken, the host is wrong), in one line."""


class JsonError(Exception):
    """An error answer: `{"error": message}` with this HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> JsonError:
    """The error to raise for `{"error": message}` with `status`."""
    return JsonError(status, message)


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error answer is JSON; a bug is a 500 with the traceback in the log only."""
    try:
        return await handler(request)
    except JsonError as exc:
        return _answer(exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # aiohttp's own refusals (no such route, wrong method, body too large).
        return _answer(exc.status, (exc.reason or "error").lower())
    except Exception:
        log.exception("web request %s %s failed", request.method, request.path)
        return _answer(500, "internal error")


def build_app(services: Services) -> web.Application:
    """The app with its shared state; features add their routes to it."""
    app = web.Application(middlewares=[json_errors])
    app[SERVICES] = services
    return app


class WebServer:
    """Serves an app on host:port (port 0: a free one) until stopped."""

    def __init__(self, app: web.Application, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve; WebServerError with one line when the address cannot be used."""
        # access_log=None: request lines are not worth a log line each, and stay out of logs.
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=2)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._requested_port).start()
        except OSError as exc:
            await runner.cleanup()
            # asyncio rewrites strerror into a sentence of its own; the errno's text is shorter.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise WebServerError(
                f"cannot start the web server on {self.host}:{self._requested_port}: {reason}"
                " (set HTTP_PORT to a free port, or HTTP_HOST)"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("web server listening on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
