"""Push benchmark: from an accepted CMS push (202 received) to the channel post, on the sandbox.

Usage: python bench/push.py [--pushes 50] [--files 10]

Runs the sandbox and `newswire` (role all) in this process, on loopback, with a fresh SQLite
database. Each push is signed as a CMS would sign it (tests/support/push.py) and sent once the
previous post is out and the channel's pacing slot (20 posts a minute, one every 3 s) is free,
so the figure is the push path itself, not the queue behind it. The clock stops when the
sandbox holds the post. Baseline in the same run: the same kind of story dropped as a file
into the content folder, which waits for the next folder scan (SCAN_INTERVAL, 3 s default).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import SANDBOX_TOKEN, Endpoint, Newswire  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.sandbox import Sandbox, SandboxServer  # noqa: E402
from tests.support.push import PUSH_SECRET, Pusher, article  # noqa: E402

CHANNEL = "@newswire_bench"
CHANNEL_SPACING = 3.0  # Newswire's own pacing of one channel (Telegram's 20 a minute)
FILE = """Bench story {n}: council approves new cycling paths in Tampines

Residents will get ten kilometres of new cycling paths by next year, the town council said.

By Bench Writer | July 1, 2026, 09:30 AM

The paths will link the MRT station to schools, markets and the park, the council said on
Monday after a vote.

Work starts in August and will be done in stages so that footpaths stay open, it added.
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def until_posted(sandbox: Sandbox, count: int) -> float:
    """The moment the channel holds `count` posts (polled every millisecond)."""
    # Polled, not awaited on an event: the sandbox has no hook, and 1 ms is the resolution.
    while len(sandbox.bot_messages(CHANNEL)) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    return time.perf_counter()


async def run(pushes: int, files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        sandbox = Sandbox(bot_token=SANDBOX_TOKEN)
        sandbox.add_channel(CHANNEL)
        server = SandboxServer(sandbox, port=0)
        await server.start()
        settings = load_settings(
            telegram_bot_token="",
            telegram_channels=CHANNEL,
            content_dir=folder,
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            http_port=0,
            push_secret=PUSH_SECRET,
            log_level="WARNING",
            _env_file=None,
        )
        endpoint = Endpoint(SANDBOX_TOKEN, server.api_base_url, server.file_base_url)
        newswire = Newswire(settings, endpoint, channels=(CHANNEL,))
        await newswire.start()
        assert newswire.web is not None
        try:
            while newswire.services.scan_count < 1:  # noqa: ASYNC110 - the first scan is done
                await asyncio.sleep(0.01)
            pushed: list[float] = []
            whole: list[float] = []  # from sending the request (ingest and planning included)
            async with Pusher(newswire.web.url) as client:
                for n in range(pushes):
                    sent = time.perf_counter()
                    answer = await client.push(article(n + 1))
                    accepted = time.perf_counter()
                    assert answer.status == 202, answer.body
                    posted = await until_posted(sandbox, n + 1)
                    pushed.append(posted - accepted)
                    whole.append(posted - sent)
                    await asyncio.sleep(CHANNEL_SPACING + 0.2)
            scanned: list[float] = []
            for n in range(files):
                (folder / f"bench-{n}.txt").write_text(FILE.format(n=n), encoding="utf-8")
                written = time.perf_counter()
                scanned.append(await until_posted(sandbox, pushes + n + 1) - written)
                await asyncio.sleep(CHANNEL_SPACING + 0.2)
        finally:
            await newswire.stop()
            await server.stop()
    print(f"push -> channel post, {pushes} pushes (sandbox, SQLite, one process):")
    print(
        f"  push (worker woken):      median {statistics.median(pushed) * 1000:7.1f} ms"
        f"   p95 {percentile(pushed, 0.95) * 1000:7.1f} ms   max {max(pushed) * 1000:7.1f} ms"
    )
    print(
        f"  request sent -> post:     median {statistics.median(whole) * 1000:7.1f} ms"
        f"   p95 {percentile(whole, 0.95) * 1000:7.1f} ms"
    )
    if scanned:
        print(
            f"  baseline file drop ({files}, SCAN_INTERVAL={settings.scan_interval:g} s):"
            f" median {statistics.median(scanned) * 1000:7.1f} ms"
            f"   p95 {percentile(scanned, 0.95) * 1000:7.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.pushes, args.files))


if __name__ == "__main__":
    main()
