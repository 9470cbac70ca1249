"""`newswire doctor` against a served sandbox, and the same Telegram checks at start-up."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot

from bot.doctor import Check, Status, check_port
from bot.sandbox import Sandbox, SandboxServer
from content.storage import Repository, SourceKind
from tests.support.articles import SAMPLE
from tests.support.cli import cli_env, closed_port, run_cli
from tests.support.feeds import Item, rss
from tests.support.http import LocalServer
from tests.support.stack import ADMIN, Stack
from tests.support.waiting import wait_for

TOKEN = "123456:doctor-sandbox-token-000000"
GOOD = "@newswire_good"
NO_RIGHTS = "@newswire_norights"
NO_PINS = "@newswire_nopins"
MISSING = "@newswire_missing"
FORUM = "@newswire_forum"
RSS = "application/rss+xml"
SECRET = "doctor-webhook-secret"
READER = 4242


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[Sandbox, SandboxServer]]:
    """A served sandbox whose bot is an administrator of GOOD, with every right."""
    sandbox = Sandbox(bot_token=TOKEN)
    sandbox.add_channel(GOOD)
    async with SandboxServer(sandbox) as server:
        yield sandbox, server


@pytest.fixture
async def feeds() -> AsyncIterator[LocalServer]:
    async with LocalServer() as server:
        server.serve("/feed.xml", rss([Item("Hawker centre reopens", "https://h.example/1")]))
        server.serve("/registered.xml", rss([Item("A", "https://h.example/a")]), content_type=RSS)
        yield server


async def prepared(tmp_path: Path, feeds: LocalServer) -> dict[str, str]:
    """A migrated database holding one registered source, and a content folder of one file."""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(SAMPLE, folder)
    url = f"sqlite+aiosqlite:///{tmp_path}/newswire.db"
    repo = Repository.open(url)
    try:
        await repo.migrate()
        registered = feeds.url("/registered.xml")
        now = datetime(2025, 1, 1, tzinfo=UTC)
        await repo.sources.add(
            kind=SourceKind.FEED, spec=registered, url=registered, interval=300, now=now
        )
    finally:
        await repo.close()
    return {"DATABASE_URL": url, "CONTENT_DIR": str(folder), "ALLOW_PRIVATE_URLS": "true"}


def lines(output: str) -> dict[str, str]:
    """Each printed line by its subject ("channel @x", "token", ...)."""
    found = {}
    for line in output.splitlines():
        status, _, rest = line.partition(" ")
        subject, _, _detail = rest.strip().partition(": ")
        assert status in ("ok", "FAIL", "skip"), line
        found[subject] = line
    return found


async def test_doctor_names_the_missing_rights_and_channels(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    sandbox.add_channel(NO_RIGHTS)
    sandbox.set_rights(NO_RIGHTS, can_post_messages=False, can_edit_messages=False)
    sandbox.add_channel("@newswire_notopics")
    settings = await prepared(tmp_path, feeds)
    env = cli_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.api_base_url,
        TELEGRAM_CHANNELS=f"{GOOD},{NO_RIGHTS},{MISSING}",
        CHANNEL_ROUTES="world=@newswire_notopics:7",
        SOURCES=feeds.url("/gone.xml"),
        HTTP_PORT=str(closed_port()),
        **settings,
    )
    result = await run_cli("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    found = lines(result.stdout)
    assert found["token"] == f"ok   token: @{sandbox.bot_user['username']} (getMe)"
    assert found[f"channel {GOOD}"].startswith(f"ok   channel {GOOD}: channel, the bot is")
    assert found[f"channel {NO_RIGHTS}"] == (
        f"FAIL channel {NO_RIGHTS}: the bot cannot post, edit or delete its posts"
        " (can_post_messages); pin breaking stories (can_edit_messages) (getChatMember)"
    )
    assert found[f"channel {MISSING}"].startswith(f"FAIL channel {MISSING}: not found:")
    assert found["route target @newswire_notopics:7"] == (
        "FAIL route target @newswire_notopics:7: not a forum, so it has no topic 7 (getChat)"
    )
    assert found[f"source {feeds.url('/gone.xml')}"].startswith("FAIL ")
    assert found[f"source {feeds.url('/registered.xml')}"].startswith("ok   ")
    assert TOKEN.split(":")[1] not in result.stdout + result.stderr
    assert result.stderr == ""


async def test_doctor_exits_0_when_everything_is_in_order(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    forum = sandbox.add_forum("Newsroom")
    topic = sandbox.add_topic(forum, "World")
    # Pins are off there (`nopin`): the missing right to pin is then no failure.
    sandbox.add_channel(NO_PINS)
    sandbox.set_rights(NO_PINS, can_edit_messages=False)
    settings = await prepared(tmp_path, feeds)
    port = closed_port()
    env = cli_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.api_base_url,
        TELEGRAM_CHANNELS=f"{GOOD},{NO_PINS}",
        CHANNEL_ROUTES=f"world={forum}:{topic}",
        CHANNEL_OPTIONS=f"{NO_PINS}=nopin",
        SOURCES=feeds.url("/feed.xml"),
        HTTP_PORT=str(port),
        TELEGRAM_WEBHOOK_URL="",
        **settings,
    )
    result = await run_cli("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = lines(result.stdout)
    assert set(found) == {
        "token",
        "webhook",
        f"channel {GOOD}",
        f"channel {NO_PINS}",
        f"route target {forum}:{topic}",
        f"database {settings['DATABASE_URL']}",
        f"content folder {settings['CONTENT_DIR']}",
        f"source {feeds.url('/feed.xml')}",
        f"source {feeds.url('/registered.xml')}",
        f"web port 127.0.0.1:{port}",
    }
    assert all(line.startswith("ok   ") for line in found.values()), result.stdout
    assert found[f"channel {NO_PINS}"].endswith(
        "can post, edit and delete (getChat, getChatMember)"
    )
    assert found[f"route target {forum}:{topic}"].endswith(
        f"; topic {topic} exists (getChat, getChatMember, sendChatAction)"
    )
    assert "reachable, migrations current" in found[f"database {settings['DATABASE_URL']}"]
    assert found[f"content folder {settings['CONTENT_DIR']}"].endswith("1 article files")
    assert found[f"source {feeds.url('/feed.xml')}"].endswith("reachable, 1 entries")
    assert found[f"web port 127.0.0.1:{port}"].endswith(": free")
    assert (
        found["webhook"] == "ok   webhook: none: long polling (getUpdates) is used (getWebhookInfo)"
    )


async def test_doctor_looks_forum_topics_up_without_posting_into_them(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    forum = sandbox.add_forum("Newsroom", FORUM)
    topic = sandbox.add_topic(forum, "World")
    missing = topic + 5
    env = cli_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.api_base_url,
        TELEGRAM_CHANNELS=GOOD,
        CHANNEL_ROUTES=f"world={FORUM}:{topic};sport={FORUM}:{missing}",
        HTTP_PORT=str(closed_port()),
        **await prepared(tmp_path, feeds),
    )
    result = await run_cli("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    found = lines(result.stdout)
    assert found[f"route target {FORUM}:{topic}"] == (
        f"ok   route target {FORUM}:{topic}: supergroup, the bot is administrator and can post,"
        f" edit, delete and pin; topic {topic} exists (getChat, getChatMember, sendChatAction)"
    )
    assert found[f"route target {FORUM}:{missing}"] == (
        f"FAIL route target {FORUM}:{missing}: topic {missing} not found in {FORUM}"
        " (sendChatAction)"
    )
    failed = [line for line in found.values() if line.startswith("FAIL")]
    assert len(failed) == 1, result.stdout
    assert sandbox.messages(forum) == []  # looked up, nothing posted
    assert result.stderr == ""


async def test_doctor_leaves_no_database_behind_and_skips_telegram_without_a_token(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path, CONTENT_DIR=str(tmp_path / "nowhere"))
    result = await run_cli("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 1
    found = lines(result.stdout)
    assert found["telegram"].startswith("skip telegram: no TELEGRAM_BOT_TOKEN (sandbox mode)")
    database = f"database sqlite+aiosqlite:///{tmp_path}/newswire.db"
    assert found[database].endswith("no such file yet (`newswire run` creates it)")
    assert not (tmp_path / "newswire.db").exists()
    assert found[f"content folder {tmp_path / 'nowhere'}"].startswith("FAIL ")


async def test_doctor_says_which_migrations_are_missing(tmp_path: Path) -> None:
    from sqlalchemy import text

    url = f"sqlite+aiosqlite:///{tmp_path}/newswire.db"
    repo = Repository.open(url)
    try:
        await repo.migrate()
        async with repo.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    finally:
        await repo.close()
    result = await run_cli("doctor", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    line = lines(result.stdout)[f"database {url}"]
    assert line.startswith(f"FAIL database {url}: at 0007, the code needs ")
    # Read only: nothing was upgraded.
    repo = Repository.open(url)
    try:
        async with repo.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await repo.close()
    assert version == "0007"


async def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = await run_cli("doctor", env=cli_env(tmp_path, TIMEZONE="Nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "newswire: bad setting: TIMEZONE: unknown time zone 'Nowhere'"
    assert result.stdout == ""


# ---------------------------------------------------------------- webhook mode


async def set_webhook(server: SandboxServer, url: str) -> None:
    """setWebhook as `newswire run` calls it: through the Bot API, with the secret."""
    async with Bot(TOKEN, base_url=server.api_base_url) as bot:
        assert await bot.set_webhook(url=url, secret_token=SECRET)


async def doctor_webhook(
    tmp_path: Path, server: SandboxServer, feeds: LocalServer, url: str
) -> tuple[int, str]:
    """Doctor's exit code (every other check passes) and its webhook line."""
    webhook = {"TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_WEBHOOK_SECRET": SECRET if url else ""}
    env = cli_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.api_base_url,
        **webhook,
        **await prepared(tmp_path, feeds),
    )
    result = await run_cli("doctor", env=env, cwd=tmp_path)
    assert result.stderr == ""
    assert SECRET not in result.stdout
    return result.returncode, lines(result.stdout)["webhook"]


async def delivery_failed(sandbox: Sandbox) -> str:
    """A reader writes; the sandbox's POST to the (closed) webhook fails: its error message."""
    sandbox.add_user(READER)
    sandbox.send_user_message(READER, "hello")

    def failed() -> str:
        return str(sandbox.webhook_info().get("last_error_message") or "")

    return await wait_for(failed, what="a failed webhook delivery")


async def test_doctor_fails_when_the_webhook_is_not_set_yet(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    _sandbox, server = telegram
    url = f"http://127.0.0.1:{closed_port()}/telegram"
    code, line = await doctor_webhook(tmp_path, server, feeds, url)
    assert (
        line == f"FAIL webhook: not set: `newswire run` sets it at start ({url}) (getWebhookInfo)"
    )
    assert code == 1


async def test_doctor_is_ok_when_telegram_posts_to_the_configured_webhook(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    url = f"http://127.0.0.1:{closed_port()}/telegram"
    await set_webhook(server, url)
    code, line = await doctor_webhook(tmp_path, server, feeds, url)
    assert line == f"ok   webhook: set to {url}, 0 pending updates (getWebhookInfo)"
    assert code == 0
    assert sandbox.webhook_info()["url"] == url  # read only: neither set again nor deleted


async def test_doctor_names_the_other_url_a_webhook_points_to(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    _sandbox, server = telegram
    ours = f"http://127.0.0.1:{closed_port()}/telegram"
    # Another deployment's URL, carrying something token-shaped: it is redacted.
    shaped = "9876543210:" + "A" * 35
    await set_webhook(server, f"https://other.example/hook/{shaped}")
    code, line = await doctor_webhook(tmp_path, server, feeds, ours)
    assert line.startswith(
        "FAIL webhook: Telegram posts updates to https://other.example/hook/<redacted>,"
        f" not to TELEGRAM_WEBHOOK_URL {ours} "
    ), line
    assert shaped not in line
    assert code == 1


async def test_doctor_quotes_a_recent_delivery_error(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    url = f"http://127.0.0.1:{closed_port()}/telegram"
    await set_webhook(server, url)
    error = await delivery_failed(sandbox)
    code, line = await doctor_webhook(tmp_path, server, feeds, url)
    prefix = f"FAIL webhook: set to {url}, 1 pending update, but Telegram's last delivery "
    assert line.startswith(prefix), line
    assert line.endswith(f' s ago failed: "{error}" (getWebhookInfo)'), line
    assert code == 1


async def test_a_delivery_error_older_than_an_hour_is_no_failure(
    tmp_path: Path, feeds: LocalServer
) -> None:
    shift = [0.0]
    sandbox = Sandbox(bot_token=TOKEN, clock=lambda: time.monotonic() + shift[0])
    async with SandboxServer(sandbox) as server:
        url = f"http://127.0.0.1:{closed_port()}/telegram"
        await set_webhook(server, url)
        shift[0] = -2 * 3600.0  # the sandbox's dates: the error happened two hours ago
        error = await delivery_failed(sandbox)
        code, line = await doctor_webhook(tmp_path, server, feeds, url)
    assert line == (
        f'ok   webhook: set to {url}, 1 pending update; last delivery error 2 h ago: "{error}"'
        " (getWebhookInfo)"
    )
    assert code == 0


async def test_a_webhook_left_set_while_polling_is_ok_as_run_deletes_it(
    tmp_path: Path, telegram: tuple[Sandbox, SandboxServer], feeds: LocalServer
) -> None:
    sandbox, server = telegram
    url = f"http://127.0.0.1:{closed_port()}/telegram"
    await set_webhook(server, url)
    code, line = await doctor_webhook(tmp_path, server, feeds, "")
    assert line == (
        "ok   webhook: none configured, long polling is used; Telegram still has a webhook to"
        f" {url} (0 pending updates), which `newswire run` deletes at start (getWebhookInfo)"
    )
    assert code == 0
    assert sandbox.webhook_info()["url"] == url  # doctor deleted nothing


# ---------------------------------------------------------------- the web port


async def test_a_port_held_by_a_healthy_newswire_is_ok_and_by_an_unhealthy_one_fails() -> None:
    async with LocalServer() as server:
        server.serve("/healthz", json.dumps({"ok": True}), content_type="application/json")
        healthy = await check_port("127.0.0.1", server.port)
        problems = {"ok": False, "problems": ["the worker loop has not ticked for 95 s"]}
        server.serve("/healthz", json.dumps(problems), status=503, content_type="application/json")
        unhealthy = await check_port("127.0.0.1", server.port)
    assert healthy.status is Status.OK
    assert "running Newswire" in healthy.detail
    assert unhealthy.status is Status.FAIL
    assert unhealthy.detail == (
        "a running Newswire is unhealthy: the worker loop has not ticked for 95 s (GET /healthz)"
    )


async def test_a_port_held_by_something_else_fails() -> None:
    async with LocalServer() as server:
        server.serve("/healthz", "<html>router login</html>", content_type="text/html")
        check = await check_port("0.0.0.0", server.port)
    assert check.status is Status.FAIL
    assert check.detail == "taken by something else (GET /healthz: HTTP 200, not Newswire's JSON)"


async def test_the_port_of_a_running_newswire_is_ok_until_its_worker_stops(stack: Stack) -> None:
    web = stack.newswire.web
    assert web is not None and stack.newswire.worker is not None
    healthy: Check | None = await wait_for(lambda: _port(web.port, failed=False), what="healthy")
    assert healthy is not None
    assert healthy.line() == (
        f"ok   web port 127.0.0.1:{web.port}: in use by a running Newswire, healthy"
        " (GET /healthz: 200)"
    )
    stack.newswire.worker.stop()
    failing: Check | None = await wait_for(lambda: _port(web.port, failed=True), what="failing")
    assert failing is not None
    assert "worker: stopped" in failing.detail


async def _port(port: int, *, failed: bool) -> Check | None:
    check = await check_port("127.0.0.1", port)
    return check if check.failed is failed else None


# ---------------------------------------------------------------- start-up


async def test_run_warns_and_tells_the_editors_about_a_channel_it_cannot_use(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    channel = stack.channels[0]
    stack.sandbox.set_rights(channel, can_post_messages=False)  # an owner took the right away
    with caplog.at_level(logging.WARNING, logger="bot.doctor"):
        await stack.restart()
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.doctor"]
    problem = (
        f"channel {channel}: the bot cannot post, edit or delete its posts (can_post_messages)"
        " (getChatMember)"
    )
    assert warnings == [f"start-up check: {problem}"]
    notices = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if problem in m["text"]],
        what="the editors' notice",
    )
    assert len(notices) == 1
    assert notices[0]["text"].startswith("⚠️ Newswire started, but cannot publish everywhere")
    # Start-up went on: the bot still scans (the right may come back at any time).
    await stack.scans(1)


async def test_run_warns_about_a_forum_topic_that_does_not_exist(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    forum = stack.sandbox.add_forum("Newsroom")
    topic = stack.sandbox.add_topic(forum, "World")
    routes = f"world={forum}:{topic};sport={forum}:{topic + 1}"
    stack.settings = stack.settings.model_copy(update={"channel_routes": routes})
    with caplog.at_level(logging.WARNING, logger="bot.doctor"):
        await stack.restart()
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.doctor"]
    problem = f"route target {forum}:{topic + 1}: topic {topic + 1} not found in {forum}"
    assert warnings == [f"start-up check: {problem} (sendChatAction)"]
    notices = await wait_for(
        lambda: [m for m in stack.sandbox.bot_messages(ADMIN) if problem in m["text"]],
        what="the editors' notice",
    )
    assert len(notices) == 1
    assert stack.sandbox.messages(forum) == []
