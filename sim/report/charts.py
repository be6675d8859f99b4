"""The report's charts, drawn with matplotlib and inlined as SVG that shows details on hover.

Why matplotlib: axes, ticks, legends, hatching and text layout come from a well-kept library
instead of our own SVG arithmetic. Why inline SVG: the report stays one file that needs no network
and no script, and the charts scale with the page. Hover details: :class:`.svg.Tips`.

Figures are built with :class:`~matplotlib.figure.Figure` directly (no pyplot and its global
figure list) under :data:`STYLE`, sized in points with fixed margins (the same for every run, and
cheaper than a layout engine), and saved deterministically (fixed ``svg.hashsalt``, no date).
Text stays text (``svg.fonttype: none``) in the page's font: matplotlib lays it out with DejaVu
Sans, wider than the usual UI fonts, so nothing clips.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.collections import Collection, LineCollection, PolyCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import RcKeyType

from ..metrics import SessionRecord
from .svg import Tips

__all__ = ["agents_chart", "histogram", "over_time", "timeline"]

# --------------------------------------------------------------------------------------------
# Look: one palette for the page (``__init__``) and the charts

INK, MUTED, GRID, AXIS = "#1f2430", "#6b7280", "#eceff3", "#c9ced6"
GOOD, BAD, ACCENT, SIMULATOR = "#16a34a", "#dc2626", "#2563eb", "#94a3b8"
RUNNING, FPS, P50, P95 = "#16a34a", "#1e3a8a", "#0f766e", "#b45309"
# The timeline's bars (in drawing order) and marks: (colour, legend) by kind, tables alike in
# shape only, with each other and with steps/expect.py's STATE_KEYS.
PHASES: dict[str, tuple[str, str]] = {
    "queue": ("#cbd5e1", "in the queue"),
    "connecting": ("#fbbf24", "connecting (accept → first frame)"),
    "session": ("#60a5fa", "video flowing"),
    "control": ("#f97316", "remote control granted"),
    "paused": ("#a855f7", "sharing paused"),
    "network_down": ("#ef4444", "network down"),
}
MARKS: dict[str, tuple[str, str]] = {
    "annotation": ("#db2777", "mark seen"),
    "input": ("#111827", "input"),
    "control": ("#ea580c", "consent"),
    "ring": ("#64748b", "ring"),
    "transfer": ("#0d9488", "handed on"),
    "watch": ("#7c3aed", "supervisor"),
    "end": ("#334155", "end"),
    "rating": ("#ca8a04", "rating"),
}
FONT_SIZE = 9.0
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "mayday-sim-report",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT_SIZE,
    "text.parse_math": False,  # labels are scenario names: a "$" is not TeX
    "text.color": INK,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "axes.edgecolor": AXIS,
    "axes.labelcolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": AXIS,
    "ytick.color": AXIS,
    "xtick.labelcolor": MUTED,
    "ytick.labelcolor": MUTED,
    "xtick.major.size": 3,
    "ytick.major.size": 0,
    "legend.frameon": False,
    "hatch.linewidth": 1.6,
}
_TEXT = TextToPath()


def _rects(boxes: Sequence[tuple[float, float, float, float]], **kwargs: Any) -> PolyCollection:
    """Rectangles (x0, x1, y0, y1) as one collection: one SVG path each, drawn in order."""
    verts = [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, x1, y0, y1 in boxes]
    return PolyCollection(verts, closed=True, **kwargs)


def _light(colour: str, amount: float) -> str:
    """``colour`` mixed with white (the background of hatched bars)."""
    r, g, b = to_rgb(colour)
    return to_hex((1 - amount * (1 - r), 1 - amount * (1 - g), 1 - amount * (1 - b)))


def _fig(width: float, height: float, margins: tuple[float, float, float, float]) -> Figure:
    """A figure sized in points with fixed margins (left, right, bottom, top, in points):
    cheaper than a layout engine and the same for every run."""
    fig = Figure(figsize=(width / 72, height / 72))
    left, right, bottom, top = margins
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )
    return fig


def _ticks(bins: int, counts: bool = False) -> MaxNLocator:
    """Round ticks (1, 2, 2.5 or 5 times a power of ten apart; whole numbers for counts)."""
    steps = [1, 2, 5, 10] if counts else [1, 2, 2.5, 5, 10]
    return MaxNLocator(nbins=bins, steps=steps, integer=counts)


def _end(high: float, bins: int, counts: bool = False) -> float:
    """The round number at or above ``high`` that ends an axis of about ``bins`` ticks, so that
    the axis ends on a labelled tick."""
    return float(_ticks(bins, counts).tick_values(0, max(high, 1e-9))[-1])


# --------------------------------------------------------------------------------------------
# Numbers


@dataclass(frozen=True)
class Scale:
    unit: str
    factor: float

    def __call__(self, value: float) -> float:
        return value * self.factor


def display_scale(unit: str, values: Sequence[float]) -> Scale:
    """Seconds are shown in ms when everything is under two seconds, otherwise in s."""
    if unit == "s":
        return Scale("ms", 1000.0) if max(values, default=0) < 2 else Scale("s", 1.0)
    return Scale(unit if unit != "count" else "", 1.0)


def short(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


_UNIT_NAMES = {"ms": "milliseconds", "s": "seconds", "fps": "frames per second"}


# --------------------------------------------------------------------------------------------
# Charts


def histogram(
    values: Sequence[float],
    unit: str,
    markers: Sequence[tuple[str, float, str]],
    key: str,
    label: str,
) -> str:
    """How often each value range occurred, with dashed lines at percentiles and SLO bounds."""
    scale = display_scale(unit, values)
    shown = [scale(v) for v in values]
    marks = [(label, scale(v), colour) for label, v, colour in markers]
    high = max([*shown, *(v for _, v, _ in marks)], default=1.0)
    low = min(0.0, min(shown, default=0.0))
    ticks = _ticks(5).tick_values(low, high * 1.02 if high > 0 else 1.0)
    x0, x1 = float(ticks[0]), float(ticks[-1])
    bins = max(8, min(36, int(math.sqrt(len(shown)) * 3)))
    counts, edges = np.histogram(shown, bins=bins, range=(x0, x1))
    rows = math.ceil(len(marks) / 3)
    tips = Tips(key)
    with rc_context(STYLE):
        fig = _fig(338, 172 + 13 * rows, (42, 12, 30, 6 + 13 * rows))
        ax = fig.add_subplot()
        width = (x1 - x0) / bins
        filled = [(int(c), float(lo)) for c, lo in zip(counts, edges[:-1], strict=True) if c]
        bars = ax.bar(
            [lo + width * 0.04 for _, lo in filled], [c for c, _ in filled], width * 0.92,
            align="edge", color=ACCENT, alpha=0.85,
        )  # fmt: skip
        for bar, (count, lo) in zip(bars.patches, filled, strict=True):
            samples = "sample" if count == 1 else "samples"
            tips.add(
                bar, "bar", f"{count} {samples} between {_n(lo)} and {_n(lo + width)} {scale.unit}"
            )
        for label, value, colour in marks:
            text = f"{label} {short(value)} {scale.unit}".strip()
            line = ax.axvline(value, color=colour, lw=1.4, ls=(0, (4, 3)), label=text)
            tips.add(line, "marker", text)
        if marks:
            legend = ax.legend(
                loc="lower left",
                bbox_to_anchor=(-0.02, 1.0),
                ncols=min(3, len(marks)),
                handlelength=1.8,
                columnspacing=1.2,
                borderaxespad=0.1,
            )
            for entry, (_, _, colour) in zip(legend.get_texts(), marks, strict=True):
                entry.set_color(colour)
        ax.set_xlim(x0, x1)
        ax.xaxis.set_major_locator(_ticks(5))  # the ticks that chose x0 and x1
        ax.set_ylim(0, _end(max(1, int(counts.max())) * 1.05, 4, counts=True))
        ax.yaxis.set_major_locator(_ticks(4, counts=True))
        ax.grid(axis="y")
        ax.set_xlabel(_UNIT_NAMES.get(scale.unit, scale.unit), labelpad=2)
        ax.set_ylabel("samples")
        return tips.svg(fig, f"histogram of {label} in {scale.unit}")


Series = tuple[str, str, Sequence[tuple[float, float]]]


def over_time(
    series: Sequence[Series], x_max: float, y_label: str, unit: str, area: Series, key: str
) -> str:
    """Lines over seconds since the start, and ``area`` (e.g. sessions running) shaded behind
    them on its own right-hand axis. Hovering anywhere shows every value at that moment."""
    tips = Tips(key)
    x_end = _end(max(x_max, 1.0), 8)
    with rc_context(STYLE):
        fig = _fig(389, 200, (46, 44, 30, 10))
        ax = fig.add_subplot()
        back = ax.twinx()
        ax.set_zorder(back.get_zorder() + 1)  # lines and hover areas above the shading
        ax.patch.set_visible(False)
        area_name, area_colour, area_points = area
        area_t = [t for t, _ in area_points]
        if area_points:
            shade = back.fill_between(
                area_t, [v for _, v in area_points], color=area_colour, alpha=0.16, lw=0
            )
            tips.add(shade, "area", area_name)
        back.set_ylim(0, _end(max((v for _, v in area_points), default=1), 4, counts=True))
        back.yaxis.set_major_locator(_ticks(4, counts=True))
        back.tick_params(axis="y", labelcolor=area_colour)
        back.set_ylabel(area_name, color=area_colour)
        top = max((v for _, _, points in series for _, v in points), default=1.0)
        for name, colour, points in series:
            if points:
                (line,) = ax.plot(*zip(*points, strict=True), color=colour, lw=1.6)
                tips.add(line, "line", name)
        ax.set_xlim(0, x_end)
        ax.set_ylim(0, _end(top * 1.05, 4))
        ax.yaxis.set_major_locator(_ticks(4))
        ax.grid(axis="y")
        ax.set_xlabel("seconds since the start", labelpad=2)
        ax.set_ylabel(y_label)

        # hover areas: a column per sample time, naming every series' value then
        moments = sorted({t for _, _, points in series for t, _ in points})
        moments = moments[:: max(1, math.ceil(len(moments) / 400))]
        texts, boxes = [], []
        for index, t in enumerate(moments):
            lo = (moments[index - 1] + t) / 2 if index else 0.0
            hi = (t + moments[index + 1]) / 2 if index + 1 < len(moments) else x_end
            lines = [f"{t:.1f} s"]
            for name, _, points in series:
                value = _at([p[0] for p in points], [p[1] for p in points], t)
                if value is not None:
                    lines.append(f"{name}: {value:.0f}{'%' if unit == '%' else ' ' + unit}")
            count = _at(area_t, [v for _, v in area_points], t)
            if count is not None:
                lines.append(f"{area_name}: {count:.0f}")
            texts.append("\n".join(lines))
            boxes.append((lo, hi, 0.0, ax.get_ylim()[1]))
        hover = ax.add_collection(_rects(boxes, facecolors="none", edgecolors="none"))
        tips.per_item(hover, "moment", texts, target=True)
        return tips.svg(fig, f"{y_label} over time")


def _at(times: Sequence[float], values: Sequence[float], t: float) -> float | None:
    """The value of the last point at or before ``t`` (the first one before that)."""
    if not times:
        return None
    return values[max(0, bisect.bisect_right(times, t) - 1)]


@dataclass(frozen=True)
class _Lane:
    text: str
    tip: str
    icon: str = ""
    icon_colour: str = INK


def _lanes(lanes: Sequence[_Lane], duration: float, tips: Tips, kind: str) -> tuple[Figure, Axes]:
    """One row per lane under a seconds axis, labels on the left sized to the longest one."""
    prop = FontProperties(family="DejaVu Sans", size=FONT_SIZE)
    widest = max(
        (_TEXT.get_text_width_height_descent(lane.text, prop, False)[0] for lane in lanes),
        default=0,
    )
    text_x = 14.0 if any(lane.icon for lane in lanes) else 4.0
    width, row = 864.0, 15.0
    left = text_x + widest + 10
    height = 22 + row * len(lanes) + 4
    fig = _fig(width, height, (left, 14, 4, 22))
    ax = fig.add_subplot()
    x_end = _end(max(duration, 1.0), 10)
    ax.set_xlim(0, x_end)
    ax.set_ylim(len(lanes), 0)
    ax.xaxis.tick_top()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g} s"))
    ax.tick_params(axis="x", length=0, pad=3)
    ax.set_yticks([])
    ax.grid(axis="x")
    for spine in ax.spines.values():
        spine.set_visible(False)
    across = blended_transform_factory(fig.transFigure, ax.transData)
    stripes = [(0.0, 1.0, i, i + 1.0) for i in range(1, len(lanes), 2)]
    ax.add_collection(
        _rects(stripes, facecolors="#f8fafc", transform=across, clip_on=False, zorder=0.1),
        autolim=False,
    )
    for index, lane in enumerate(lanes):
        if lane.icon:
            ax.text(
                4 / width, index + 0.5, lane.icon, transform=across, color=lane.icon_colour,
                fontweight="bold", va="center",
            )  # fmt: skip
        label = ax.text(text_x / width, index + 0.5, lane.text, transform=across, va="center")
        tips.add(label, kind, lane.tip)
    return fig, ax


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def timeline(sessions: Sequence[SessionRecord], duration: float, key: str) -> str:
    """One lane per session: its phases as bars, frames per second inside, events as marks."""
    tips = Tips(key)
    lanes = [
        _Lane(
            _clip(s.label, 34),
            f"{s.label} on {s.device}"
            + (f" with {', '.join(s.agents)}" if s.agents else "")
            + ("" if s.ok else f"\nfailed: {s.failure}"),
            "✓" if s.ok else "✗",
            GOOD if s.ok else BAD,
        )
        for s in sessions
    ]
    phases: dict[str, tuple[list[tuple[float, float, float, float]], list[str]]] = {
        kind: ([], []) for kind in PHASES
    }
    fps: tuple[list[tuple[float, float, float, float]], list[str]] = ([], [])
    marks: dict[str, tuple[list[tuple[float, float]], list[str]]] = {
        kind: ([], []) for kind in [*MARKS, "failure"]
    }
    for y, session in enumerate(sessions):
        for interval in session.intervals:
            if interval.kind not in phases:
                continue
            end = interval.end if interval.end is not None else session.end
            top, bottom = (
                (y + 0.65, y + 0.85) if interval.kind == "control" else (y + 0.15, y + 0.85)
            )
            phases[interval.kind][0].append((interval.start, max(end, interval.start), top, bottom))
            phases[interval.kind][1].append(
                f"{PHASES[interval.kind][1]}: {end - interval.start:.2f} s {interval.label}".strip()
            )
        for second, frames in enumerate(session.fps_series):
            start = session.fps_origin + second
            end = min(start + 1, session.end)
            if frames and end > start:
                bar = 0.5 * min(frames, 30) / 30
                fps[0].append((start, start + (end - start) * 0.92, y + 0.65 - bar, y + 0.65))
                fps[1].append(f"{frames} frames in second {second + 1} of the video")
        for mark in session.marks:
            if mark.kind in marks:
                marks[mark.kind][0].append((mark.t, y + 0.5))
                marks[mark.kind][1].append(mark.label)
    with rc_context(STYLE):
        fig, ax = _lanes(lanes, duration, tips, "lane")
        for kind in PHASES:
            boxes, texts = phases[kind]
            colour = PHASES[kind][0]
            if not boxes:
                continue
            if kind in ("paused", "network_down"):
                style = {"facecolors": _light(colour, 0.35), "hatch": "////", "hatchcolors": colour}
            else:
                style = {"facecolors": colour}
            bars = ax.add_collection(_rects(boxes, edgecolors="none", **style), autolim=False)
            tips.per_item(bars, kind, texts)
        if fps[0]:
            fps_bars = _rects(fps[0], facecolors=FPS, alpha=0.32, edgecolors="none")
            tips.per_item(ax.add_collection(fps_bars, autolim=False), "fps", fps[1])
        for kind, (points, texts) in marks.items():
            if not points:
                continue
            if kind in ("ring", "end"):
                segments = [[(t, y - 0.4), (t, y + 0.4)] for t, y in points]
                artist: Collection = ax.add_collection(
                    LineCollection(segments, colors=MARKS[kind][0], linewidths=1.4), autolim=False
                )
            else:
                shape = {"annotation": ("D", 18.0), "failure": ("x", 40.0)}.get(kind, ("o", 16.0))
                colour = BAD if kind == "failure" else MARKS[kind][0]
                artist = ax.scatter(
                    [t for t, _ in points], [y for _, y in points], s=shape[1], marker=shape[0],
                    c=colour,
                    linewidths=2.2 if kind == "failure" else 0.7,
                    edgecolors=colour if kind == "failure" else "white", zorder=3,
                )  # fmt: skip
            tips.per_item(artist, kind, texts)
        return tips.svg(fig, "timeline of every session", "wide")


def agents_chart(agents: Sequence[dict[str, Any]], duration: float, key: str) -> str:
    """One lane per headless agent: when it was in a session."""
    tips = Tips(key)
    lanes = []
    for agent in agents:
        busy = agent.get("busy") or []
        share = sum(b - a for a, b in busy) / duration if duration else 0
        text = f"{agent['name']} · {agent['sessions']} sessions · {share:.0%} busy"
        lanes.append(_Lane(_clip(text, 70), text))
    with rc_context(STYLE):
        fig, ax = _lanes(lanes, duration, tips, "agent")
        x_end = ax.get_xlim()[1]
        track = [(0.0, x_end, y + 0.2, y + 0.8) for y in range(len(agents))]
        ax.add_collection(_rects(track, facecolors="#eef2f7", edgecolors="none"), autolim=False)
        boxes, texts = [], []
        for y, agent in enumerate(agents):
            for start, end in agent.get("busy") or []:
                boxes.append((start, end, y + 0.2, y + 0.8))
                texts.append(f"in a session {start:.1f}–{end:.1f} s")
        bars = _rects(boxes, facecolors=PHASES["session"][0], edgecolors="none")
        tips.per_item(ax.add_collection(bars, autolim=False), "busy", texts)
        return tips.svg(fig, "when each agent was in a session", "wide")
