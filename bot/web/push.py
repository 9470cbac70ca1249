"""CMS push routes: `POST /push/articles` (Newswire's format) and `POST /push/ghost` (Ghost's).

A verified push becomes an Entry, goes through the one ingest path, is planned at once and the
worker is woken, so the channel post does not wait for the next scan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.context import Services
from bot.jobs import plan_and_wake, report_withdrawn
from bot.web.payloads import PayloadError, Pushed, ghost_entry, load_json, push_entry
from bot.web.server import SERVICES, JsonError, json_error
from bot.web.signing import MAX_SKEW_SECONDS, Verdict, verify_ghost, verify_newswire
from content.ingest import FullText, ingest_entries

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
_READ_CHUNK = 64 * 1024
MAX_REMEMBERED = 10_000  # signatures seen within the skew window


@dataclass
class Replays:
    """Signatures already accepted within the skew window: a replay is answered, not applied.

    Without this, an old `publish` replayed within 300 s of its signing would undo a later
    `update` of the same story.
    """

    clock: Callable[[], float] = time.time
    _seen: OrderedDict[str, tuple[float, str]] = field(default_factory=OrderedDict)

    def seen(self, signature: str) -> str | None:
        """The article id a signature was accepted for, if it was."""
        self._forget_old()
        found = self._seen.get(signature)
        return found[1] if found else None

    def remember(self, signature: str, article_id: str) -> None:
        self._seen[signature] = (self.clock(), article_id)
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)

    def _forget_old(self) -> None:
        # Twice the window: a timestamp may be up to 300 s in the future as well.
        horizon = self.clock() - 2 * MAX_SKEW_SECONDS
        while self._seen and next(iter(self._seen.values()))[0] < horizon:
            self._seen.popitem(last=False)


@dataclass(frozen=True)
class PushConfig:
    """The secrets the push routes check (None: that route answers 404)."""

    push_secret: str | None
    ghost_secret: str | None
    clock: Callable[[], float] = time.time


PUSH_CONFIG = web.AppKey("push_config", PushConfig)
_REPLAYS = web.AppKey("push_replays", Replays)
_LOCK = web.AppKey("push_lock", asyncio.Lock)


async def read_capped(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, or 413 when it is (or says it is) over `limit` bytes."""
    too_large = json_error(413, f"body over {limit:,} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def publish(services: Services, pushed: Pushed) -> str:
    """Ingest one pushed entry, plan what became due and wake the worker; returns its id."""
    now = services.clock()
    report = await ingest_entries(
        services.repo,
        [pushed.entry],
        now=now,
        summarizer=services.summarizer,
        default_tz=services.zone,
        full_text=FullText.NEVER,  # a push carries its body; nothing to fetch
    )
    await report_withdrawn(report, services.notifier)
    await plan_and_wake(
        services, now=now, edits=report.edits, deletes=report.deletes, via=" (pushed)"
    )
    stored = report.new or report.updated or report.withdrawn
    return stored[0] if stored else pushed.entry.article_id


async def _accept(
    request: web.Request, body: bytes, signature: str, parse: Callable[[], Pushed]
) -> web.Response:
    """Parse, dedupe by signature, publish under the lock, answer 202."""
    replays = request.app[_REPLAYS]
    try:
        pushed = parse()
    except PayloadError as exc:
        raise json_error(400, str(exc)) from None
    async with request.app[_LOCK]:
        # Checked under the lock: two copies of one request arriving together apply once.
        known = replays.seen(signature)
        if known is not None:
            return web.json_response({"id": known, "status": "duplicate"}, status=202)
        article_id = await publish(request.app[SERVICES], pushed)
        replays.remember(signature, article_id)
    log.info("push %s accepted for %s", pushed.action.value, article_id)
    return web.json_response({"id": article_id, "status": "queued"}, status=202)


def _refuse(verdict: Verdict) -> JsonError:
    log.warning("push refused: %s", verdict.value)
    return json_error(401, verdict.value)


async def push_articles(request: web.Request) -> web.Response:
    config = request.app[PUSH_CONFIG]
    if config.push_secret is None:
        raise json_error(404, "not found")
    body = await read_capped(request)
    signature = request.headers.get("X-Newswire-Signature")
    verdict = verify_newswire(
        config.push_secret,
        timestamp=request.headers.get("X-Newswire-Timestamp"),
        signature=signature,
        body=body,
        now=config.clock(),
    )
    if verdict is not Verdict.OK or signature is None:
        raise _refuse(verdict)
    zone = request.app[SERVICES].zone
    return await _accept(
        request, body, signature.strip().lower(), lambda: push_entry(load_json(body), zone=zone)
    )


async def push_ghost(request: web.Request) -> web.Response:
    config = request.app[PUSH_CONFIG]
    if config.ghost_secret is None:
        raise json_error(404, "not found")
    body = await read_capped(request)
    header = request.headers.get("X-Ghost-Signature")
    verdict = verify_ghost(config.ghost_secret, header=header, body=body, now=config.clock())
    if verdict is not Verdict.OK or header is None:
        raise _refuse(verdict)
    zone = request.app[SERVICES].zone
    return await _accept(
        request, body, header.strip().lower(), lambda: ghost_entry(load_json(body), zone=zone)
    )


def install(app: web.Application, config: PushConfig) -> None:
    """Add the push routes to Newswire's web app."""
    app[PUSH_CONFIG] = config
    app[_REPLAYS] = Replays(clock=config.clock)
    app[_LOCK] = asyncio.Lock()
    app.router.add_post("/push/articles", push_articles)
    app.router.add_post("/push/ghost", push_ghost)
