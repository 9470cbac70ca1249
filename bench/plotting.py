"""The benches' pictures: one PNG beside the printed figures (matplotlib's Agg, no pyplot)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# (seconds since the start, messages accepted so far, 429s so far), sampled while it ran.
Timeline = Sequence[tuple[float, int, int]]


def per_second(timeline: Timeline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole seconds, and messages and 429s in each (counters interpolated between samples)."""
    if len(timeline) < 2:
        return np.array([]), np.array([]), np.array([])
    t = np.array([s[0] for s in timeline], dtype=float)
    accepted = np.array([s[1] for s in timeline], dtype=float)
    refused = np.array([s[2] for s in timeline], dtype=float)
    seconds = np.arange(0.0, np.floor(t[-1]) + 1.0)
    if len(seconds) < 2:
        return np.array([]), np.array([]), np.array([])
    sent = np.diff(np.interp(seconds, t, accepted))
    throttled = np.diff(np.interp(seconds, t, refused))
    return seconds[1:], sent, throttled


def send_rate(path: Path, runs: Mapping[str, Timeline], *, limit: float, title: str) -> None:
    """Messages per second over each run, against Telegram's limit; 429s marked below."""
    figure = Figure(figsize=(10, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    peak = limit
    refusals = 0.0
    for label, timeline in runs.items():
        seconds, sent, throttled = per_second(timeline)
        if len(seconds):
            (drawn,) = axes.step(
                seconds, sent, where="pre", linewidth=1.2, label=f"{label} (messages/s)"
            )
            peak = max(peak, float(sent.max()))
            hit = throttled > 0
            if hit.any():
                refusals += float(throttled.sum())
                # A 429 in that second: a mark on the axis, in the run's colour.
                axes.plot(
                    seconds[hit], np.zeros(hit.sum()), "v", color=drawn.get_color(), markersize=7
                )
    axes.axhline(limit, color="#c23b22", linestyle="--", linewidth=1, label=f"limit {limit:g}/s")
    axes.set_ylim(0, peak * 1.2)
    axes.set_xlabel("seconds since the worker started")
    axes.set_ylabel("messages accepted per second")
    axes.set_title(f"{title} · 429s: {refusals:.0f} (▼ where they came)")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", frameon=False)
    figure.savefig(path, format="png")


def latency(
    path: Path, sizes: Sequence[int], cases: Mapping[str, Sequence[tuple[float, float]]]
) -> None:
    """Median and p95 (ms) of each query against the archive's size (one (median, p95) a size)."""
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    colors = iter(
        ["#2a7ab9", "#d9822b", "#3b9b4c", "#c23b22", "#7a52b3", "#8c6d31", "#555555", "#1aa3a3"]
    )
    for label, figures in cases.items():
        color = next(colors, "#000000")
        axes.plot(sizes, [m for m, _ in figures], "o-", color=color, label=f"{label} p50")
        axes.plot(sizes, [p for _, p in figures], "s--", color=color, alpha=0.6, label="p95")
    axes.set_xscale("log")
    axes.set_xticks(list(sizes), [f"{n:,}" for n in sizes])
    axes.minorticks_off()
    axes.set_xlabel("stories in the archive")
    axes.set_ylabel("milliseconds")
    axes.set_ylim(bottom=0)
    axes.set_title("Search and /latest: latency against archive size (p50 solid, p95 dashed)")
    axes.grid(alpha=0.3, which="both")
    handles, labels = axes.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab != "p95"]
    axes.legend(
        [h for h, _ in keep], [lab for _, lab in keep], fontsize=8, loc="upper left", frameon=False
    )
    figure.savefig(path, format="png")
