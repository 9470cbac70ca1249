"""Command line: `newswire run`, `newswire doctor`, `newswire preview`, `newswire summarize`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from bot.config import Settings, SettingsError, load_settings
from bot.logs import add_secrets, cli_logger, install_excepthook

if TYPE_CHECKING:
    from bot.sandbox import Sandbox

log = logging.getLogger("newswire")


def report(message: str) -> None:
    """Report a failure in one line through the redacting logger."""
    cli_logger().error("newswire: %s", message)


def fail(message: str, code: int = 2) -> NoReturn:
    """Report a failure in one line, and exit."""
    report(message)
    raise SystemExit(code)


def _secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold, so that logging can redact them."""
    secrets = []
    if settings.telegram_bot_token is not None:
        token = settings.telegram_bot_token.get_secret_value()
        secrets += [token, token.split(":", 1)[-1]]
    if settings.summarizer_api_key is not None:
        secrets.append(settings.summarizer_api_key.get_secret_value())
    for pushed in (
        settings.push_secret,
        settings.ghost_webhook_secret,
        settings.telegram_webhook_secret,
    ):
        if pushed is not None:
            secrets.append(pushed.get_secret_value())
    password = urlsplit(settings.database_url).password
    if password:
        secrets.append(password)
    return secrets


def _settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(f"bad setting: {exc}")
    add_secrets(*_secrets(settings))
    return settings


def sandbox_for(settings: Settings) -> tuple[Sandbox, tuple[str, ...]]:
    """The sandbox `run` starts without a token, with every configured channel (or the demo)."""
    from bot.app import SANDBOX_DEMO_CHANNEL, SANDBOX_TOKEN, sandbox_route_targets
    from bot.sandbox import Sandbox

    sandbox = Sandbox(bot_token=SANDBOX_TOKEN)
    channels = tuple(settings.telegram_channels) or (SANDBOX_DEMO_CHANNEL,)
    for channel in channels:
        if channel.isdigit():
            sandbox.add_user(int(channel))  # a positive id is a person's private chat
        else:
            sandbox.add_channel(channel)  # "@name", or a numeric id such as -1001234567890
    sandbox_route_targets(sandbox, settings.routes)  # CHANNEL_ROUTES: channels, forum topics
    return sandbox, channels


async def _serve(settings: Settings, role_name: str) -> None:
    from bot.app import SANDBOX_TOKEN, Endpoint, Newswire, Role

    role = Role(role_name)
    if settings.sandbox and role is not Role.ALL:
        fail(
            f"--role {role.value} shares a Bot API with other processes: set"
            " TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL (a sandbox of its own: python -m"
            " bot.sandbox)"
        )

    server = None
    channels = tuple(settings.telegram_channels)
    if settings.sandbox:
        from bot.sandbox import SandboxServer

        sandbox, channels = sandbox_for(settings)
        server = SandboxServer(sandbox, port=settings.sandbox_port)
        try:
            await server.start()
        except OSError as exc:
            fail(
                f"cannot start the sandbox on port {settings.sandbox_port}:"
                f" {exc.strerror} (set SANDBOX_PORT to a free port)"
            )
        endpoint = Endpoint(SANDBOX_TOKEN, server.api_base_url, server.file_base_url)
        watched = ", ".join(channels)
        print(
            f"Newswire sandbox: open {server.url} to chat with the bot, watch {watched}", flush=True
        )
    else:
        assert settings.telegram_bot_token is not None
        token = settings.telegram_bot_token.get_secret_value()
        base = settings.telegram_api_base_url
        file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
        endpoint = Endpoint(token, base, file_base)

    newswire = Newswire(settings, endpoint, channels=channels, role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await newswire.start()
        log.info(
            "watching %s every %.0fs; publishing to %s",
            settings.content_dir,
            settings.scan_interval,
            ", ".join(channels) or "no channel",
        )
        await stop.wait()
        log.info("stopping")
    finally:
        await newswire.stop()
        if server is not None:
            await server.stop()


def _rejected_status(exc: BaseException) -> int:
    """401 (a revoked token) or 404 (a wrong token or base URL), read from PTB's exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if "401" in str(seen) or "Unauthorized" in str(seen):
            return 401
        seen = seen.__cause__
    return 404


def _start_up_failure(exc: BaseException, settings: Settings) -> str | None:
    """One line for a failure an operator can fix, or None for a bug (left to the excepthook)."""
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.bot_lock import AnotherBotRunning
    from bot.web import WebServerError

    if isinstance(exc, AnotherBotRunning | WebServerError):
        return str(exc)
    if isinstance(exc, InvalidToken):
        return (
            f"Telegram rejected the token (HTTP {_rejected_status(exc)} from"
            " TELEGRAM_API_BASE_URL): check both settings"
        )
    if isinstance(exc, NetworkError):
        where = urlsplit(settings.telegram_api_base_url).netloc
        return (
            f"cannot reach the Bot API at TELEGRAM_API_BASE_URL ({where}): {exc.message}:"
            " check the setting and the network"
        )
    if isinstance(exc, TelegramError):
        return f"the Bot API refused a call: {exc.message}"
    if isinstance(exc, SQLAlchemyError | OSError):
        # The first line only: SQLAlchemy appends the statement and its parameters.
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return f"cannot use the database (DATABASE_URL): {first}"
    return None


def cmd_run(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging

    settings = _settings_or_exit()
    from bot.app import SANDBOX_TOKEN

    setup_logging(
        settings.log_level,
        secrets=[*_secrets(settings), SANDBOX_TOKEN],
        log_content=settings.log_content,
        log_format=settings.log_format,
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(settings, args.role))
    except Exception as exc:
        line = _start_up_failure(exc, settings)
        if line is None:
            raise  # the excepthook logs it, redacted
        fail(line)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print one line per check; exit 1 when any fails (settings errors exit 2)."""
    from bot import doctor
    from bot.logs import RedactSecrets, setup_logging

    settings = _settings_or_exit()
    # Libraries' own warnings would be noise beside the lines: errors only, redacted.
    setup_logging("ERROR", secrets=_secrets(settings))
    redact = RedactSecrets(_secrets(settings)).redact

    def emit(check: doctor.Check) -> None:
        print(redact(check.line()), flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        checks = asyncio.run(doctor.diagnose(settings, emit))
        return 1 if any(check.failed for check in checks) else 0
    return 130


def cmd_preview(args: argparse.Namespace) -> int:
    from bot import rendering
    from content.models import ArticleParseError
    from content.parsing import parse_file
    from content.pipeline import enrich

    settings = _settings_or_exit()
    from bot.app import build_summarizer

    try:
        article = parse_file(Path(args.path), default_tz=settings.zone)
    except ArticleParseError as exc:
        report(f"{exc.source}: {exc.reason}")
        return 1
    except OSError as exc:
        report(f"{args.path}: {exc.strerror}")
        return 1
    article = asyncio.run(enrich(article, build_summarizer(settings)))
    if args.json:
        data = {
            "id": article.id,
            "title": article.title,
            "standfirst": article.standfirst,
            "author": article.author,
            "published": article.published.isoformat() if article.published else None,
            "headings": list(article.headings),
            "paragraphs": list(article.paragraphs),
            "summary": article.summary,
            "topics": list(article.topics),
            "channel_hint": article.channel_hint,
            "url": article.url,
            "image": article.image,
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        post = rendering.channel_post(article, bot_username=args.bot_username)
        if post.photo:
            print(f"[photo: {post.photo}]")
        print(post.html)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the bot and the scheduler (and the sandbox when no token)"
    )
    run.add_argument(
        "--role",
        choices=["all", "bot", "worker"],
        default="all",
        help="bot: poll updates and scan sources (exactly one process); worker: send from the"
        " outbox (any number); all: both (default)",
    )
    run.set_defaults(func=cmd_run)
    doctor = sub.add_parser(
        "doctor",
        help="check the token, channels, database, content folder, sources and web port",
        description="One line per check (ok, FAIL or skip); exit 1 when any fails. Reads only:"
        " safe to run beside a running bot.",
    )
    doctor.set_defaults(func=cmd_doctor)
    preview = sub.add_parser("preview", help="show the channel post for an article file")
    preview.add_argument("path")
    preview.add_argument("--json", action="store_true", help="print the parsed article as JSON")
    preview.add_argument("--bot-username", default="newswire_bot", help=argparse.SUPPRESS)
    preview.set_defaults(func=cmd_preview)
    with contextlib.suppress(ImportError):
        from bot import summarize_cli

        summarize_cli.add_parser(sub)
        sub.choices["summarize"].set_defaults(func=summarize_cli.run)
    from bot import extract_cli

    extract_cli.add_parser(sub)
    from bot import feed_cli

    feed_cli.add_parser(sub)
    from bot import sources_cli

    sources_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Telegram's retry_after as a timedelta (PTB warns otherwise).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    # Before anything can fail: a traceback may quote the token (PTB's InvalidToken does).
    install_excepthook()
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
