"""The /stats chart renders to PNG bytes, with data or without, in the outlet's zone."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.rendering import using
from bot.rendering.admin import ActivitySeries, stats_chart_caption
from bot.rendering.chart import activity_png
from bot.rendering.i18n import translations_for
from content.storage.activity import ActivityMinute
from content.storage.outbox import SentMinute

END = datetime(2026, 7, 3, 9, 30, tzinfo=UTC)
START = END - timedelta(hours=24)
PNG = b"\x89PNG\r\n\x1a\n"


def size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def full_day() -> ActivitySeries:
    minutes = [START + timedelta(minutes=n) for n in range(24 * 60)]
    return ActivitySeries(
        start=START,
        end=END,
        zone=ZoneInfo("Asia/Singapore"),
        sent=[SentMinute(m, channel=n % 3, readers=(n * 7) % 1800) for n, m in enumerate(minutes)],
        activity=[
            ActivityMinute(m, throttled=1 if n % 97 == 0 else 0, pending=(n * 13) % 5000)
            for n, m in enumerate(minutes)
        ],
    )


def test_an_empty_day_is_still_a_chart() -> None:
    series = ActivitySeries(START, END, ZoneInfo("Asia/Singapore"), sent=[], activity=[])
    png = activity_png(series)
    assert png.startswith(PNG)
    assert size(png) == (1000, 600)
    assert stats_chart_caption(series) == (
        "Last 24 hours (Asia/Singapore): channel posts 0, reader messages 0, 429s 0"
    )


def test_a_full_day_draws_every_minute() -> None:
    series = full_day()
    png = activity_png(series)
    assert png.startswith(PNG)
    assert size(png) == (1000, 600)
    # More drawn than the empty chart: the lines and bars are there.
    empty = activity_png(ActivitySeries(START, END, series.zone, sent=[], activity=[]))
    assert len(png) > len(empty) * 1.5
    assert series.throttled_total == 15
    assert series.channel_total == sum(n % 3 for n in range(1440))


def test_a_fixed_offset_zone_and_other_languages_render() -> None:
    series = full_day()
    plus_eight = ActivitySeries(
        series.start, series.end, timezone(timedelta(hours=8)), series.sent, series.activity
    )
    assert plus_eight.zone_name == "UTC+08:00"
    for language in ("en", "ms", "zh", "ta"):
        with using(translations_for(language)):
            assert activity_png(plus_eight).startswith(PNG)
