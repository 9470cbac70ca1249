"""`newswire doctor` and the start-up checks: is everything Newswire needs there and allowed?

Read-only, so it is safe beside a running bot: no bot lock, no migration, no getUpdates, no
setWebhook or deleteWebhook, nothing posted (a forum topic is looked up with sendChatAction,
which shows "typing..." there for a few seconds at most). One `Check` per line: `ok`, `FAIL` or
`skip`, what, and why.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatPermissions,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.logs import RedactSecrets
from bot.rendering.i18n import _
from content.fetching import Fetcher, FetchError, default_user_agent
from content.models import ChatId, Target
from content.parsing import SUPPORTED_SUFFIXES
from content.routing import Route, options_for
from content.sources.feeds import FeedError
from content.sources.polling import probe
from content.sources.wordpress import WordPressError

log = logging.getLogger(__name__)

SOURCE_TIMEOUT = 10.0  # seconds for one source's answer
SOURCE_CONCURRENCY = 8
DATABASE_TIMEOUT = 10.0
HEALTH_TIMEOUT = 3.0
# A delivery error older than this has most likely been fixed since (Telegram keeps the last one).
WEBHOOK_ERROR_WINDOW = timedelta(hours=1)


class Status(enum.Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One checked thing: its status, what it is, and what was found."""

    status: Status
    subject: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def line(self) -> str:
        return f"{self.status.value:<4} {self.subject}: {self.detail}"


def _ok(subject: str, detail: str) -> Check:
    return Check(Status.OK, subject, detail)


def _fail(subject: str, detail: str) -> Check:
    return Check(Status.FAIL, subject, detail)


def _skip(subject: str, detail: str) -> Check:
    return Check(Status.SKIP, subject, detail)


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy appends the statement and its parameters after the first line.
    return (str(exc).splitlines() or [type(exc).__name__])[0] or type(exc).__name__


# ---------------------------------------------------------------- Telegram


@dataclass(frozen=True, slots=True)
class Destination:
    """A channel or route target, and whether breaking stories are pinned there."""

    label: str  # "channel" (TELEGRAM_CHANNELS) or "route target" (CHANNEL_ROUTES)
    target: Target
    pins: bool

    @property
    def subject(self) -> str:
        return f"{self.label} {self.target.key}"


def destinations(
    settings: Settings, channels: Iterable[str], routes: Iterable[Route]
) -> list[Destination]:
    """Each channel, then each route target not already listed, once."""
    table = settings.channel_option_table
    found: dict[str, Destination] = {}
    labelled = [("channel", Target(ChatId(c))) for c in channels]
    labelled += [("route target", route.target) for route in routes]
    for label, target in labelled:
        pins = settings.pin_breaking and options_for(target, table).pin_breaking
        found.setdefault(str(target.key), Destination(label, target, pins))
    return list(found.values())


def missing_rights(
    chat_type: str,
    member: ChatMember,
    *,
    pins: bool,
    permissions: ChatPermissions | None = None,
) -> list[str]:
    """What the bot cannot do that Newswire needs there, each naming Telegram's right.

    Newswire posts, edits and deletes its own posts, and pins breaking stories. In a channel
    its own posts need can_post_messages alone (Telegram lets a poster edit and delete them);
    pinning needs can_edit_messages. In a group everyone edits and deletes their own messages;
    pinning needs can_pin_messages.
    """
    status = member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return [f"post: it is not a member ({status})"]
    if isinstance(member, ChatMemberOwner) or chat_type == ChatType.PRIVATE:
        return []
    admin = member if isinstance(member, ChatMemberAdministrator) else None
    missing: list[str] = []
    if chat_type == ChatType.CHANNEL:
        if admin is None:
            return ["post: it is not an administrator of the channel"]
        if not admin.can_post_messages:
            missing.append("post, edit or delete its posts (can_post_messages)")
        if pins and not admin.can_edit_messages:
            missing.append("pin breaking stories (can_edit_messages)")
        return missing
    restricted = member if isinstance(member, ChatMemberRestricted) else None
    members_may = permissions or ChatPermissions()
    if restricted is not None and not restricted.can_send_messages:
        missing.append("post (can_send_messages: the bot is restricted)")
    elif admin is None and restricted is None and members_may.can_send_messages is False:
        missing.append("post (can_send_messages: members may not send)")
    if pins:
        if admin is not None:
            may_pin = bool(admin.can_pin_messages)
        elif restricted is not None:
            may_pin = restricted.can_pin_messages
        else:
            may_pin = bool(members_may.can_pin_messages)
        if not may_pin:
            missing.append("pin breaking stories (can_pin_messages)")
    return missing


def telegram_bot(settings: Settings) -> Bot:
    """A plain PTB Bot over HTTP, to the Bot API the settings name (Telegram or a sandbox)."""
    assert settings.telegram_bot_token is not None
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        request=HTTPXRequest(connect_timeout=5.0, read_timeout=10.0),
    )


async def check_token(bot: Bot, base_url: str) -> Check:
    """getMe (through PTB's initialize, which the other calls need)."""
    try:
        await bot.initialize()
    except InvalidToken:
        # PTB's message quotes the token: never shown.
        return _fail(
            "token",
            "Telegram rejected it: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL (getMe)",
        )
    except NetworkError as exc:
        where = urlsplit(base_url).netloc
        return _fail("token", f"cannot reach the Bot API at {where}: {exc.message} (getMe)")
    except TelegramError as exc:
        return _fail("token", f"{exc.message} (getMe)")
    return _ok("token", f"@{bot.username} (getMe)")


async def check_destination(bot: Bot, destination: Destination) -> Check:
    """getChat (it exists; a topic's chat is a forum), getChatMember (rights), the topic."""
    subject, target = destination.subject, destination.target
    try:
        chat: ChatFullInfo = await bot.get_chat(target.chat)
    except BadRequest as exc:
        return _fail(subject, f"not found: {exc.message} (getChat)")
    except Forbidden as exc:
        return _fail(subject, f"the bot has no access: {exc.message} (getChat)")
    except TelegramError as exc:
        return _fail(subject, f"{exc.message} (getChat)")
    if target.thread is not None and not chat.is_forum:
        return _fail(subject, f"not a forum, so it has no topic {target.thread} (getChat)")
    try:
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError as exc:
        return _fail(subject, f"{exc.message} (getChatMember)")
    missing = missing_rights(chat.type, member, pins=destination.pins, permissions=chat.permissions)
    if missing:
        return _fail(subject, "the bot cannot " + "; ".join(missing) + " (getChatMember)")
    can = "post, edit, delete and pin" if destination.pins else "post, edit and delete"
    detail = f"{chat.type}, the bot is {member.status} and can {can}"
    if target.thread is None:
        return _ok(subject, detail + " (getChat, getChatMember)")
    return await check_topic(bot, destination, chat.id, detail)


async def check_topic(bot: Bot, destination: Destination, chat_id: int, detail: str) -> Check:
    """The target's forum topic exists: sendChatAction "typing" there, which posts nothing.

    The Bot API has no getForumTopic; a chat action into an unknown thread is Telegram's
    "message thread not found", as a send there would be.
    """
    subject, target, thread = destination.subject, destination.target, destination.target.thread
    assert thread is not None
    try:
        await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread)
    except TelegramError as exc:
        if isinstance(exc, BadRequest) and "message thread not found" in exc.message.lower():
            return _fail(subject, f"topic {thread} not found in {target.chat} (sendChatAction)")
        return _fail(subject, f"topic {thread}: {exc.message} (sendChatAction)")
    return _ok(subject, f"{detail}; topic {thread} exists (getChat, getChatMember, sendChatAction)")


async def check_destinations(bot: Bot, found: Sequence[Destination]) -> list[Check]:
    """Each destination in turn (an initialized bot: its id is asked for)."""
    return [await check_destination(bot, destination) for destination in found]


def _shown_webhook(url: str, settings: Settings) -> str:
    """A webhook URL as printed: no user:password, no secret, nothing token-shaped."""
    secrets = []
    if settings.telegram_webhook_secret is not None:
        secrets.append(settings.telegram_webhook_secret.get_secret_value())
    if settings.telegram_bot_token is not None:
        token = settings.telegram_bot_token.get_secret_value()
        secrets += [token, token.split(":", 1)[-1]]
    return RedactSecrets(secrets).redact(_shown_url(url))


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _pending(count: int) -> str:
    return f"{count} pending update" + ("" if count == 1 else "s")


async def check_webhook(bot: Bot, settings: Settings, *, now: datetime) -> Check:
    """getWebhookInfo against TELEGRAM_WEBHOOK_URL; read only (never sets or deletes it)."""
    subject, how = "webhook", "(getWebhookInfo)"
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        return _fail(subject, f"{exc.message} {how}")
    pending = _pending(info.pending_update_count)
    theirs = _shown_webhook(info.url, settings) if info.url else ""
    wanted = settings.telegram_webhook_url
    if not wanted:
        if not info.url:
            return _ok(subject, f"none: long polling (getUpdates) is used {how}")
        # Not a failure: PTB's start_polling calls deleteWebhook before its first getUpdates,
        # so the next `newswire run` clears it (a poller running meanwhile gets 409 Conflict).
        return _ok(
            subject,
            f"none configured, long polling is used; Telegram still has a webhook to {theirs}"
            f" ({pending}), which `newswire run` deletes at start {how}",
        )
    ours = _shown_webhook(wanted, settings)
    if not info.url:
        return _fail(subject, f"not set: `newswire run` sets it at start ({ours}) {how}")
    if info.url != wanted:
        return _fail(
            subject,
            f"Telegram posts updates to {theirs}, not to TELEGRAM_WEBHOOK_URL {ours}"
            f" (another deployment with this token? `newswire run` sets it back at start) {how}",
        )
    detail = f"set to {ours}, {pending}"
    if info.last_error_date is not None and info.last_error_message:
        ago = _ago((now - info.last_error_date).total_seconds())
        message = _shown_webhook(info.last_error_message, settings)[:200]
        if now - info.last_error_date < WEBHOOK_ERROR_WINDOW:
            return _fail(
                subject, f'{detail}, but Telegram\'s last delivery {ago} failed: "{message}" {how}'
            )
        detail += f'; last delivery error {ago}: "{message}"'
    return _ok(subject, f"{detail} {how}")


async def check_telegram(settings: Settings, *, now: datetime) -> list[Check]:
    """The token, the webhook, then each channel and route target; skipped in sandbox mode."""
    if settings.sandbox:
        return [
            _skip(
                "telegram",
                "no TELEGRAM_BOT_TOKEN (sandbox mode): token, webhook, channel and rights checks"
                " skipped; set it, and TELEGRAM_API_BASE_URL for a sandbox of its own, to run them",
            )
        ]
    bot = telegram_bot(settings)
    try:
        token = await check_token(bot, settings.telegram_api_base_url)
        found = destinations(settings, settings.telegram_channels, settings.routes)
        if token.failed:
            skipped = ["webhook", *(d.subject for d in found)]
            return [
                token,
                *(_skip(subject, "not checked: the token failed") for subject in skipped),
            ]
        webhook = await check_webhook(bot, settings, now=now)
        if not found:
            detail = "none configured (TELEGRAM_CHANNELS, CHANNEL_ROUTES): no channel posts"
            return [token, webhook, _skip("channels", detail)]
        return [token, webhook, *await check_destinations(bot, found)]
    finally:
        await bot.shutdown()  # a no-op when initialize failed


async def warn_at_start_up(
    bot: Bot,
    settings: Settings,
    channels: Iterable[str],
    notify: Callable[[str], Awaitable[None]] | None,
) -> list[Check]:
    """`newswire run`: a WARNING per destination that fails, and one notice to the editors.

    Never stops start-up: a channel may be fixed later; posts there fail until it is.
    """
    try:
        checks = await check_destinations(bot, destinations(settings, channels, settings.routes))
    except Exception:
        log.warning("start-up checks of the channels could not run", exc_info=True)
        return []
    failed = [check for check in checks if check.failed]
    for check in failed:
        log.warning("start-up check: %s: %s", check.subject, check.detail)
    if failed and notify is not None:
        problems = "\n".join(f"{check.subject}: {check.detail}" for check in failed)
        await notify(
            _("Newswire started, but cannot publish everywhere it should:\n{problems}").format(
                problems=problems
            )
        )
    return checks


# ---------------------------------------------------------------- database


@dataclass(frozen=True, slots=True)
class RegisteredSource:
    """A source stored in the database, as the source checks need it."""

    spec: str
    url: str
    active: bool
    last_error: str | None


async def check_database(database_url: str) -> tuple[Check, list[RegisteredSource]]:
    """Reachable, and its Alembic revision is the code's head (nothing is applied)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    subject = f"database {url.render_as_string(hide_password=True)}"
    if url.get_backend_name() == "sqlite" and not _sqlite_file_exists(url.database):
        # Opening it would create it: a check must leave nothing behind.
        return _fail(subject, "no such file yet (`newswire run` creates it)"), []
    try:
        return await asyncio.wait_for(_read_database(database_url, subject), DATABASE_TIMEOUT)
    except TimeoutError:
        return _fail(subject, f"no answer within {DATABASE_TIMEOUT:.0f} s"), []
    except Exception as exc:  # any driver's error: one line, and the other checks still run
        return _fail(subject, f"cannot be used: {_first_line(exc)}"), []


def _sqlite_file_exists(database: str | None) -> bool:
    if not database or database == ":memory:":
        return True
    return Path(database).expanduser().exists()


async def _read_database(database_url: str, subject: str) -> tuple[Check, list[RegisteredSource]]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from content.storage import Repository, SourceState
    from content.storage.repository import MIGRATIONS_DIR

    def current(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = tuple(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    repo = Repository.open(database_url)
    try:
        async with repo.engine.connect() as conn:
            at = await conn.run_sync(current)
        expected = ", ".join(heads)
        if set(at) == set(heads):
            stored = await repo.sources.all()
            registered = [
                RegisteredSource(s.spec, s.url, s.state is SourceState.ACTIVE, s.last_error)
                for s in stored
            ]
            return _ok(subject, f"reachable, migrations current ({expected})"), registered
    finally:
        await repo.close()
    if not at:
        detail = f"reachable, but no migration applied (`newswire run` applies up to {expected})"
    elif set(at) - known:
        detail = f"at {', '.join(at)}, which this code does not know (a newer Newswire's?)"
    else:
        detail = f"at {', '.join(at)}, the code needs {expected} (`newswire run` applies them)"
    return _fail(subject, detail), []


# ---------------------------------------------------------------- content folder


def check_content_folder(folder: Path) -> Check:
    """It exists, can be listed, and how many article files it holds."""
    subject = f"content folder {folder}"
    try:
        names = [path.name for path in folder.iterdir()]
    except FileNotFoundError:
        return _fail(subject, "does not exist (CONTENT_DIR)")
    except NotADirectoryError:
        return _fail(subject, "is not a folder (CONTENT_DIR)")
    except OSError as exc:
        return _fail(subject, f"cannot be read: {exc.strerror or type(exc).__name__}")
    articles = [
        name
        for name in names
        if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
    ]
    unreadable = [name for name in articles if not os.access(folder / name, os.R_OK)]
    if unreadable:
        shown = ", ".join(sorted(unreadable)[:3])
        return _fail(subject, f"{len(unreadable)} of {len(articles)} files unreadable: {shown}")
    return _ok(subject, f"readable, {len(articles)} article files")


# ---------------------------------------------------------------- sources


def _shown_url(url: str) -> str:
    """A URL without any user:password part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


async def check_sources(
    settings: Settings, registered: Sequence[RegisteredSource], *, now: datetime
) -> list[Check]:
    """Each configured or registered source, fetched and parsed once (in parallel, bounded)."""
    by_spec: dict[str, RegisteredSource | None] = {spec.strip(): None for spec in settings.sources}
    for source in registered:
        by_spec[source.spec] = source
    if not by_spec:
        return [_skip("sources", "none configured (SOURCES) or registered")]
    fetcher = Fetcher(
        allow_private=settings.private_urls_allowed,
        user_agent=default_user_agent(settings.user_agent_contact),
        timeout=SOURCE_TIMEOUT,
    )
    limit = asyncio.Semaphore(SOURCE_CONCURRENCY)

    async def one(spec: str, source: RegisteredSource | None) -> Check:
        subject = f"source {_shown_url(spec)}"
        if source is not None and not source.active:
            return _skip(subject, f"disabled: not polled ({source.last_error or 'switched off'})")
        async with limit:
            return await _probe(fetcher, spec, source, subject, settings, now)

    try:
        return list(await asyncio.gather(*(one(s, r) for s, r in by_spec.items())))
    finally:
        await fetcher.close()


async def _probe(
    fetcher: Fetcher,
    spec: str,
    source: RegisteredSource | None,
    subject: str,
    settings: Settings,
    now: datetime,
) -> Check:
    url = source.url if source is not None else None
    try:
        entries = await asyncio.wait_for(
            probe(fetcher, spec, url=url, now=now, default_tz=settings.zone),
            SOURCE_TIMEOUT * 2,  # a feed page, then the feed it names
        )
    except FetchError as exc:
        return _fail(subject, exc.reason)
    except (FeedError, WordPressError) as exc:
        return _fail(subject, f"does not parse: {exc}")
    except TimeoutError:
        return _fail(subject, f"no answer within {SOURCE_TIMEOUT * 2:.0f} s")
    except Exception as exc:  # one source's surprise is that source's line
        return _fail(subject, f"unexpected error ({type(exc).__name__})")
    return _ok(subject, f"reachable, {entries} entries")


# ---------------------------------------------------------------- web port


def _bind(host: str, port: int) -> None:
    """Bind (and release) every address `host` names, as the web server would."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as sock:
            # As aiohttp does: a port in TIME_WAIT is free, one with a listener is not.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)


def _local_url(host: str, port: int, path: str) -> str:
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


async def check_port(host: str, port: int) -> Check:
    """HTTP_HOST:HTTP_PORT is free, or a running Newswire answers GET /healthz there."""
    subject = f"web port {host}:{port}"
    if port == 0:
        return _ok(subject, "0: a free port is picked at start")
    try:
        _bind(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return _fail(subject, f"cannot listen there: {exc.strerror or exc}")
    else:
        return _ok(subject, "free")
    return await _ask_health(subject, _local_url(host, port, "/healthz"))


async def _ask_health(subject: str, url: str) -> Check:
    taken = "taken by something else"
    try:
        timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            status = response.status
            data = await response.json() if response.content_type == "application/json" else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _fail(subject, f"{taken} (GET /healthz: {type(exc).__name__})")
    if not isinstance(data, dict):
        return _fail(subject, f"{taken} (GET /healthz: HTTP {status}, not Newswire's JSON)")
    if status == 200:
        return _ok(subject, "in use by a running Newswire, healthy (GET /healthz: 200)")
    if status == 503:
        return _fail(subject, f"a running Newswire is unhealthy: {_problems(data)} (GET /healthz)")
    return _fail(subject, f"{taken} (GET /healthz: HTTP {status})")


def _problems(data: dict[str, object]) -> str:
    """The problems a 503 from /healthz names, in one line."""
    for key in ("problems", "errors", "error", "reason"):
        value = data.get(key)
        if isinstance(value, list) and value:
            return "; ".join(str(item) for item in value)[:300]
        if isinstance(value, str | dict) and value:
            return str(value)[:300]
    return str(data)[:300]


# ---------------------------------------------------------------- all of it


async def diagnose(settings: Settings, emit: Callable[[Check], None]) -> list[Check]:
    """Every check in order, each emitted as soon as it is known."""
    checks: list[Check] = []

    def add(found: Iterable[Check]) -> None:
        for check in found:
            checks.append(check)
            emit(check)

    add(await check_telegram(settings, now=datetime.now(UTC)))
    database, registered = await check_database(settings.database_url)
    add([database])
    add([check_content_folder(settings.content_dir)])
    add(await check_sources(settings, registered, now=datetime.now(UTC)))
    add([await check_port(settings.http_host, settings.http_port)])
    return checks
