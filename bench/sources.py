"""Feed polling benchmark: one poll cycle of N feeds, its memory, and the bot's answers meanwhile.

Usage: python bench/sources.py [--feeds 2000] [--items 10] [--changed 0.1] [--hosts 50]
       [--baseline-threads 8] [--latest-seconds 20] [--no-bot] [--no-baseline]

Every part runs in its own process, on loopback only:
- the feed server (this file, `--_feeds`): aiohttp serving N generated RSS 2.0 feeds (items with
  full text in content:encoded, an image, categories) from `--hosts` loopback addresses
  (127.0.0.1, 127.0.0.2, ...; the fetcher limits connections per host, as it would per site),
  with ETag and Last-Modified, answering 304 to a conditional GET of an unchanged feed. Its
  control route `/_advance` gives `--changed` of the feeds one new item (and drops the oldest).
- (1) ours: the product's code path (`register_sources`, then `bot.jobs.poll_and_plan` with
  PollConfig's defaults, ALLOW_PRIVATE_URLS on, a real SQLite file). One process registers the
  sources and runs the first cycle (the archive import); after `/_advance` a fresh process runs
  the next cycle (all sources due: its clock is one interval plus jitter later), as a restarted
  product would. Time of each cycle (wall, inside the process) and each process's peak RSS.
- (1) baseline: `feedparser.parse(url, etag=..., modified=...)` per feed on a thread pool of
  `--baseline-threads` (8 = our PollConfig.concurrency), first cycle, `/_advance`, next cycle,
  in its own process. It fetches and parses only: no dedupe, storage, summaries or planning.
- (2) the bot: the sandbox (`python -m bot.sandbox`) and `python -m bot run --role all` with
  SOURCES naming every feed, on a copy of (1)'s database. Readers send `/latest` (each waits
  for the answer and pauses 1.2-2 s, under Telegram's one message a second per chat) for
  `--latest-seconds` with nothing due, then `/_advance` and every source is made due (their
  `next_poll_at` set to now, as if the interval had passed); the round trips whose command was
  sent between the first feed request of the cycle and the last source stored are "during".
No figure is asserted; the goals are printed next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.measure import log, peak_rss_mb, self_peak_rss_mb  # noqa: E402

THIS_FILE = str(Path(__file__).resolve())
TOKEN = "123456:bench-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
CHANNEL = "@newswire_bench"
INTERVAL = 300.0  # FEED_INTERVAL's default
FIRST_READER = 7_000_000
READERS = 12
READER_PAUSE = (1.2, 2.0)  # seconds between one reader's commands (per-chat limit: 1/s)
REPLY_TIMEOUT = 30.0
GOAL_CYCLE_S = 15.0
GOAL_RSS_MB = 150.0
GOAL_P95_RATIO = 2.0
BASE_TIME = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# ---------------------------------------------------------------- the feed server (own process)

_WORDS = [
    "council", "transport", "housing", "budget", "school", "hospital", "market", "harbour",
    "rail", "bus", "park", "library", "election", "court", "police", "weather", "flood", "heat",
    "festival", "museum", "clinic", "port", "airport", "tax", "rent", "workers", "union",
    "startup", "bank", "grant", "lawmakers", "residents", "minister", "agency", "survey",
]  # fmt: skip
_SENTENCES = (
    "The {a} committee said on {day} that the {b} plan would be reviewed by the year end.",
    "Residents near the {a} site told reporters they had waited months for news about the {b}.",
    "Officials expect the {a} changes to cost less than first estimated, according to a statement.",
    "A spokesperson for the {b} office declined to comment on the timing of the {a} review.",
    "The {a} figures published this week show a rise for the third quarter in a row.",
    "Critics of the {b} proposal say the {a} consultation was too short and too narrow.",
    "Work on the {a} project is due to start in {month} and to finish within two years.",
    "The {b} minister is expected to set out the details in parliament next week.",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS = ("January", "March", "May", "July", "September", "November")


def _sentence(rng: random.Random) -> str:
    return rng.choice(_SENTENCES).format(
        a=rng.choice(_WORDS), b=rng.choice(_WORDS), day=rng.choice(_DAYS), month=rng.choice(_MONTHS)
    )


def render_item(feed: int, number: int) -> str:
    """One RSS item, the same bytes every time it is asked for."""
    rng = random.Random(feed * 1_000_003 + number)
    topic, other = rng.sample(_WORDS, 2)
    title = f"{topic.capitalize()} {other} update {number} from site {feed}"
    paragraphs = [" ".join(_sentence(rng) for _ in range(3)) for _ in range(5)]
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    published = BASE_TIME + timedelta(hours=number)
    link = f"https://site{feed}.example/news/{number}-{topic}-{other}"
    return (
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>{link}</link>"
        f'<guid isPermaLink="false">site{feed}-item{number}</guid>'
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<dc:creator>Reporter {rng.randint(1, 40)}</dc:creator>"
        f"<category>{topic}</category><category>{other}</category>"
        f"<description>{escape(paragraphs[0][:200])}…</description>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded>"
        f'<media:content url="https://site{feed}.example/img/{number}.jpg" medium="image"/>'
        "</item>"
    )


class FeedSet:
    """N feeds of `items` items each; a feed's generation moves its window one item on."""

    def __init__(self, count: int, items: int, changed: float, seed: int) -> None:
        self.count = count
        self.items = items
        self.changed = changed
        self.rng = random.Random(seed)
        self.generation = [0] * count
        self.modified = [BASE_TIME] * count
        self._bodies: dict[int, tuple[int, bytes]] = {}
        self.stats: Counter[str] = Counter()
        self.first: float | None = None
        self.last: float | None = None

    def etag(self, feed: int) -> str:
        return f'"f{feed}-g{self.generation[feed]}"'

    def last_modified(self, feed: int) -> str:
        return format_datetime(self.modified[feed], usegmt=True)

    def body(self, feed: int) -> bytes:
        generation = self.generation[feed]
        cached = self._bodies.get(feed)
        if cached is not None and cached[0] == generation:
            return cached[1]
        newest = generation + self.items - 1
        items = "".join(render_item(feed, n) for n in range(newest, generation - 1, -1))
        text = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:media="http://search.yahoo.com/mrss/">'
            f"<channel><title>Site {feed} news</title><link>https://site{feed}.example/</link>"
            f"<description>Bench feed {feed}</description>{items}</channel></rss>"
        )
        data = text.encode("utf-8")
        self._bodies[feed] = (generation, data)
        return data

    def advance(self) -> int:
        """`changed` of the feeds get a new item; the counters restart."""
        chosen = self.rng.sample(range(self.count), round(self.count * self.changed))
        when = datetime.now(UTC).replace(microsecond=0)
        for feed in chosen:
            self.generation[feed] += 1
            self.modified[feed] = when
        self.stats.clear()
        self.first = self.last = None
        return len(chosen)


def feed_app(feeds: FeedSet) -> Any:
    from aiohttp import web

    async def serve(request: web.Request) -> web.StreamResponse:
        now = time.monotonic()
        feeds.first = feeds.first or now
        feeds.last = now
        try:
            feed = int(request.match_info["n"])
        except ValueError:
            raise web.HTTPNotFound() from None
        if not 0 <= feed < feeds.count:
            raise web.HTTPNotFound()
        headers = {"ETag": feeds.etag(feed), "Last-Modified": feeds.last_modified(feed)}
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        if (inm is not None and inm == headers["ETag"]) or (
            inm is None and ims is not None and ims == headers["Last-Modified"]
        ):
            feeds.stats["304"] += 1
            return web.Response(status=304, headers=headers)
        feeds.stats["200"] += 1
        return web.Response(
            body=feeds.body(feed),
            headers={**headers, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def advance(request: web.Request) -> web.StreamResponse:
        return web.json_response({"changed": feeds.advance()})

    async def stats(request: web.Request) -> web.StreamResponse:
        return web.json_response({**feeds.stats, "first": feeds.first, "last": feeds.last})

    app = web.Application()
    app.router.add_get("/feeds/{n}.xml", serve)
    app.router.add_post("/_advance", advance)
    app.router.add_get("/_stats", stats)
    return app


async def run_feed_server(count: int, items: int, changed: float, hosts: int, out: Path) -> None:
    """Serve until SIGTERM; write the feed URLs to `out`, print the control URL."""
    from aiohttp import web

    feeds = FeedSet(count, items, changed, seed=11)
    runner = web.AppRunner(feed_app(feeds), access_log=None)
    await runner.setup()
    bases = []
    for host in range(1, hosts + 1):
        site = web.TCPSite(runner, f"127.0.0.{host}", 0)
        await site.start()
        port = runner.addresses[-1][1]  # the socket this site just bound
        bases.append(f"http://127.0.0.{host}:{port}")
    urls = [f"{bases[n % hosts]}/feeds/{n}.xml" for n in range(count)]
    await asyncio.to_thread(out.write_text, "\n".join(urls) + "\n")
    print(f"{bases[0]}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


# ---------------------------------------------------------------- (1) ours (own process)


async def poll_cycle(db_url: str, urls_file: str, mode: str) -> dict[str, Any]:
    """mode "archive": register and run the first cycle; "next": the cycle one interval later."""
    from zoneinfo import ZoneInfo

    from bot.context import Services
    from bot.jobs import poll_and_plan
    from content.fetching import Fetcher, default_user_agent
    from content.sources.polling import PollConfig, register_sources
    from content.storage import Repository
    from content.summarizing import ExtractiveSummarizer

    specs = (await asyncio.to_thread(Path(urls_file).read_text)).split()
    rss_before = self_peak_rss_mb()
    repo = Repository.open(db_url)
    await repo.migrate()
    now = datetime.now(UTC)
    if mode == "next":
        # Past every next_poll_at (interval ± 10 % jitter): every source is due.
        now += timedelta(seconds=INTERVAL * 1.1 + 5)
    registered = 0.0
    if mode == "archive":
        started = time.perf_counter()
        await register_sources(repo, specs, now=now, interval=INTERVAL)
        registered = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as empty:
        services = Services(
            repo=repo,
            summarizer=ExtractiveSummarizer(),
            zone=ZoneInfo("Asia/Singapore"),
            channels=(CHANNEL,),
            admin_ids=frozenset(),
            content_dir=Path(empty),
            clock=lambda: now,
        )
        services.fetcher = Fetcher(allow_private=True, user_agent=default_user_agent())
        rss_ready = self_peak_rss_mb()
        idle = Probes()  # the same probes for 2 s with nothing else running, to compare
        probing = asyncio.create_task(idle.run(repo))
        await asyncio.sleep(2.0)
        idle.stop.set()
        await probing
        probes = Probes()
        probing = asyncio.create_task(probes.run(repo))
        started = time.perf_counter()
        deliveries = await poll_and_plan(services, PollConfig(interval=INTERVAL))
        elapsed = time.perf_counter() - started
        probes.stop.set()
        await probing
        await services.fetcher.close()
    sources = await repo.sources.all()
    errors = Counter(s.last_error for s in sources if s.last_error)
    await repo.close()
    return {
        "seconds": elapsed,
        "register_seconds": registered,
        "deliveries": deliveries,
        "sources": len(sources),
        "errors": dict(errors.most_common(3)),
        "error_count": sum(errors.values()),
        "peak_rss_mb": self_peak_rss_mb(),
        "rss_before_mb": rss_before,
        "rss_ready_mb": rss_ready,
        "loop_lag": probes.lags,
        "budget_write": probes.writes,
        "idle_loop_lag": idle.lags,
        "idle_budget_write": idle.writes,
    }


@dataclass
class Probes:
    """During a cycle: how late a 10 ms timer fires (event-loop lag), and how long the write a
    bot reply makes first (`budget.reserve_slots`, in a scope of its own) takes, every 100 ms."""

    lags: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, repo: Any) -> None:
        await asyncio.gather(self._lag(), self._write(repo))

    async def _lag(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - started - 0.01)

    async def _write(self, repo: Any) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            await repo.budget.reserve_slots(
                scope="bench-probe", count=1, interval=0.001, now=time.time()
            )
            self.writes.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 0.1)


# ---------------------------------------------------------------- (1) baseline (own process)


def baseline_cycles(urls_file: str, control: str, threads: int) -> dict[str, Any]:
    """feedparser.parse(url) per feed on a thread pool: a first cycle, /_advance, the next."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    import feedparser

    urls = Path(urls_file).read_text().split()
    validators: dict[str, tuple[Any, Any]] = {}
    statuses: Counter[str] = Counter()

    def one(url: str) -> int:
        etag, modified = validators.get(url, (None, None))
        parsed = feedparser.parse(url, etag=etag, modified=modified)
        validators[url] = (parsed.get("etag"), parsed.get("modified"))
        statuses[str(parsed.get("status"))] += 1
        return len(parsed.entries)

    def cycle() -> tuple[float, int]:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            entries = sum(pool.map(one, urls))
        return time.perf_counter() - started, entries

    first, first_entries = cycle()
    first_statuses = dict(statuses)
    statuses.clear()
    urllib.request.urlopen(urllib.request.Request(f"{control}_advance", method="POST")).read()
    second, second_entries = cycle()
    return {
        "first_seconds": first,
        "first_entries": first_entries,
        "first_statuses": first_statuses,
        "seconds": second,
        "entries": second_entries,
        "statuses": dict(statuses),
        "peak_rss_mb": self_peak_rss_mb(),
    }


# ---------------------------------------------------------------- processes


class Processes:
    """Every child process this run starts, so a finally block can stop them all."""

    def __init__(self) -> None:
        self.children: list[asyncio.subprocess.Process] = []

    async def start(
        self, *args: str, env: dict[str, str] | None = None, log_path: Path | None = None
    ) -> asyncio.subprocess.Process:
        output = log_path.open("ab") if log_path else None
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdout=subprocess.PIPE,
                stderr=output if output is not None else None,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()
        self.children.append(process)
        return process

    async def stop(self, process: asyncio.subprocess.Process, grace: float = 20.0) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                # Under py-spy, SIGINT reaches the whole group so the profile gets written.
                if os.environ.get("BENCH_PYSPY"):
                    os.killpg(process.pid, signal.SIGINT)
                else:
                    process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    async def stop_all(self) -> None:
        for process in self.children:
            await self.stop(process, grace=10.0)


def pyspy_prefix(name: str) -> list[str]:
    """`py-spy record` in front of a child's command when BENCH_PYSPY=<output prefix> is set."""
    prefix = os.environ.get("BENCH_PYSPY")
    if not prefix:
        return []
    spy = str(Path(sys.executable).parent / "py-spy")
    return [spy, "record", "-r", "200", "-f", "raw", "-o", f"{prefix}-{name}.txt", "--"]


async def run_helper(
    procs: Processes, *args: str, within: float, profile: str | None = None
) -> dict[str, Any]:
    """Run this file in a child process for one job (so its time and memory are its own)."""
    command = [*pyspy_prefix(profile), sys.executable] if profile else [sys.executable]
    process = await procs.start(*command, THIS_FILE, "--_helper", *args)
    assert process.stdout is not None
    try:
        out = await asyncio.wait_for(process.stdout.read(), within)
        await asyncio.wait_for(process.wait(), 60)
    finally:
        await procs.stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"helper {args[0]} failed with {process.returncode}")
    # The last JSON line: py-spy, when it runs the helper, prints its own lines after it.
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# ---------------------------------------------------------------- (2) readers during a cycle


@dataclass
class Readers:
    """(time the command was sent, round trip seconds), and the commands never answered."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    unanswered: list[float] = field(default_factory=list)
    errors: int = 0

    def between(self, start: float, end: float) -> list[float]:
        return [rtt for sent, rtt in self.samples if start <= sent <= end]


async def readers_loop(control: Any, readers: range, stop: asyncio.Event, out: Readers) -> None:
    async def one(reader: int) -> None:
        rng = random.Random(reader)
        await asyncio.sleep(rng.uniform(0, READER_PAUSE[1]))
        while not stop.is_set():
            sent_at = time.monotonic()
            try:
                sent = await control.send(reader, "/latest")
                answer = await control.wait(
                    reader, after=int(sent["message_id"]), seconds=REPLY_TIMEOUT
                )
            except (aiohttp.ClientError, TimeoutError):
                out.errors += 1
            else:
                if any(m["from_bot"] for m in answer["messages"]):
                    out.samples.append((sent_at, time.monotonic() - sent_at))
                else:
                    out.unanswered.append(sent_at)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(*READER_PAUSE))

    await asyncio.gather(*(one(r) for r in readers))


async def make_all_due(db_url: str) -> int:
    """Every source's next poll is now (as if the interval had passed), in one statement."""
    from sqlalchemy import update

    from content.storage import Repository
    from content.storage.tables import sources

    repo = Repository.open(db_url)
    try:
        async with repo.engine.begin() as conn:
            result = await conn.execute(
                update(sources).values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        return int(result.rowcount)
    finally:
        await repo.close()


async def not_yet_polled(db_url: str, after: datetime) -> int:
    """Sources whose next poll is still before `after` (not polled since they were made due)."""
    from sqlalchemy import func, select

    from content.storage import Repository
    from content.storage.tables import sources

    repo = Repository.open(db_url)
    try:
        async with repo.engine.connect() as conn:
            stmt = select(func.count()).select_from(sources).where(sources.c.next_poll_at < after)
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await repo.close()


async def bot_during_cycle(
    procs: Processes,
    http: aiohttp.ClientSession,
    work: Path,
    db_url: str,
    urls_file: Path,
    control: str,
    latest_seconds: float,
) -> dict[str, Any]:
    from bot.sandbox.client import SandboxClient

    sandbox_proc = await procs.start(
        sys.executable, "-m", "bot.sandbox", "--host", "127.0.0.1", "--port", "0",
        "--token", TOKEN,
    )  # fmt: skip
    assert sandbox_proc.stdout is not None
    url = (await asyncio.wait_for(sandbox_proc.stdout.readline(), 30)).decode().strip()
    if not url.startswith("http://127.0.0.1:"):
        raise RuntimeError(f"sandbox did not start: {url!r}")
    sandbox = SandboxClient(url, http)
    await sandbox.add_channel(CHANNEL)
    readers = range(FIRST_READER, FIRST_READER + READERS)
    for reader in readers:
        await sandbox.add_user(reader, f"Reader {reader}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    content_dir = work / "content"
    content_dir.mkdir(exist_ok=True)
    specs = (await asyncio.to_thread(urls_file.read_text)).split()
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"{url}bot",
        TELEGRAM_CHANNELS=CHANNEL,
        DATABASE_URL=db_url,
        CONTENT_DIR=str(content_dir),
        SOURCES=",".join(specs),
        FEED_INTERVAL=str(INTERVAL),
        ALLOW_PRIVATE_URLS="true",
        HTTP_PORT="0",
        ADMIN_IDS="",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    log_path = work / "newswire.log"
    product = await procs.start(
        *pyspy_prefix("bot"), sys.executable, "-m", "bot", "run", "--role", "all",
        env=env, log_path=log_path,
    )  # fmt: skip

    async def ask_once() -> bool:
        sent = await sandbox.send(readers[0], "/help")
        answer = await sandbox.wait(readers[0], after=int(sent["message_id"]), seconds=5)
        return any(m["from_bot"] for m in answer["messages"])

    end = time.monotonic() + 90
    while not await ask_once():
        if product.returncode is not None or time.monotonic() > end:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"newswire did not answer /help:\n{tail}")
    await asyncio.sleep(2.5)  # the per-chat slot of that /help is free again
    log(f"bot up; {READERS} readers send /latest for {latest_seconds:.0f} s with nothing due")
    result = Readers()
    stop = asyncio.Event()
    traffic = asyncio.create_task(readers_loop(sandbox, readers, stop, result))
    alone_start = time.monotonic()
    await asyncio.sleep(latest_seconds)
    alone_end = time.monotonic()
    async with http.post(f"{control}_advance") as resp:
        changed = (await resp.json())["changed"]
    due_at = datetime.now(UTC)
    made_due = await make_all_due(db_url)
    log(f"{changed} feeds changed; {made_due} sources made due")
    deadline = time.monotonic() + 600
    while (left := await not_yet_polled(db_url, due_at + timedelta(seconds=60))) > 0:
        if time.monotonic() > deadline or product.returncode is not None:
            raise RuntimeError(f"the cycle did not finish: {left} sources not polled")
        await asyncio.sleep(0.25)
    cycle_end = time.monotonic()
    async with http.get(f"{control}_stats") as resp:
        served = await resp.json()
    await asyncio.sleep(READER_PAUSE[1])  # the last commands of the cycle get their answers
    stop.set()
    await traffic
    rss = peak_rss_mb(product.pid)
    await procs.stop(product)
    await procs.stop(sandbox_proc)
    cycle_start = float(served["first"])
    alone = result.between(alone_start, alone_end)
    during = result.between(cycle_start, cycle_end)
    return {
        "alone": alone,
        "during": during,
        "cycle_seconds": cycle_end - cycle_start,
        "served": {k: v for k, v in served.items() if k in ("200", "304")},
        "unanswered": len(result.unanswered),
        "errors": result.errors,
        "product_rss_mb": rss,
    }


# ---------------------------------------------------------------- the run


def describe(values: Sequence[float]) -> str:
    if not values:
        return "no samples"
    p50, p95 = quantile(values, 0.5), quantile(values, 0.95)
    assert p50 is not None and p95 is not None
    top = max(values) * 1000
    return f"n={len(values)}, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {top:.0f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def main_async(args: argparse.Namespace) -> int:
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="newswire-sources-"))
    urls_file = work / "feeds.txt"
    try:
        server = await procs.start(
            *(pyspy_prefix("feeds") if args.profile_feeds else []),
            sys.executable, THIS_FILE, "--_feeds", str(args.feeds), str(args.items),
            str(args.changed), str(args.hosts), str(urls_file),
        )  # fmt: skip
        assert server.stdout is not None
        control = (await asyncio.wait_for(server.stdout.readline(), 30)).decode().strip()
        if not control.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"feed server did not start: {control!r}")
        log(f"{args.feeds} feeds × {args.items} items on {args.hosts} loopback hosts")
        base = None
        if not args.no_baseline:
            # First, so that each of our cycles sees exactly `--changed` of the feeds changed.
            log(f"baseline: feedparser.parse(url) on {args.baseline_threads} threads")
            base = await run_helper(
                procs, "baseline", str(urls_file), control, str(args.baseline_threads),
                within=3600,
            )  # fmt: skip
        db = work / "ours.db"
        db_url = f"sqlite+aiosqlite:///{db}"
        log("ours: registering the sources and importing the archive (first cycle)")
        first = await run_helper(
            procs, "poll", db_url, str(urls_file), "archive", within=3600, profile="archive"
        )
        async with aiohttp.ClientSession() as http, http.post(f"{control}_advance") as resp:
            changed = (await resp.json())["changed"]
        log(f"ours: {changed} feeds changed; the next cycle in a fresh process")
        nxt = await run_helper(
            procs, "poll", db_url, str(urls_file), "next", within=3600, profile="cycle"
        )
        print(
            f"(1) ours      first cycle (archive import of {args.feeds * args.items:,} items):"
            f" {first['seconds']:.1f} s (+ registering {first['register_seconds']:.1f} s),"
            f" peak RSS {first['peak_rss_mb']:.0f} MB"
            f" (after imports {first['rss_ready_mb']:.0f} MB),"
            f" source errors {first['error_count']}",
            flush=True,
        )
        cycle_ok = nxt["seconds"] <= GOAL_CYCLE_S
        rss_ok = nxt["peak_rss_mb"] <= GOAL_RSS_MB
        print(
            f"(1) ours      next cycle ({changed} of {args.feeds} feeds changed):"
            f" {nxt['seconds']:.2f} s [goal ≤ {GOAL_CYCLE_S:g} s: {verdict(cycle_ok)}],"
            f" peak RSS {nxt['peak_rss_mb']:.0f} MB"
            f" (before the cycle, imports and migrations: {nxt['rss_ready_mb']:.0f} MB)"
            f" [goal < {GOAL_RSS_MB:g} MB: {verdict(rss_ok)}], channel deliveries planned"
            f" {nxt['deliveries']}, source errors {nxt['error_count']} {nxt['errors'] or ''}",
            flush=True,
        )
        print(
            f"(1) ours      during that cycle: event-loop lag {describe(nxt['loop_lag'])};"
            f" a reply's budget write {describe(nxt['budget_write'])}",
            flush=True,
        )
        print(
            f"(1) ours      idle, just before it: event-loop lag {describe(nxt['idle_loop_lag'])};"
            f" a reply's budget write {describe(nxt['idle_budget_write'])}",
            flush=True,
        )
        if base is not None:
            print(
                f"(1) baseline  feedparser.parse(url, etag, modified) per feed,"
                f" {args.baseline_threads} threads: first cycle {base['first_seconds']:.1f} s,"
                f" next cycle {base['seconds']:.2f} s (statuses {base['statuses']}),"
                f" peak RSS {base['peak_rss_mb']:.0f} MB (fetch + parse only)",
                flush=True,
            )
        if not args.no_bot:
            bot_db = work / "bot.db"
            shutil.copy(db, bot_db)
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT + 30)
            ) as http:
                bot = await bot_during_cycle(
                    procs, http, work, f"sqlite+aiosqlite:///{bot_db}", urls_file, control,
                    args.latest_seconds,
                )  # fmt: skip
            alone_p95 = quantile(bot["alone"], 0.95)
            during_p95 = quantile(bot["during"], 0.95)
            ratio = during_p95 / alone_p95 if alone_p95 and during_p95 else None
            rss = bot["product_rss_mb"]
            print(
                f"(2) /latest   no cycle: {describe(bot['alone'])}",
                flush=True,
            )
            ratio_text = "n/a" if ratio is None else f"{ratio:.2f}×"
            print(
                f"(2) /latest   during the cycle ({bot['cycle_seconds']:.1f} s in `newswire run`,"
                f" served {bot['served']}): {describe(bot['during'])};"
                f" p95 ratio {ratio_text} [goal < {GOAL_P95_RATIO:g}×:"
                f" {verdict(ratio is not None and ratio < GOAL_P95_RATIO)}],"
                f" unanswered {bot['unanswered']}, errors {bot['errors']},"
                f" newswire peak RSS {rss:.0f} MB",
                flush=True,
            )
    finally:
        await procs.stop_all()
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def helper(args: list[str]) -> dict[str, Any]:
    job = args[0]
    if job == "poll":
        return asyncio.run(poll_cycle(args[1], args[2], args[3]))
    if job == "baseline":
        return baseline_cycles(args[1], args[2], int(args[3]))
    raise SystemExit(f"unknown helper job {job}")


def main() -> int:
    import logging

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if len(sys.argv) > 1 and sys.argv[1] == "--_helper":
        print(json.dumps(helper(sys.argv[2:])), flush=True)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--_feeds":
        count, items, changed, hosts, out = sys.argv[2:7]
        asyncio.run(run_feed_server(int(count), int(items), float(changed), int(hosts), Path(out)))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=10, help="items per feed")
    parser.add_argument("--changed", type=float, default=0.1, help="share of feeds per cycle")
    parser.add_argument("--hosts", type=int, default=50, help="loopback addresses serving them")
    parser.add_argument("--baseline-threads", type=int, default=8)
    parser.add_argument("--latest-seconds", type=float, default=20.0)
    parser.add_argument("--no-bot", action="store_true", help="skip (2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip feedparser's run")
    parser.add_argument("--profile-feeds", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.hosts <= 250:
        parser.error("--hosts is 1..250")
    print(
        f"# sources bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs,"
        f" {args.feeds} feeds × {args.items} items, {args.changed:.0%} changed per cycle,"
        f" {args.hosts} hosts",
        flush=True,
    )
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
