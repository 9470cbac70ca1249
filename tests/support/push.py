"""Pushing to Newswire's web server as a CMS would: signed JSON over real HTTP (tests, benches)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.web.signing import ghost_signature, newswire_signature
from tests.support.stack import Stack

PUSH_SECRET = "push-secret-for-tests-0123456789"
GHOST_SECRET = "ghost-secret-for-tests-0123456789"
# `stack_settings` for a stack that takes pushes (override the fixture with this).
PUSH_SETTINGS: dict[str, Any] = {"push_secret": PUSH_SECRET, "ghost_webhook_secret": GHOST_SECRET}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def article(n: int | str = 1, **fields: Any) -> dict[str, Any]:
    """A pushed article with every field; `fields` override them."""
    data: dict[str, Any] = {
        "id": f"push-{n}",
        "url": f"https://news.example.com/2026/07/push-{n}",
        "title": f"Pushed story number {n} about the new MRT line",
        "standfirst": "Commuters will save up to 20 minutes a day.",
        "author": "Jane Tan",
        "published": "2026-07-01T09:30:00+08:00",
        "body": (
            f"<p>The new MRT line number {n} opens on Monday, the transport ministry said.</p>"
            "<p>Trains will run every three minutes at peak hours from the first week.</p>"
            "<p>Bus services along the route will be adjusted, the operator added.</p>"
        ),
        "tags": ["transport"],
    }
    data.update(fields)
    return data


def ghost_post(n: int | str = 1, **fields: Any) -> dict[str, Any]:
    """The `current` post of a Ghost webhook, shaped as Ghost's Admin API serializes it."""
    post: dict[str, Any] = {
        "id": f"64b7f0c2a1d3e5000{n:0>7}"[-24:],
        "uuid": "0f0c8f2e-3d0c-4f7e-9c41-1a2b3c4d5e6f",
        "title": f"Ghost story {n}: hawker centre opens round the clock",
        "slug": f"ghost-story-{n}",
        "html": (
            "<p>A 24-hour hawker centre opens in Punggol next month, the agency said.</p>"
            "<p>Twenty stalls will stay open through the night on weekends.</p>"
        ),
        "plaintext": "A 24-hour hawker centre opens in Punggol next month.",
        "status": "published",
        "url": f"https://ghost.example.com/ghost-story-{n}/",
        "excerpt": "A 24-hour hawker centre opens in Punggol next month.",
        "custom_excerpt": None,
        "feature_image": None,
        "published_at": "2026-07-01T01:30:00.000Z",
        "updated_at": "2026-07-01T01:30:00.000Z",
        "primary_author": {"id": "1", "name": "Ghost Writer"},
        "tags": [{"id": "t1", "name": "Food"}, {"id": "t2", "name": "#internal"}],
    }
    post.update(fields)
    return post


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


class Pusher:
    """Signs and posts to one Newswire web server."""

    def __init__(self, base_url: str, *, secret: str = PUSH_SECRET, ghost: str = GHOST_SECRET):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.ghost = ghost
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Pusher:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST raw bytes with exactly these headers."""
        assert self._session is not None
        async with self._session.post(self.base_url + path, data=body, headers=headers) as resp:
            return Answer(resp.status, await resp.json(content_type=None))

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        stamp = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            "X-Newswire-Timestamp": str(stamp),
            "X-Newswire-Signature": newswire_signature(secret or self.secret, stamp, body),
        }

    async def push(
        self, data: Any, *, timestamp: int | None = None, secret: str | None = None
    ) -> Answer:
        """A signed `POST /push/articles` of `data` (bytes are sent as they are)."""
        body = data if isinstance(data, bytes) else encode(data)
        headers = self.signed_headers(body, timestamp=timestamp, secret=secret)
        return await self.post("/push/articles", body, headers)

    async def ghost_hook(
        self,
        current: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        timestamp_ms: int | None = None,
        secret: str | None = None,
    ) -> Answer:
        """A `POST /push/ghost` signed the way Ghost signs its webhooks."""
        body = encode({"post": {"current": current, "previous": previous or {}}})
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        headers = {
            "Content-Type": "application/json",
            "X-Ghost-Signature": ghost_signature(secret or self.ghost, body, stamp),
        }
        return await self.post("/push/ghost", body, headers)


@pytest.fixture
async def pusher(stack: Stack) -> AsyncIterator[Pusher]:
    """A pusher against the stack's web server (override `stack_settings` with PUSH_SETTINGS)."""
    assert stack.newswire.web is not None
    async with Pusher(stack.newswire.web.url) as client:
        yield client
