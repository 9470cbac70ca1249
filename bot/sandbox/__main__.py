"""`python -m bot.sandbox`: run the sandbox on its own (for benchmarks and manual testing)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from bot.sandbox.core import Limits, Sandbox
from bot.sandbox.server import SandboxServer

DEFAULT_TOKEN = "123456:sandbox-token-aaaaaaaaaaaaaaaaaaaa"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument("--username", default="newswire_bot", help="the bot's username")
    parser.add_argument("--global-rate", type=float, default=30.0, help="messages/s overall")
    parser.add_argument(
        "--paid-rate", type=float, default=1000.0, help="messages/s with allow_paid_broadcast"
    )
    parser.add_argument("--private-rate", type=float, default=1.0, help="messages/s per user")
    parser.add_argument("--private-burst", type=int, default=5, help="burst per private chat")
    parser.add_argument(
        "--group-per-minute", type=int, default=20, help="messages/min per group or channel"
    )
    parser.add_argument("--no-limits", action="store_true", help="enforce no flood limit")
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="@NAME|ID",
        help="create a channel (an @name, or a numeric id such as -1001234567890)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed the fault dice")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def build_sandbox(args: argparse.Namespace) -> Sandbox:
    """A Sandbox configured from the command line."""
    limits = Limits(
        global_per_second=args.global_rate,
        private_per_second=args.private_rate,
        private_burst=args.private_burst,
        group_per_minute=args.group_per_minute,
        paid_broadcast_per_second=args.paid_rate,
        enforce=not args.no_limits,
    )
    sandbox = Sandbox(bot_token=args.token, bot_username=args.username, limits=limits)
    sandbox.faults.seed = args.seed
    for channel in args.channel:
        sandbox.add_channel(channel)
    return sandbox


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGTERM or SIGINT; print the URL once listening."""
    server = SandboxServer(build_sandbox(args), host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        print(server.url, flush=True)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.private_rate <= 0 or args.global_rate <= 0 or args.paid_rate <= 0:
        print("sandbox: rates must be positive", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
