"""A local HTTP server for fetching tests: feeds, pages, JSON; ETag/304, redirects, errors.

    async with LocalServer() as server:
        url = server.serve("/feed.xml", body, content_type="application/rss+xml", etag='"v1"')
        server.redirect("/old", "/feed.xml", status=301)
        server.serve("/gone", b"", status=410)
        server.serve("/slow", b"...", stall=True)  # never answers until the server stops

Plus `StubResolver` (fake host names to chosen addresses, no network) and `reroute`, which
sends connections aimed at a public address to the local server, so the address guard can be
tested against names that look public.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    brotli = None


@dataclass
class Answer:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/plain"  # the whole header value, charset included
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # a matching If-None-Match gets 304
    last_modified: str | None = None  # a matching If-Modified-Since gets 304
    encoding: str | None = None  # "gzip" or "br": the body is sent compressed
    stall: bool = False  # hold the request open until the server stops


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LocalServer:
    """An aiohttp server on 127.0.0.1 with answers set per path; records every request."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer | Handler] = {}
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes | str = b"", **answer: Any) -> str:
        """Answer `path` with `body` (and Answer's options); returns its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.answers[path] = Answer(body=data, **answer)
        return self.url(path)

    def handle(self, path: str, handler: Handler) -> str:
        """Answer `path` with a handler of one's own; returns its URL."""
        self.answers[path] = handler
        return self.url(path)

    def redirect(self, path: str, to: str, *, status: int = 302) -> str:
        """Redirect `path` to `to` (a path or an absolute URL); returns its URL."""
        return self.serve(path, status=status, content_type=None, headers={"Location": to})

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers))
        )
        answer = self.answers.get(request.path)
        if answer is None:
            return web.Response(status=404, text="not here")
        if not isinstance(answer, Answer):
            return await answer(request)
        if answer.stall:
            await self._closing.wait()
        headers = dict(answer.headers)
        if answer.etag:
            headers["ETag"] = answer.etag
        if answer.last_modified:
            headers["Last-Modified"] = answer.last_modified
        if (answer.etag and request.headers.get("If-None-Match") == answer.etag) or (
            answer.last_modified
            and request.headers.get("If-Modified-Since") == answer.last_modified
        ):
            return web.Response(status=304, headers=headers)
        body = answer.body
        if answer.encoding == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        elif answer.encoding == "br":
            assert brotli is not None
            body = brotli.compress(body)
            headers["Content-Encoding"] = "br"
        if answer.content_type:
            headers["Content-Type"] = answer.content_type
        return web.Response(status=answer.status, body=body, headers=headers)


class StubResolver(AbstractResolver):
    """Resolves the given names to the given addresses; any other name does not exist."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"unknown host {host}")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in self.names[host]
        ]

    async def close(self) -> None:
        return None


@contextlib.contextmanager
def reroute(routes: dict[tuple[str, int], tuple[str, int]]) -> Iterator[None]:
    """Connections the running loop makes to an (address, port) go to another one instead."""
    loop = asyncio.get_running_loop()
    original = loop.sock_connect

    async def sock_connect(sock: socket.socket, address: Any) -> None:
        target = routes.get((address[0], address[1]))
        await original(sock, target if target is not None else address)

    loop.sock_connect = sock_connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        del loop.sock_connect  # back to the class's method
