"""Command line: `newswire run`, `newswire preview`, `newswire summarize`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings

log = logging.getLogger("newswire")


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"newswire: bad setting: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve(settings: Settings, role_name: str) -> None:
    from bot.app import SANDBOX_DEMO_CHANNEL, SANDBOX_TOKEN, Endpoint, Newswire, Role

    role = Role(role_name)
    if settings.sandbox and role is not Role.ALL:
        print(
            f"newswire: --role {role.value} shares a Bot API with other processes: set"
            " TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL (a sandbox of its own: python -m"
            " bot.sandbox)",
            file=sys.stderr,
        )
        raise SystemExit(2)

    server = None
    channels = tuple(settings.telegram_channels)
    if settings.sandbox:
        from bot.sandbox import Sandbox, SandboxServer

        sandbox = Sandbox(bot_token=SANDBOX_TOKEN)
        channels = channels or (SANDBOX_DEMO_CHANNEL,)
        for channel in channels:
            if channel.startswith("@"):
                sandbox.add_channel(channel)
        server = SandboxServer(sandbox, port=settings.sandbox_port)
        try:
            await server.start()
        except OSError as exc:
            print(
                f"newswire: cannot start the sandbox on port {settings.sandbox_port}:"
                f" {exc.strerror} (set SANDBOX_PORT to a free port)",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
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


def cmd_run(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging

    settings = _settings_or_exit()
    from bot.app import SANDBOX_TOKEN

    token = (
        settings.telegram_bot_token.get_secret_value()
        if settings.telegram_bot_token
        else SANDBOX_TOKEN
    )
    key = settings.summarizer_api_key.get_secret_value() if settings.summarizer_api_key else ""
    setup_logging(settings.log_level, secrets=[token, key])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, args.role))
    return 0


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
        print(f"newswire: {exc.source}: {exc.reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"newswire: {args.path}: {exc.strerror}", file=sys.stderr)
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
    preview = sub.add_parser("preview", help="show the channel post for an article file")
    preview.add_argument("path")
    preview.add_argument("--json", action="store_true", help="print the parsed article as JSON")
    preview.add_argument("--bot-username", default="newswire_bot", help=argparse.SUPPRESS)
    preview.set_defaults(func=cmd_preview)
    with contextlib.suppress(ImportError):
        from bot import summarize_cli

        summarize_cli.add_parser(sub)
        sub.choices["summarize"].set_defaults(func=summarize_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Telegram's retry_after as a timedelta (PTB warns otherwise).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
