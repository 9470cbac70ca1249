"""Reader settings: parsing, time zones across DST, quiet hours across midnight, and storage."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from content.models import SubscriptionKind
from content.preferences import (
    MAX_MUTES,
    DigestMode,
    QuietHours,
    ReaderSettings,
    SettingError,
    SubscribeRequest,
    held,
    in_quiet_hours,
    language_from_code,
    mentions,
    next_digest,
    parse_digest,
    parse_quiet,
    parse_subscribe,
    parse_zone,
    quiet_ends,
    zone_of,
)
from content.storage import Repository
from content.storage.readers import Followed

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SINGAPORE = ZoneInfo("Asia/Singapore")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def daily(at: time) -> ReaderSettings:
    return ReaderSettings(digest=DigestMode.DAILY, digest_at=at)


# -- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Asia/Singapore", "Asia/Singapore"),
        ("asia/singapore", "Asia/Singapore"),
        ("America/New York", "America/New_York"),
        ("Singapore", "Asia/Singapore"),
        ("  new   YORK ", "America/New_York"),
        ("London", "Europe/London"),
        ("Kuala Lumpur", "Asia/Kuala_Lumpur"),
        ("Chennai", "Asia/Kolkata"),
        ("Mumbai", "Asia/Kolkata"),
        ("Tokyo", "Asia/Tokyo"),
        ("Sydney", "Australia/Sydney"),
        ("UTC+8", "UTC+08:00"),
        ("utc-5:30", "UTC-05:30"),
        ("GMT+0530", "UTC+05:30"),
        ("UTC", "UTC"),
    ],
)
def test_zones_readers_type(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


@pytest.mark.parametrize(
    "typed", ["", "Atlantis", "Asia/Nowhere", "../../etc/passwd", "UTC+15", "UTC+5:75", "/UTC"]
)
def test_unknown_zones_are_refused(typed: str) -> None:
    with pytest.raises(SettingError):
        parse_zone(typed)


def test_fixed_offsets_and_unknown_stored_names() -> None:
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert moment.astimezone(zone_of("UTC-05:30", SINGAPORE)).hour == 6
    assert moment.astimezone(zone_of("UTC+08:00", SINGAPORE)).hour == 20
    assert zone_of(None, SINGAPORE) is SINGAPORE
    assert zone_of("Asia/Nowhere", SINGAPORE) is SINGAPORE  # a row edited by hand: no crash


@pytest.mark.parametrize(
    ("code", "language"),
    [("zh-hans", "zh"), ("ms-MY", "ms"), ("ta", "ta"), ("de", None), (None, None)],
)
def test_language_from_telegram_code(code: str | None, language: str | None) -> None:
    assert language_from_code(code) == language


# -- digests -----------------------------------------------------------------------------------


def test_parse_digest() -> None:
    assert parse_digest("off") == (DigestMode.OFF, None)
    assert parse_digest("Hourly") == (DigestMode.HOURLY, None)
    assert parse_digest("daily 7:30") == (DigestMode.DAILY, time(7, 30))
    assert parse_digest("daily") == (DigestMode.DAILY, None)
    for bad in ("", "weekly", "daily 25:00", "daily 7:30 8:00"):
        with pytest.raises(SettingError):
            parse_digest(bad)


def test_daily_digest_is_at_local_time_in_two_zones() -> None:
    after = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)  # 04:00 in Singapore, 15:00 the 9th in New York
    assert next_digest(daily(time(7)), after, SINGAPORE) == datetime(
        2026, 1, 10, 7, tzinfo=SINGAPORE
    )
    assert next_digest(daily(time(7)), after, NEW_YORK) == datetime(2026, 1, 10, 7, tzinfo=NEW_YORK)
    # Just after it: tomorrow's.
    at = datetime(2026, 1, 10, 7, tzinfo=SINGAPORE)
    assert next_digest(daily(time(7)), at, SINGAPORE) == at + timedelta(days=1)


def test_daily_digest_keeps_local_time_across_dst_london() -> None:
    # Clocks go forward on 29 Mar 2026 at 01:00 UTC: 07:00 is 07:00 UTC before, 06:00 UTC after.
    before = next_digest(daily(time(7)), datetime(2026, 3, 28, 8, tzinfo=UTC), LONDON)
    assert before is not None and before.astimezone(UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    # And back on 25 Oct 2026.
    autumn = next_digest(daily(time(7)), datetime(2026, 10, 25, 0, tzinfo=UTC), LONDON)
    assert autumn is not None and autumn.astimezone(UTC) == datetime(2026, 10, 25, 7, tzinfo=UTC)


def test_daily_digest_inside_the_spring_gap_new_york() -> None:
    # 8 Mar 2026: 02:00-03:00 does not exist in New York; a 02:30 digest comes at 03:30 EDT.
    after = datetime(2026, 3, 8, 5, tzinfo=UTC)  # 00:00 EST
    upcoming = next_digest(daily(time(2, 30)), after, NEW_YORK)
    assert upcoming is not None
    assert upcoming.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # Exactly once that day, and the next day back at 02:30 local.
    following = next_digest(daily(time(2, 30)), upcoming, NEW_YORK)
    assert following == datetime(2026, 3, 9, 2, 30, tzinfo=NEW_YORK)


def test_daily_digest_on_the_repeated_autumn_hour_new_york_comes_once() -> None:
    # 1 Nov 2026: 01:00-02:00 happens twice; a 01:30 digest is sent at the first one only.
    first = next_digest(daily(time(1, 30)), datetime(2026, 11, 1, 4, tzinfo=UTC), NEW_YORK)
    assert first is not None and first.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    second = next_digest(daily(time(1, 30)), first, NEW_YORK)
    assert second is not None and second.astimezone(UTC) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_hourly_digest_is_at_the_top_of_the_readers_hour() -> None:
    hourly = ReaderSettings(digest=DigestMode.HOURLY)
    after = datetime(2026, 1, 1, 10, 20, tzinfo=UTC)
    assert next_digest(hourly, after, SINGAPORE) == datetime(2026, 1, 1, 11, tzinfo=UTC)
    # India is UTC+05:30: the reader's hour starts at :30 UTC.
    assert next_digest(hourly, after, ZoneInfo("Asia/Kolkata")) == datetime(
        2026, 1, 1, 10, 30, tzinfo=UTC
    )
    top = datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert next_digest(hourly, top, SINGAPORE) == top + timedelta(hours=1)
    # Across London's spring change: 00:00 UTC, then 01:00 UTC (= 02:00 BST): one hour apart.
    spring = next_digest(hourly, datetime(2026, 3, 29, 0, 10, tzinfo=UTC), LONDON)
    assert spring is not None and spring.astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_no_digest_when_off() -> None:
    assert next_digest(ReaderSettings(), T0, SINGAPORE) is None


# -- quiet hours -------------------------------------------------------------------------------


def test_parse_quiet() -> None:
    assert parse_quiet("22:00-07:00") == QuietHours(time(22), time(7))
    assert parse_quiet("22:00 – 7:00") == QuietHours(time(22), time(7))
    assert parse_quiet("off") is None
    for bad in ("22:00", "22:00-22:00", "25:00-07:00", "late"):
        with pytest.raises(SettingError):
            parse_quiet(bad)


def test_quiet_hours_spanning_midnight() -> None:
    quiet = QuietHours(time(22), time(7))

    def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
        return datetime(2026, 1, day, hour, minute, tzinfo=SINGAPORE)

    assert in_quiet_hours(quiet, at(22), SINGAPORE)
    assert in_quiet_hours(quiet, at(23, 59), SINGAPORE)
    assert in_quiet_hours(quiet, at(0), SINGAPORE)
    assert in_quiet_hours(quiet, at(6, 59), SINGAPORE)
    assert not in_quiet_hours(quiet, at(7), SINGAPORE)
    assert not in_quiet_hours(quiet, at(21, 59), SINGAPORE)
    # Held at 23:00 or at 01:00: both end at 07:00 the next (or same) morning.
    assert quiet_ends(quiet, at(23), SINGAPORE) == at(7, day=11)
    assert quiet_ends(quiet, at(1, day=11), SINGAPORE) == at(7, day=11)


def test_quiet_hours_within_a_day_and_in_utc_terms() -> None:
    quiet = QuietHours(time(13), time(14))
    # 05:30 UTC is 13:30 in Singapore and 00:30 in New York.
    moment = datetime(2026, 1, 10, 5, 30, tzinfo=UTC)
    assert in_quiet_hours(quiet, moment, SINGAPORE)
    assert not in_quiet_hours(quiet, moment, NEW_YORK)
    assert not in_quiet_hours(None, moment, SINGAPORE)


def test_quiet_hours_end_across_dst_london() -> None:
    quiet = QuietHours(time(23), time(7))
    # Night of 28-29 Mar 2026: the night is an hour shorter, and the end is 07:00 BST.
    end = quiet_ends(quiet, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), LONDON)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    # Night of 24-25 Oct 2026: an hour longer; 07:00 GMT.
    end = quiet_ends(quiet, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), LONDON)
    assert end.astimezone(UTC) == datetime(2026, 10, 25, 7, tzinfo=UTC)


def test_breaking_goes_through_unless_turned_off() -> None:
    night = datetime(2026, 1, 10, 23, tzinfo=SINGAPORE)
    quiet = ReaderSettings(quiet=QuietHours(time(22), time(7)))
    assert held(quiet, night, SINGAPORE, breaking=False)
    assert not held(quiet, night, SINGAPORE, breaking=True)
    strict = ReaderSettings(quiet=QuietHours(time(22), time(7)), breaking_in_quiet=False)
    assert held(strict, night, SINGAPORE, breaking=True)


# -- exclusions and mutes ----------------------------------------------------------------------


def test_parse_subscribe_with_exclusions() -> None:
    assert parse_subscribe('Ukraine -sports -"World Cup"') == SubscribeRequest(
        "ukraine", ("sports", "world cup")
    )
    assert parse_subscribe("hawker centre") == SubscribeRequest("hawker centre")
    assert parse_subscribe("ukraine -“world cup”") == SubscribeRequest("ukraine", ("world cup",))
    assert parse_subscribe('ukraine -"open') == SubscribeRequest("ukraine", ("open",))
    for bad in ("-sports", "x" * 65, "ukraine -" + "y" * 65):
        with pytest.raises(SettingError):
            parse_subscribe(bad)


def test_mentions_whole_words_any_case_no_regex() -> None:
    assert mentions("The World  Cup final", "world cup")
    assert not mentions("Sportsman of the year", "sports")
    assert mentions("Sports: the results", "SPORTS")
    assert not mentions("a+b", ".*")
    assert mentions("nothing in the text", "football", frozenset({"football"}))
    assert mentions("nothing in the text", "world cup", frozenset({"world-cup"}))


# -- storage -----------------------------------------------------------------------------------


async def test_settings_round_trip_and_kept_when_a_reader_blocks_and_returns(
    repo: Repository,
) -> None:
    readers = repo.readers
    assert await readers.settings_of(7, default_language="ta") == ReaderSettings(language="ta")
    await readers.upsert_chat(chat_id=7, first_name="R", username=None, now=T0, language="zh")
    assert (await readers.settings_of(7)).language == "zh"
    chosen = ReaderSettings(
        language="ms",
        timezone="UTC-05:30",
        digest=DigestMode.DAILY,
        digest_at=time(7, 30),
        quiet=QuietHours(time(22), time(7)),
        breaking_in_quiet=False,
    )
    await readers.update_settings(chat_id=7, settings=chosen, now=T0)
    assert await readers.mute(chat_id=7, value="football", now=T0) is Followed.ADDED
    await readers.deactivate(chat_id=7, reason="blocked", now=T0)
    # Back again, speaking another language in Telegram: what they chose stays.
    await readers.upsert_chat(chat_id=7, first_name="R", username=None, now=T0, language="en")
    assert await readers.settings_of(7) == chosen
    assert await readers.mutes_of(7) == ["football"]


async def test_follow_limits_and_exclusions(repo: Repository) -> None:
    readers = repo.readers

    async def follow(value: str, *excludes: str) -> Followed:
        return await readers.follow(
            chat_id=8,
            kind=SubscriptionKind.KEYWORD,
            value=value,
            excludes=excludes,
            now=T0,
            limit=3,
        )

    assert await follow("ukraine", "sports") is Followed.ADDED
    assert await follow("ukraine", "sports") is Followed.ALREADY
    assert await follow("ukraine", "sports", "world cup") is Followed.UPDATED
    (sub,) = await readers.subscriptions_of(8)
    assert sub.excludes == ("sports", "world cup")
    assert await follow("a") is Followed.ADDED
    assert await follow("b") is Followed.ADDED
    assert await follow("c") is Followed.FULL
    assert await readers.subscription_count(8) == 3


async def test_mute_limit(repo: Repository) -> None:
    readers = repo.readers
    for n in range(MAX_MUTES):
        assert await readers.mute(chat_id=9, value=f"w{n:02d}", now=T0) is Followed.ADDED
    assert await readers.mute(chat_id=9, value="w00", now=T0) is Followed.ALREADY
    assert await readers.mute(chat_id=9, value="one more", now=T0) is Followed.FULL
    assert await readers.unmute(chat_id=9, value="w00")
    assert not await readers.unmute(chat_id=9, value="w00")
    assert await readers.mute(chat_id=9, value="one more", now=T0) is Followed.ADDED
    assert len(await readers.mutes_of(9)) == MAX_MUTES
