"""The editors' activity chart: the last 24 hours as one PNG (matplotlib's Agg, no pyplot).

Blocking and CPU-bound: call `activity_png` in a thread (`asyncio.to_thread`); the thread
inherits the task's catalog, so the labels are in the editor's language.
"""

from __future__ import annotations

import io
from dataclasses import astuple, dataclass, replace
from datetime import datetime, timedelta
from functools import cache

# The object API on the Agg canvas: no pyplot, so no global figure state and no GUI backend.
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from bot.rendering.admin import ActivitySeries
from bot.rendering.i18n import N_, _
from content.storage.activity import minute_of

# Latin, Cyrillic and Greek come with matplotlib (DejaVu); Chinese and Tamil labels need a
# Noto font on the host, else the chart falls back to English rather than draw empty boxes.
FONT_FAMILIES = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "Noto Sans Tamil"]


@cache
def _installed() -> dict[str, frozenset[int]]:
    """The installed fonts of FONT_FAMILIES, and the characters each can draw."""
    found: dict[str, frozenset[int]] = {}
    for family in FONT_FAMILIES:
        for entry in font_manager.fontManager.ttflist:
            if entry.name == family:
                found[family] = frozenset(FT2Font(entry.fname).get_charmap())
                break
    return found


def _families() -> list[str]:
    """Font families to ask for, installed ones only (a missing one is a logged warning)."""
    return list(_installed()) or ["sans-serif"]


def _drawable(text: str) -> bool:
    """Whether one of the installed fonts has every character of `text`."""
    needed = {ord(c) for c in text if not c.isspace()}
    return any(needed <= charmap for charmap in _installed().values())


@dataclass(frozen=True, slots=True)
class _Labels:
    title: str
    channel: str
    readers: str
    pending: str
    throttled: str
    per_minute: str
    queue: str
    time: str
    empty: str


# The msgids, marked for the catalog (N_) and translated where the chart is drawn.
_WORDS = _Labels(
    title=N_("Last 24 hours"),
    channel=N_("Channel posts"),
    readers=N_("Reader messages"),
    pending=N_("Waiting to be sent"),
    throttled=N_("429s (Telegram: slow down)"),
    per_minute=N_("Messages per minute"),
    queue=N_("Queue and 429s"),
    time=N_("Time ({zone})"),
    empty=N_("Nothing sent in these 24 hours"),
)


def _labels(zone_name: str) -> _Labels:
    """The chart's words in the active language, or English when no font can draw them."""
    translated = _Labels(*(_(message) for message in astuple(_WORDS)))
    chosen = translated if _drawable("".join(astuple(translated))) else _WORDS
    return replace(chosen, time=chosen.time.format(zone=zone_name))


def _minutes(start: datetime, end: datetime) -> list[datetime]:
    first = minute_of(start)
    count = max(0, int((end - first).total_seconds() // 60))
    return [first + timedelta(minutes=n) for n in range(count)]


def activity_png(series: ActivitySeries) -> bytes:
    """The chart as PNG bytes: sends per minute above, the queue and 429s below."""
    labels = _labels(series.zone_name)
    minutes = _minutes(series.start, series.end)
    sent = {m.minute: m for m in series.sent}
    seen = {m.minute: m for m in series.activity}
    channel = [sent[m].channel if m in sent else 0 for m in minutes]
    readers = [sent[m].readers if m in sent else 0 for m in minutes]
    throttled = [seen[m].throttled if m in seen else 0 for m in minutes]
    sampled = [(m, seen[m].pending) for m in minutes if m in seen and seen[m].pending is not None]

    families = _families()
    figure = Figure(figsize=(10, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(f"{labels.title} · {series.zone_name}", fontfamily=families)

    top.plot(minutes, readers, color="#2a7ab9", linewidth=0.9, label=labels.readers)
    top.plot(minutes, channel, color="#d9822b", linewidth=1.2, label=labels.channel)
    top.set_ylabel(labels.per_minute, fontfamily=families)
    top.set_ylim(bottom=0, top=max(5, max(readers + channel, default=0) * 1.15))
    if not series.sent:
        top.text(
            0.5,
            0.5,
            labels.empty,
            transform=top.transAxes,
            ha="center",
            va="center",
            color="#777777",
            fontfamily=families,
        )
    top.legend(loc="upper left", prop={"family": families}, frameon=False)
    top.grid(alpha=0.3)

    if sampled:
        bottom.step(
            [m for m, _ in sampled],
            [p for _, p in sampled],
            where="post",
            color="#555555",
            linewidth=1.0,
            label=labels.pending,
        )
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel(labels.queue, fontfamily=families)
    bottom.grid(alpha=0.3)
    # 429s are few where the queue is thousands: their own scale, on the right. One stairs
    # artist, not a bar per minute (1,440 patches take seconds to lay out).
    refusals = bottom.twinx()
    if minutes:
        bounds = [*minutes, minutes[-1] + timedelta(minutes=1)]
        edges = mdates.date2num(bounds)  # type: ignore[no-untyped-call]  # untyped upstream
        refusals.stairs(
            throttled, edges, fill=True, color="#c23b22", alpha=0.8, label=labels.throttled
        )
    refusals.set_ylim(bottom=0, top=max(3, max(throttled, default=0) * 1.15))
    refusals.yaxis.get_major_locator().set_params(integer=True)
    handles = bottom.get_legend_handles_labels()[0] + refusals.get_legend_handles_labels()[0]
    bottom.legend(handles=handles, loc="upper left", prop={"family": families}, frameon=False)

    bottom.set_xlim(series.start, series.end)
    # Ticks every 3 hours of the outlet's clock (matplotlib's dates module is untyped).
    every_3h = mdates.HourLocator(byhour=range(0, 24, 3), tz=series.zone)  # type: ignore[no-untyped-call]
    hh_mm = mdates.DateFormatter("%H:%M", tz=series.zone)  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_locator(every_3h)
    bottom.xaxis.set_major_formatter(hh_mm)
    bottom.set_xlabel(labels.time, fontfamily=families)

    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
