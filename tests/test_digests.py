"""Digests and quiet hours: who is held, until when, what is bundled, and exclusions at planning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from content.digests import DIGEST_SIZE, choose, hold_until, release_kind
from content.models import Delivery, DeliveryKind, DeliveryState, SubscriptionKind, chat_id_of
from content.pipeline import plan_due, release_due
from content.preferences import DigestMode, QuietHours, ReaderSettings
from content.storage import Repository
from tests.support.articles import make_article, paragraphs
from tests.support.storage import deliveries_of

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
DAILY_8 = ReaderSettings(digest=DigestMode.DAILY, digest_at=time(8, 0))
NIGHT = ReaderSettings(quiet=QuietHours(time(22, 0), time(7, 0)))
INSTANT = ReaderSettings()
T0 = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the day before the UK's clocks go forward


def test_a_daily_digest_is_held_until_the_local_time_across_a_dst_change() -> None:
    # 12:00 UTC on Saturday: the next 08:00 in London is Sunday, after the change (BST).
    assert hold_until(DAILY_8, LONDON, T0, breaking=False) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )
    # New York changed two weeks before: 08:00 EDT is 12:00 UTC, so the next is tomorrow.
    assert hold_until(DAILY_8, NEW_YORK, T0, breaking=True) == datetime(
        2026, 3, 29, 12, 0, tzinfo=UTC
    )


def test_quiet_hours_spanning_midnight_hold_until_they_end_and_breaking_goes_through() -> None:
    late = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # GMT in London: 23:30 local
    end = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
    assert hold_until(NIGHT, LONDON, late, breaking=False) == end
    assert hold_until(NIGHT, LONDON, late + timedelta(hours=2), breaking=False) == end
    assert hold_until(NIGHT, LONDON, late, breaking=True) is None
    strict = ReaderSettings(quiet=NIGHT.quiet, breaking_in_quiet=False)
    assert hold_until(strict, LONDON, late, breaking=True) == end
    assert hold_until(NIGHT, LONDON, end, breaking=False) is None  # quiet hours are over
    assert hold_until(ReaderSettings(), LONDON, late, breaking=False) is None


def test_held_stories_go_out_as_a_digest_or_while_you_were_away() -> None:
    assert release_kind(DAILY_8) is DeliveryKind.DIGEST
    assert release_kind(NIGHT) is DeliveryKind.AWAY


def test_a_digest_lists_the_newest_ten_and_keeps_the_rest_for_its_button() -> None:
    stories = [make_article(f"s{n}", published=T0 + timedelta(minutes=n)) for n in range(13)]
    pick = choose([*stories, stories[0]])  # a story bundled twice is listed once
    assert len(pick.shown) == DIGEST_SIZE
    assert pick.shown[0].id == "s12"
    assert [a.id for a in pick.more] == ["s2", "s1", "s0"]


async def _reader(
    repo: Repository,
    chat: int,
    settings: ReaderSettings = INSTANT,
    *,
    value: str = "wallet",
    kind: SubscriptionKind = SubscriptionKind.KEYWORD,
    excludes: tuple[str, ...] = (),
) -> None:
    chat_id = chat_id_of(chat)
    await repo.readers.update_settings(chat_id=chat_id, settings=settings, now=T0)
    await repo.readers.follow(chat_id=chat_id, kind=kind, value=value, excludes=excludes, now=T0)


async def _publish(repo: Repository, article_id: str, body: str, **more: object) -> None:
    await repo.articles.upsert(make_article(article_id, body=body, **more), now=T0)


def _states(rows: list[Delivery], chat: int) -> list[DeliveryState]:
    return [d.state for d in rows if d.chat_id == str(chat)]


async def test_exclusions_and_mutes_are_whole_words_phrases_or_topics(repo: Repository) -> None:
    await _reader(repo, 1, excludes=("sports",))
    await _reader(repo, 2, excludes=("hawker centre",))
    await _reader(repo, 3)
    await repo.readers.mute(chat_id=chat_id_of(3), value="football", now=T0)
    await _reader(repo, 4, excludes=("sports",))
    await _reader(repo, 4, value="wildlife", kind=SubscriptionKind.TOPIC)  # no exclusion here
    await _reader(repo, 5)
    await _publish(repo, "s", "A wallet found near the Hawker  Centre after SPORTS day.")
    await _publish(
        repo, "f", "A wallet lost at a footballer's house.", topics=("football", "wildlife")
    )
    await _publish(repo, "p", "A wallet returned at the sportsground.")
    await plan_due(repo, channels=(), now=T0)
    sent = {a: {d.chat_id for d in await deliveries_of(repo, a)} for a in ("s", "f", "p")}
    assert sent["s"] == {"3", "5"}  # "hawker  centre": a phrase across any whitespace
    assert sent["f"] == {"1", "2", "4", "5"}  # muted by topic, not by "footballer"
    assert sent["p"] == {"1", "2", "3", "4", "5"}  # "sportsground" is not the word "sports"


async def test_a_reader_with_another_matching_subscription_still_gets_the_story(
    repo: Repository,
) -> None:
    await _reader(repo, 1, excludes=("sports",))
    await _reader(repo, 1, value="stadium")
    await _publish(repo, "s", "A wallet found at the stadium after sports day.")
    await plan_due(repo, channels=(), now=T0)
    assert [d.chat_id for d in await deliveries_of(repo, "s")] == ["1"]


async def test_held_stories_are_bundled_once_into_one_digest_per_reader(
    repo: Repository,
) -> None:
    await _reader(repo, 1, DAILY_8)
    await _reader(repo, 2, NIGHT)
    await _reader(repo, 3)
    night = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    for n in range(3):
        await repo.articles.upsert(
            make_article(f"s{n}", blocks=paragraphs("A lost wallet.")), now=night
        )
    await plan_due(repo, channels=(), now=night, default_zone=LONDON)
    rows = [d for n in range(3) for d in await deliveries_of(repo, f"s{n}")]
    assert _states(rows, 1) == [DeliveryState.HELD] * 3
    assert _states(rows, 2) == [DeliveryState.HELD] * 3
    assert _states(rows, 3) == [DeliveryState.PENDING] * 3

    quiet_end = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 07:00 BST
    assert await release_due(repo, now=quiet_end - timedelta(seconds=1)) == 0
    assert await release_due(repo, now=quiet_end) == 1
    assert await release_due(repo, now=quiet_end) == 0  # running again adds nothing
    # The digest reader's 08:00 BST is an hour later.
    assert await release_due(repo, now=quiet_end + timedelta(hours=1)) == 1
    claimed = await repo.outbox.claim_due(now=quiet_end + timedelta(hours=1), limit=10)
    assert sorted((d.chat_id, d.kind.value) for d in claimed) == [
        ("1", "digest"),
        ("2", "away"),
        *[("3", "reader")] * 3,
    ]
    for digest in (d for d in claimed if d.kind is not DeliveryKind.READER):
        stories = await repo.outbox.bundled(
            digest_id=digest.id, chat_id=digest.chat_id, now=quiet_end
        )
        assert [a.id for a in stories] == ["s0", "s1", "s2"]
    assert await release_due(repo, now=quiet_end + timedelta(days=2)) == 0  # none wait now


async def test_a_reader_who_blocks_the_bot_loses_their_held_stories(repo: Repository) -> None:
    await _reader(repo, 1, DAILY_8)
    await _publish(repo, "s", "A lost wallet.")
    await plan_due(repo, channels=(), now=T0)
    await repo.readers.deactivate(chat_id=chat_id_of(1), reason="blocked", now=T0)
    assert [d.state for d in await deliveries_of(repo, "s")] == [DeliveryState.DEAD]
    assert await release_due(repo, now=T0 + timedelta(days=2)) == 0


def test_a_digest_message_shows_ten_stories_a_button_each_and_the_rest_behind_one() -> None:
    from bot.callbacks import ALL_BUTTONS, DigestMore
    from bot.rendering.digests import digest, digest_rest

    stories = [
        make_article(
            f"s{n}",
            title=f"Story <{n}>",
            summary="One line. " * 30,
            published=T0 + timedelta(minutes=n),
        )
        for n in range(12)
    ]
    pick = choose(stories)
    rendered = digest(pick, kind=DeliveryKind.DIGEST, digest_id=42)
    assert rendered.html.startswith("📬 <b>Your news digest</b>\n<i>12 new stories</i>")
    assert "Story &lt;11&gt;" in rendered.html and "<11>" not in rendered.html
    assert "…and 2 more" in rendered.html
    assert rendered.keyboard is not None
    rows = rendered.keyboard.inline_keyboard
    assert len(rows) == DIGEST_SIZE + 1
    assert rows[-1][0].text == "See 2 more"
    assert rows[-1][0].callback_data == "dm:42"
    data = DigestMore(42).encode()
    assert DigestMore.decode(data) == DigestMore(42)
    assert [kind for kind in ALL_BUTTONS if kind.matches(data)] == [DigestMore]
    assert DigestMore.decode("dm:0") is None and DigestMore.decode("dm:01") is None
    away = digest(choose(stories[:1]), kind=DeliveryKind.AWAY, digest_id=7)
    assert away.html.startswith("🌙 <b>While you were away</b>\n<i>1 new story</i>")
    assert "more" not in away.html
    assert "Story &lt;0&gt;" in digest_rest(pick.more).html
