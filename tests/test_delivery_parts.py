"""The delivery worker's parts, each on its own: liveness, caches, recorder, outcomes, loops."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from telegram.error import BadRequest, EndPointNotFound, TelegramError

from bot.delivery import liveness
from bot.delivery.caches import ArticleCache, RenderCache, Voice, VoiceCache
from bot.delivery.outcomes import Outcomes
from bot.delivery.pacing import GLOBAL_SCOPE, ChatPacer, PacerConfig
from bot.delivery.policy import (
    Outcome,
    Verdict,
    classify,
    is_not_modified,
    is_wrong_message_kind,
)
from bot.delivery.recorder import Recorder
from bot.delivery.supervise import Backoff, describe, supervise
from bot.delivery.transport import Prepared
from bot.rendering import Rendered, i18n
from content.models import (
    Article,
    ChatId,
    Delivery,
    DeliveryKind,
    DeliveryState,
    chat_id_of,
)
from content.preferences import ReaderSettings
from content.storage import Repository
from tests.support.articles import make_article
from tests.support.clock import FakeClock
from tests.support.fakes import RecordingRepo
from tests.support.waiting import wait_for

T0 = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)
SINGAPORE = ZoneInfo("Asia/Singapore")
OUTLET = Voice("en", SINGAPORE)


def story(article_id: str = "a1", title: str = "Otters return") -> Article:
    return make_article(article_id, title=title, published=T0)


def delivery(
    chat: str = "1001", *, kind: DeliveryKind = DeliveryKind.READER, **changes: Any
) -> Delivery:
    values: dict[str, Any] = {
        "id": 7,
        "article_id": "a1",
        "chat_id": chat_id_of(chat),
        "kind": kind,
        "priority": 10,
        "state": DeliveryState.SENDING,
        "attempts": 1,
        "next_attempt_at": T0,
        "created_at": T0,
    }
    values.update(changes)
    return Delivery(**values)


# -- liveness ---------------------------------------------------------------------------


def test_dead_owner_is_a_gone_process_or_an_unregistered_id_of_this_one() -> None:
    host = liveness.this_host()
    mine = liveness.new_worker_id(host)
    assert liveness.is_dead_owner(mine, host=host)  # never registered: stale
    liveness.register(mine)
    try:
        assert not liveness.is_dead_owner(mine, host=host)
    finally:
        liveness.unregister(mine)
    assert liveness.is_dead_owner(mine, host=host)
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert liveness.is_dead_owner(f"{host}:{gone.pid}:abcd1234", host=host)
    assert not liveness.is_dead_owner(f"{host}:{os.getppid()}:abcd1234", host=host)
    assert not liveness.is_dead_owner("otherhost:1:abcd1234", host=host)  # lease decides
    assert not liveness.is_dead_owner("not-a-worker-id", host=host)


def test_heartbeat_reports_ticks_and_failures() -> None:
    beat = liveness.Heartbeat()
    assert beat.health(sent=0) == liveness.WorkerHealth(False, None, 0, None, 0)
    beat.running = True
    beat.failed("OperationalError: database is locked")
    beat.failed("OperationalError: database is locked")
    health = beat.health(sent=3)
    assert (health.alive, health.failing_for, health.sent) == (True, 2, 3)
    assert health.last_error == "OperationalError: database is locked"
    beat.tick()
    after = beat.health(sent=3)
    assert after.failing_for == 0 and after.last_tick_age is not None


# -- caches -----------------------------------------------------------------------------


async def test_article_cache_reads_again_after_its_ttl_or_when_fresh_is_asked() -> None:
    loads: list[str] = []
    versions = {"a1": story(title="v1")}

    async def load(article_id: str) -> Article | None:
        loads.append(article_id)
        return versions.get(article_id)

    clock = FakeClock()
    cache = ArticleCache(load, ttl=2.0, size=2, clock=clock)
    assert (await cache.get("a1")) is versions["a1"]
    versions["a1"] = story(title="v2")
    assert (await cache.get("a1")).title == "v1"  # type: ignore[union-attr]
    assert (await cache.get("a1", fresh=True)).title == "v2"  # type: ignore[union-attr]
    versions["a1"] = story(title="v3")
    clock.advance(2.5)
    assert (await cache.get("a1")).title == "v3"  # type: ignore[union-attr]
    assert await cache.get("gone") is None
    assert await cache.get("gone") is None  # a missing article is cached too
    assert loads == ["a1", "a1", "a1", "gone"]
    await cache.get("b")  # a third id: the least recently used ("a1") is dropped
    await cache.get("a1")
    assert loads[-1] == "a1"


def test_render_cache_renders_each_version_once() -> None:
    renders: list[tuple[str, DeliveryKind]] = []

    def render(article: Article, kind: DeliveryKind, zone: tzinfo) -> Rendered:
        renders.append((article.title, kind))
        return Rendered(f"<b>{article.title}</b> &amp; more", None)

    cache = RenderCache(render, allow_paid_broadcast=True)
    first = story()
    rendered, post = cache.get(first, DeliveryKind.READER, OUTLET)
    assert cache.get(first, DeliveryKind.READER, OUTLET)[1] is post
    assert post.params["parse_mode"] == "HTML" and post.params["allow_paid_broadcast"] is True
    cache.get(story(title="Otters return home"), DeliveryKind.READER, OUTLET)  # a new version
    cache.get(first, DeliveryKind.CHANNEL, OUTLET)
    assert renders == [
        ("Otters return", DeliveryKind.READER),
        ("Otters return home", DeliveryKind.READER),
        ("Otters return", DeliveryKind.CHANNEL),
    ]
    plain = cache.prepare(rendered, as_html=False)
    assert plain.params["text"] == "Otters return & more" and "parse_mode" not in plain.params


def _settings_loader(
    stored: dict[str, ReaderSettings], loads: list[list[ChatId]]
) -> Callable[[Sequence[ChatId]], Awaitable[dict[ChatId, ReaderSettings]]]:
    async def load(chat_ids: Sequence[ChatId]) -> dict[ChatId, ReaderSettings]:
        loads.append(list(chat_ids))
        return {c: stored[c] for c in chat_ids if c in stored}

    return load


async def test_voice_cache_reads_a_claims_readers_at_once_and_again_after_its_ttl() -> None:
    loads: list[list[ChatId]] = []
    stored = {"1": ReaderSettings(language="zh", timezone="Europe/London")}
    clock = FakeClock()
    voices = VoiceCache(_settings_loader(stored, loads), zone=SINGAPORE, ttl=5.0, clock=clock)
    ids = [chat_id_of(c) for c in ("1", "2", "1")]
    await voices.prefetch(ids)
    assert await voices.get(ids[0]) == Voice("zh", ZoneInfo("Europe/London"))
    assert await voices.get(ids[1]) is voices.outlet  # never configured: the outlet's voice
    assert voices.outlet == Voice("en", SINGAPORE)
    await voices.prefetch(ids)  # all known lately: no query
    assert loads == [["1", "2"]]
    clock.advance(5.0)
    assert await voices.get(ids[1]) is voices.outlet  # kept too long: read alone
    assert loads == [["1", "2"], ["2"]]


async def test_readers_sharing_a_language_and_zone_share_one_prepared_alert() -> None:
    loads: list[list[ChatId]] = []
    stored = {
        "1": ReaderSettings(language="zh", timezone="Europe/London"),
        "2": ReaderSettings(language="zh", timezone="Europe/London"),
        "3": ReaderSettings(language="zh", timezone="Asia/Shanghai"),
        "4": ReaderSettings(language="en"),
    }
    renders: list[tuple[str, str]] = []

    def render(article: Article, kind: DeliveryKind, zone: tzinfo) -> Rendered:
        renders.append((i18n.language(), str(zone)))
        return Rendered(i18n._("🔔 New story") + f" {article.title} {zone}", None)

    voices = VoiceCache(_settings_loader(stored, loads), zone=SINGAPORE)
    cache = RenderCache(render)
    chats = [chat_id_of(c) for c in ("1", "2", "3", "4", "5")]
    await voices.prefetch(chats)
    article = story()
    posts = [cache.get(article, DeliveryKind.READER, await voices.get(c))[1] for c in chats]
    assert posts[0] is posts[1]  # one serialised payload for both London readers in Chinese
    assert posts[3] is posts[4]  # English in the outlet's zone: set or not, the same post
    assert len({id(p) for p in posts}) == 3
    assert posts[0].params["text"] == "🔔 新报道 Otters return Europe/London"
    assert posts[2].params["text"] == "🔔 新报道 Otters return Asia/Shanghai"
    assert posts[3].params["text"] == "🔔 New story Otters return Asia/Singapore"
    assert renders == [("zh", "Europe/London"), ("zh", "Asia/Shanghai"), ("en", "Asia/Singapore")]
    assert loads == [["1", "2", "3", "4", "5"]]


# -- recorder ---------------------------------------------------------------------------


def _recorder(repo: RecordingRepo, **kwargs: Any) -> Recorder:
    return Recorder(cast(Repository, repo), lambda: T0, **kwargs)


async def test_recorder_commits_when_the_buffer_is_full() -> None:
    repo = RecordingRepo()
    recorder = _recorder(repo, flush_max=3)
    await recorder.record_sent(1, 101)
    await recorder.record_sent(2, 102)
    assert repo.calls == [] and recorder.pending == 2
    await recorder.record_sent(3, 103)
    assert repo.last("outbox.mark_sent_many")["args"] == (
        [(1, 101, T0), (2, 102, T0), (3, 103, T0)],
    )
    assert (recorder.sent, recorder.pending) == (3, 0)


async def test_recorder_keeps_results_the_database_refused_and_commits_them_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = RecordingRepo()
    repo.outbox.fail["mark_sent_many"] = RuntimeError("database is locked")
    recorder = _recorder(repo, flush_seconds=0.01, backoff=Backoff(first=0.01, cap=0.02))
    recorder.start()
    await recorder.record_sent(1, 101)  # a refused commit never reaches the sender
    await wait_for(lambda: repo.names().count("outbox.mark_sent_many") >= 2, what="retries")
    assert recorder.pending == 1
    assert any("could not record sent deliveries (1 " in r.getMessage() for r in caplog.records)
    del repo.outbox.fail["mark_sent_many"]
    await wait_for(lambda: recorder.pending == 0, what="the batch committed")
    await recorder.finish()
    assert repo.last("outbox.mark_sent_many")["args"] == ([(1, 101, T0)],)


async def test_recorder_finish_lets_a_commit_in_progress_complete() -> None:
    """The flusher is awaited, never cancelled: a cancel inside a commit would lose it."""
    committed: list[list[tuple[int, int, datetime]]] = []
    entered, release = asyncio.Event(), asyncio.Event()

    class SlowOutbox:
        async def mark_sent_many(self, batch: list[tuple[int, int, datetime]]) -> None:
            entered.set()
            await release.wait()
            committed.append(list(batch))

    repo = RecordingRepo()
    repo.outbox = SlowOutbox()  # type: ignore[assignment]
    recorder = _recorder(repo, flush_seconds=0.01)
    recorder.start()
    await recorder.record_sent(1, 101)
    await entered.wait()
    await recorder.record_sent(2, 102)  # arrives while the first commit runs
    finishing = asyncio.create_task(recorder.finish())
    await wait_for(lambda: recorder._done.is_set(), what="finish asked")
    release.set()
    await finishing
    assert committed == [[(1, 101, T0)], [(2, 102, T0)]]


async def test_recorder_finish_logs_instead_of_raising_when_the_last_commit_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = RecordingRepo()
    repo.outbox.fail["mark_sent_many"] = RuntimeError("disk I/O error")
    recorder = _recorder(repo, flush_seconds=5.0)
    recorder.start()
    await recorder.record_sent(1, 101)
    await recorder.finish()
    assert any(
        r.levelno == logging.ERROR and "could not record sent deliveries (1 " in r.getMessage()
        for r in caplog.records
    )


# -- outcomes ---------------------------------------------------------------------------


class _Rig:
    def __init__(self) -> None:
        self.repo = RecordingRepo()
        self.sent: list[tuple[Delivery, Prepared]] = []
        self.alerts: list[str] = []
        self.wakeup = asyncio.Event()
        self.chats = ChatPacer(PacerConfig())
        self.recorder = _recorder(self.repo, flush_max=100)
        self.refuse_put: TelegramError | None = None

        async def put(delivery: Delivery, post: Prepared) -> int:
            if self.refuse_put is not None:
                raise self.refuse_put
            self.sent.append((delivery, post))
            return 555

        async def notify(text: str) -> None:
            self.alerts.append(text)

        self.outcomes = Outcomes(
            repo=cast(Repository, self.repo),
            clock=lambda: T0,
            chats=self.chats,
            recorder=self.recorder,
            renders=RenderCache(lambda a, k, z: Rendered("<b>x</b>", None)),
            put=put,
            wakeup=self.wakeup,
            notify=notify,
            max_age=timedelta(hours=24),
        )

    async def apply(self, target: Delivery, verdict: Verdict, **extra: Any) -> None:
        rendered = Rendered("<p>Otters</p> &amp; friends", None)
        await self.outcomes.apply(target, story(), rendered, Outcome(verdict, "why", **extra))


async def test_flood_waits_for_that_chat_and_pauses_everyone_when_several_are_refused() -> None:
    rig = _Rig()
    await rig.apply(delivery("1001"), Verdict.FLOOD, retry_after=5.0)
    retry = rig.repo.last("outbox.mark_retry")
    assert retry["count_attempt"] is False and retry["at"] == T0 + timedelta(seconds=5)
    assert "budget.pause_scope" not in rig.repo.names()
    assert rig.chats.paused_until == 0.0
    await rig.apply(delivery("1002"), Verdict.FLOOD, retry_after=5.0)
    assert rig.repo.last("budget.pause_scope")["scope"] == GLOBAL_SCOPE
    assert rig.chats.paused_until > 0.0
    # Each 429 is counted for the editors' /stats chart.
    assert rig.repo.names().count("activity.count_throttled") == 2


async def test_blocked_reader_is_deactivated_and_a_blocked_channel_is_reported() -> None:
    rig = _Rig()
    await rig.apply(delivery("1001"), Verdict.BLOCKED)
    assert rig.repo.names() == ["outbox.mark_dead", "readers.deactivate"]
    assert rig.alerts == []
    await rig.apply(delivery("@news", kind=DeliveryKind.CHANNEL), Verdict.BLOCKED)
    assert rig.alerts == ["Cannot post to @news: why"]


async def test_migrated_group_moves_and_is_resent_at_once() -> None:
    rig = _Rig()
    await rig.apply(delivery("-100"), Verdict.MIGRATED, new_chat_id=-1009999)
    assert rig.repo.last("readers.move_chat")["new_chat_id"] == "-1009999"
    assert rig.repo.last("outbox.mark_retry")["at"] == T0
    assert rig.wakeup.is_set()


async def test_plain_text_resend_is_recorded_like_any_send() -> None:
    """One path records a send, whatever sent it: the resend counts as a send too."""
    rig = _Rig()
    await rig.apply(delivery("1001"), Verdict.BAD_MARKUP)
    ((_, post),) = rig.sent
    assert post.params["text"] == "Otters & friends" and "parse_mode" not in post.params
    assert (rig.recorder.sent, rig.recorder.pending) == (1, 1)


async def test_transient_failures_retry_with_backoff_then_give_up_after_max_age() -> None:
    rig = _Rig()
    await rig.apply(delivery("1001", attempts=3), Verdict.TRANSIENT)
    retry = rig.repo.last("outbox.mark_retry")
    assert T0 + timedelta(seconds=4) <= retry["at"] <= T0 + timedelta(seconds=8)
    old = delivery("1001", created_at=T0 - timedelta(hours=25), attempts=40)
    await rig.apply(old, Verdict.TRANSIENT)
    assert rig.repo.last("outbox.mark_dead")["error"] == "gave up after 40 tries: why"
    assert rig.alerts == ["Gave up on delivery 7 to 1001: why"]


async def test_refused_chat_is_dead_and_the_editors_are_told() -> None:
    rig = _Rig()
    await rig.apply(delivery("3300"), Verdict.CHAT_GONE)
    assert rig.repo.names() == ["outbox.mark_dead"]
    assert rig.alerts == ["Gave up on “Otters return” for 3300: why"]


# -- policy readings ----------------------------------------------------------------------


def test_telegram_error_texts_are_read_in_the_policy_only() -> None:
    assert is_not_modified(BadRequest("Message is not modified: specified new message content"))
    assert not is_not_modified(BadRequest("Message to edit not found"))
    assert is_wrong_message_kind(BadRequest("There is no text in the message to edit"))
    assert is_wrong_message_kind(BadRequest("There is no caption in the message to edit"))
    assert not is_wrong_message_kind(BadRequest("Chat not found"))
    unknown = classify(EndPointNotFound("Endpoint 'sendMessage' not found in Bot API"))
    assert unknown.verdict is Verdict.TRANSIENT and "token or method" in unknown.reason


# -- loops that survive -------------------------------------------------------------------


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(first=1.0, cap=30.0)
    assert [backoff.failed() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.failed() == 1.0


def test_describe_keeps_the_driver_error_and_drops_sql_parameters() -> None:
    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError(
        "UPDATE deliveries SET claimed_by=?", {"claimed_by": "reader Alice"}, Exception("locked")
    )
    assert describe(wrapped) == "Exception: locked"
    assert describe(ValueError("first line\nsecond")) == "ValueError: first line"


async def test_supervise_logs_a_dead_task_and_restarts_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    runs: list[int] = []

    async def run() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("boom")
        await stop.wait()

    task = asyncio.create_task(
        supervise("delivery worker", run, stop=stop, backoff=Backoff(first=0.01))
    )
    await wait_for(lambda: len(runs) == 2, what="the restart")
    stop.set()
    await task
    died = [r for r in caplog.records if "delivery worker died" in r.getMessage()]
    assert died and died[0].levelno == logging.ERROR
