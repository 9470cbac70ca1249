"""Newswire's web server over real HTTP: signatures, refusals, JSON errors, the port.

What a signed push then does to the channel is in test_e2e_push.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.context import Services
from bot.web import WebServer, WebServerError, web_server
from bot.web.payloads import Action, PayloadError, ghost_entry, push_entry
from bot.web.signing import (
    Verdict,
    ghost_signature,
    newswire_signature,
    verify_ghost,
    verify_newswire,
)
from content.storage import Repository
from content.summarizing import ExtractiveSummarizer
from tests.support.cli import cli_env, run_cli
from tests.support.push import GHOST_SECRET, PUSH_SECRET, Pusher, article, encode, ghost_post

SGT = ZoneInfo("Asia/Singapore")
BODY = b'{"title": "x"}'


def services_for(repo: Repository, tmp_path: Path) -> Services:
    return Services(
        repo=repo,
        summarizer=ExtractiveSummarizer(),
        zone=SGT,
        channels=("@newswire_test",),
        admin_ids=frozenset(),
        content_dir=tmp_path,
    )


async def served(
    repo: Repository, tmp_path: Path, *, push: str | None, ghost: str | None
) -> WebServer:
    server = web_server(
        services_for(repo, tmp_path), host="127.0.0.1", port=0, push_secret=push, ghost_secret=ghost
    )
    await server.start()
    return server


# Overrides tests.support.push's `pusher`: these tests need no stack, only a web server.
@pytest.fixture
async def pusher(repo: Repository, tmp_path: Path) -> AsyncIterator[Pusher]:
    """A pusher against a web server with both secrets set (nothing is published here)."""
    server = await served(repo, tmp_path, push=PUSH_SECRET, ghost=GHOST_SECRET)
    try:
        async with Pusher(server.url) as client:
            yield client
    finally:
        await server.stop()


# -- signatures -------------------------------------------------------------------------------


def test_newswire_signature_is_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert newswire_signature("s3cret", 1_700_000_000, BODY) == f"sha256={expected}"


def test_verify_newswire_verdicts() -> None:
    now = 1_700_000_000.0
    good = newswire_signature("s3cret", 1_700_000_000, BODY)

    def verdict(timestamp: str | None, signature: str | None, at: float = now) -> Verdict:
        return verify_newswire(
            "s3cret", timestamp=timestamp, signature=signature, body=BODY, now=at
        )

    assert verdict("1700000000", good) is Verdict.OK
    assert verdict("1700000000", good, now + 300) is Verdict.OK
    assert verdict(None, good) is Verdict.MISSING
    assert verdict("1700000000", None) is Verdict.MISSING
    assert verdict("17e8", good) is Verdict.MALFORMED
    assert verdict("1700000000", good.upper().replace("SHA256=", "sha256=")) is Verdict.OK
    assert verdict("1700000000", "sha256=" + "0" * 64) is Verdict.WRONG
    assert verdict("1700000000", good[7:]) is Verdict.WRONG  # without "sha256="
    assert verdict("1700000001", good) is Verdict.WRONG  # the timestamp is signed too
    assert verdict("1700000000", good, now + 301) is Verdict.STALE
    assert verdict("1700000000", good, now - 301) is Verdict.STALE
    other = newswire_signature("other", 1_700_000_000, BODY)
    assert verdict("1700000000", other) is Verdict.WRONG


def test_ghost_signature_follows_ghosts_webhook_trigger() -> None:
    """Ghost: sha256=HMAC(secret, `${JSON body}${Date.now()}`) hex, then `, t=<ms>`."""
    stamp = 1_700_000_000_123
    digest = hmac.new(b"ghost", BODY + b"1700000000123", hashlib.sha256).hexdigest()
    header = f"sha256={digest}, t={stamp}"
    assert ghost_signature("ghost", BODY, stamp) == header
    now = stamp / 1000
    assert verify_ghost("ghost", header=header, body=BODY, now=now) is Verdict.OK
    assert verify_ghost("ghost", header=header, body=BODY + b" ", now=now) is Verdict.WRONG
    assert verify_ghost("other", header=header, body=BODY, now=now) is Verdict.WRONG
    assert verify_ghost("ghost", header=header, body=BODY, now=now + 301) is Verdict.STALE
    assert verify_ghost("ghost", header=f"sha256={digest}", body=BODY, now=now) is Verdict.MALFORMED
    assert verify_ghost("ghost", header=None, body=BODY, now=now) is Verdict.MISSING


# -- payloads -----------------------------------------------------------------------------------


def test_push_entry_maps_every_field() -> None:
    pushed = push_entry(article(7, image="https://img.example.com/a.jpg"), zone=SGT)
    entry = pushed.entry
    assert pushed.action is Action.PUBLISH
    assert (entry.source, entry.key, entry.explicit_id) == ("push", "push-7", "push-7")
    assert entry.article_id == "push-7"
    assert entry.author == "Jane Tan" and entry.tags == ("transport",)
    assert entry.published is not None and entry.published.utcoffset() is not None
    assert entry.body_html is not None and entry.body_html.startswith("<p>")
    assert not entry.withdrawn


def test_push_entry_plain_text_body_and_naive_time() -> None:
    data = article(8, id=None, body="First paragraph.\n\nSecond one.", published="2026-07-01T09:30")
    entry = push_entry(data, zone=SGT).entry
    assert entry.paragraphs == ("First paragraph.", "Second one.") and entry.body_html is None
    assert entry.key == "https://news.example.com/2026/07/push-8"  # the canonical link
    assert entry.published is not None and entry.published.tzinfo == SGT


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "  "}, "title"),
        ({"body": None}, "body"),
        ({"title": 5}, "title"),
        ({"published": "yesterday"}, "published"),
        ({"publish_at": "3026-01-01T00:00:00Z"}, "publish_at"),
        ({"tags": [1, 2]}, "tags"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"id": "no spaces allowed"}, "id"),
        ({"action": "explode"}, "action"),
    ],
)
def test_push_entry_refusals_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(PayloadError, match=rf"^{field}:"):
        push_entry(article(1, **fields), zone=SGT)


def test_delete_needs_only_an_id() -> None:
    pushed = push_entry({"id": "push-1", "action": "delete"}, zone=SGT)
    assert pushed.action is Action.DELETE and pushed.entry.withdrawn
    assert pushed.entry.article_id == "push-1"


def test_ghost_events_are_told_apart_by_the_post() -> None:
    published = ghost_entry({"post": {"current": ghost_post(1), "previous": {}}}, zone=SGT)
    assert published.action is Action.PUBLISH
    entry = published.entry
    assert entry.source == "ghost" and entry.author == "Ghost Writer"
    assert entry.tags == ("Food",)  # the internal #tag is left out
    assert entry.url == "https://ghost.example.com/ghost-story-1/"
    # Unpublished: a draft now, with a preview URL; the story is at the old one.
    draft = ghost_post(1, status="draft", url="https://ghost.example.com/p/0f0c8f2e/")
    previous = {"status": "published", "url": "https://ghost.example.com/ghost-story-1/"}
    unpublished = ghost_entry({"post": {"current": draft, "previous": previous}}, zone=SGT)
    assert unpublished.action is Action.DELETE and unpublished.entry.withdrawn
    assert unpublished.entry.article_id == entry.article_id
    deleted = ghost_entry({"post": {"current": {}, "previous": ghost_post(1)}}, zone=SGT)
    assert deleted.action is Action.DELETE and deleted.entry.article_id == entry.article_id


# -- the server over HTTP -------------------------------------------------------------------------


async def test_push_routes_are_404_without_secrets(repo: Repository, tmp_path: Path) -> None:
    server = await served(repo, tmp_path, push=None, ghost=None)
    try:
        async with Pusher(server.url) as client:
            answer = await client.push(article(1))
            assert (answer.status, answer.body) == (404, {"error": "not found"})
            answer = await client.ghost_hook(ghost_post(1))
            assert answer.status == 404
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("no-signature", "missing signature or timestamp"),
        ("wrong-secret", "wrong signature"),
        ("stale", "timestamp more than 300 s away"),
        ("future", "timestamp more than 300 s away"),
    ],
)
async def test_bad_signatures_get_401_and_store_nothing(
    pusher: Pusher, repo: Repository, change: str, reason: str
) -> None:
    body = encode(article(1))
    if change == "no-signature":
        headers = {"Content-Type": "application/json"}
    elif change == "wrong-secret":
        headers = pusher.signed_headers(body, secret="not-the-secret")
    else:
        offset = -301 if change == "stale" else 301
        headers = pusher.signed_headers(body, timestamp=int(time.time()) + offset)
    answer = await pusher.post("/push/articles", body, headers)
    assert (answer.status, answer.body) == (401, {"error": reason})
    assert await repo.articles.count() == 0


async def test_ghost_signature_checked_on_the_route(pusher: Pusher, repo: Repository) -> None:
    answer = await pusher.ghost_hook(ghost_post(1), secret="not-ghosts-secret")
    assert (answer.status, answer.body) == (401, {"error": "wrong signature"})
    stale = int((time.time() - 400) * 1000)
    answer = await pusher.ghost_hook(ghost_post(1), timestamp_ms=stale)
    assert answer.status == 401
    assert await repo.articles.count() == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: expected a JSON object"),
        (b"\xff\xfe", "body: not valid JSON"),
        (encode(article(1, title=None)), "title: required"),
        (encode(article(1, body="")), "body: required"),
        (encode(article(1, published="1 July")), "published: expected an ISO 8601 time"),
        (encode(article(1, tags={"a": 1})), "tags: expected a list of strings"),
    ],
)
async def test_bad_articles_get_400_naming_the_field(
    pusher: Pusher, repo: Repository, body: bytes, error: str
) -> None:
    answer = await pusher.push(body)
    assert (answer.status, answer.body) == (400, {"error": error})
    assert await repo.articles.count() == 0


async def test_over_two_megabytes_is_413(pusher: Pusher) -> None:
    big = encode(article(1, body="word " * 450_000))
    assert len(big) > 2 * 1024 * 1024
    answer = await pusher.push(big)
    assert answer.status == 413 and "body over" in answer.body["error"]


async def test_over_two_megabytes_without_a_length_is_413(pusher: Pusher) -> None:
    """A chunked body has no Content-Length: the read itself is capped."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    assert pusher._session is not None
    async with pusher._session.post(
        pusher.base_url + "/push/articles", data=chunks(), headers=pusher.signed_headers(b"")
    ) as resp:
        assert resp.status == 413
        assert "body over" in json.loads(await resp.read())["error"]


async def test_every_error_answer_is_json(pusher: Pusher) -> None:
    assert pusher._session is not None
    async with pusher._session.get(pusher.base_url + "/nowhere") as resp:
        assert resp.status == 404 and (await resp.json())["error"]
    async with pusher._session.get(pusher.base_url + "/push/articles") as resp:
        assert resp.status == 405 and (await resp.json())["error"]


async def test_a_handler_bug_is_a_500_json_with_the_traceback_logged(
    pusher: Pusher, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object) -> str:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr("bot.web.push.publish", broken)
    with caplog.at_level(logging.ERROR, logger="bot.web"):
        answer = await pusher.push(article(1))
    assert (answer.status, answer.body) == (500, {"error": "internal error"})
    (record,) = [r for r in caplog.records if r.name == "bot.web.server"]
    assert record.exc_info is not None and "storage exploded" in str(record.exc_info[1])
    assert PUSH_SECRET not in caplog.text


async def test_port_in_use_is_one_clear_line(repo: Repository, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = web_server(
            services_for(repo, tmp_path),
            host="127.0.0.1",
            port=port,
            push_secret=None,
            ghost_secret=None,
        )
        with pytest.raises(WebServerError) as caught:
            await server.start()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "HTTP_PORT" in message
    assert "\n" not in message


async def test_the_server_answers_on_its_port(pusher: Pusher) -> None:
    assert pusher._session is not None
    async with pusher._session.post(pusher.base_url + "/push/articles") as resp:
        assert resp.status == 401  # reached, and refused without a signature


async def test_newswire_run_with_the_port_taken_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = cli_env(tmp_path, HTTP_PORT=str(port), PUSH_SECRET=PUSH_SECRET)
        result = await run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    # The sandbox (no token here) logs its own start and stop around the one failure line.
    lines = [line for line in result.stderr.splitlines() if "newswire:" in line]
    assert "Traceback" not in result.stderr
    assert lines == [
        f"newswire: cannot start the web server on 127.0.0.1:{port}: Address already in use"
        " (set HTTP_PORT to a free port, or HTTP_HOST)"
    ]
    assert PUSH_SECRET not in result.stdout + result.stderr
