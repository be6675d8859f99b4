"""The HTML report of a simulation: one self-contained file, charts drawn here as inline SVG.

No scripts, fonts or stylesheets are fetched: the file opens the same from a CI artifact, an
e-mail attachment or a laptop without a network. What it shows, top to bottom: the verdict, each
scenario's runs with the reason of every failure, the SLOs, a histogram per latency metric with
its percentiles (and SLO bounds), the server's and the simulator's CPU and memory over time next
to the number of sessions running, a timeline of every session (queue, connecting, video,
remote control, paused sharing, network down, with the frames per second inside), and what each
agent was doing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .metrics import METRICS, RunRecord, SessionRecord, summarise
from .simulation import SimResult

__all__ = ["render_report"]

# --------------------------------------------------------------------------------------------
# Look

FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED, GRID, AXIS = "#1f2430", "#6b7280", "#eceff3", "#c9ced6"
GOOD, BAD, ACCENT = "#16a34a", "#dc2626", "#2563eb"
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
    "end": ("#334155", "end"),
    "rating": ("#ca8a04", "rating"),
}

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #f5f6f8; color: {INK}; font: 14px/1.45 {FONT}; }}
main {{ max-width: 1240px; margin: 0 auto; padding: 28px 28px 60px; }}
h1 {{ font-size: 24px; margin: 0; letter-spacing: -0.01em; }}
h2 {{ font-size: 17px; margin: 34px 0 12px; }}
h3 {{ font-size: 14px; margin: 0 0 2px; }}
p.lead {{ color: {MUTED}; margin: 4px 0 0; }}
.top {{ display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }}
.badge {{ font-weight: 700; font-size: 13px; letter-spacing: .06em; padding: 5px 12px;
  border-radius: 999px; color: white; }}
.badge.pass {{ background: {GOOD}; }} .badge.fail {{ background: {BAD}; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px;
  margin-top: 20px; }}
.card {{ background: white; border-radius: 12px; padding: 14px 16px;
  box-shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08); }}
.card .value {{ font-size: 24px; font-weight: 700; }}
.card .label {{ color: {MUTED}; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 14px; }}
.grid2 {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; }}
.chart {{ background: white; border-radius: 12px; padding: 14px 16px 8px;
  box-shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08); }}
.chart .sub {{ color: {MUTED}; font-size: 12px; margin-bottom: 6px; }}
.chart svg {{ display: block; width: 100%; height: auto; }}
table {{ width: 100%; border-collapse: collapse; background: white; border-radius: 12px;
  overflow: hidden; box-shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08); }}
th, td {{ text-align: left; padding: 9px 12px; border-bottom: 1px solid {GRID}; vertical-align: top; }}
th {{ font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: {MUTED};
  background: #fafbfc; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr:last-child td {{ border-bottom: none; }}
.pill {{ display: inline-block; font-size: 12px; font-weight: 700; padding: 2px 9px;
  border-radius: 999px; }}
.pill.pass {{ background: #dcfce7; color: #166534; }} .pill.fail {{ background: #fee2e2; color: #991b1b; }}
.reason {{ color: #991b1b; font-size: 12.5px; margin-top: 4px; font-family: ui-monospace, SFMono-Regular,
  Menlo, monospace; white-space: pre-wrap; word-break: break-word; }}
.desc {{ color: {MUTED}; font-size: 12.5px; }}
.legend {{ display: flex; flex-wrap: wrap; gap: 14px; color: {MUTED}; font-size: 12px; margin: 4px 0 8px; }}
.legend span {{ display: inline-flex; align-items: center; gap: 6px; }}
.legend i {{ width: 14px; height: 10px; border-radius: 3px; display: inline-block; }}
.notes {{ color: {MUTED}; font-size: 12.5px; }}
svg.strip {{ display: block; margin: 6px 0 0 auto; }}
.scroll {{ overflow-x: auto; }}
footer {{ color: {MUTED}; font-size: 12px; margin-top: 40px; }}
"""

# --------------------------------------------------------------------------------------------
# SVG helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low..high`` (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = [round(start, 10)]
    while ticks[-1] < high - step * 1e-9 and len(ticks) < 60:
        ticks.append(round(start + step * len(ticks), 10))
    return ticks


def _short(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _tick_label(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


@dataclass(frozen=True)
class _TimeAxis:
    """The seconds axis shared by the lane charts (sessions, agents): scale and labelled grid."""

    left: float
    width: float
    ticks: list[float]

    @classmethod
    def over(cls, duration: float, left: float, width: float) -> _TimeAxis:
        return cls(left, width, nice_ticks(0, max(duration, 1), 10))

    def x(self, t: float) -> float:
        return self.left + max(0.0, t) / self.ticks[-1] * self.width

    def grid(self, top: float, bottom: float) -> list[str]:
        """A vertical line per tick from ``top`` to ``bottom``, labelled above ``top``."""
        parts: list[str] = []
        for tick in self.ticks:
            x = self.x(tick)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{bottom}" stroke="{GRID}"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" fill="{MUTED}">'
                f"{_tick_label(tick)} s</text>"
            )
        return parts


@dataclass(frozen=True)
class Scale:
    unit: str
    factor: float

    def __call__(self, value: float) -> float:
        return value * self.factor


def _display_scale(unit: str, values: Sequence[float]) -> Scale:
    """Seconds are shown in ms when everything is under two seconds, otherwise in s."""
    if unit == "s":
        return Scale("ms", 1000.0) if max(values, default=0) < 2 else Scale("s", 1.0)
    return Scale(unit if unit != "count" else "", 1.0)


def _fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit in ("%",):
        return f"{value:.0f}%"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.1f}"


def histogram_svg(
    values: Sequence[float],
    unit: str,
    markers: Iterable[tuple[str, float, str]] = (),
    width: int = 420,
    height: int = 200,
) -> str:
    """Bars of how often each value range occurred, with labelled vertical markers."""
    scale = _display_scale(unit, values)
    shown = [scale(v) for v in values]
    marks = [(label, scale(v), colour) for label, v, colour in markers]
    left, right, top, bottom = 40, 12, 34, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max([*shown, *(v for _, v, _ in marks)], default=1.0)
    low = min(0.0, min(shown, default=0.0))
    ticks = nice_ticks(low, high * 1.02 if high > 0 else 1.0)
    x0, x1 = ticks[0], ticks[-1]
    bins = max(8, min(36, int(math.sqrt(len(shown)) * 3)))
    counts = [0] * bins
    for value in shown:
        index = min(bins - 1, max(0, int((value - x0) / (x1 - x0) * bins)))
        counts[index] += 1
    top_count = max(counts, default=1) or 1
    y_ticks = nice_ticks(0, top_count, 4)
    y_max = y_ticks[-1] or 1

    def sx(value: float) -> float:
        return left + (value - x0) / (x1 - x0) * plot_w

    def sy(count: float) -> float:
        return top + plot_h - count / y_max * plot_h

    parts = [
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="{FONT}" font-size="10">'
    ]
    for tick in y_ticks:
        y = sy(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end" fill="{MUTED}">{_tick_label(tick)}</text>'
        )
    bar_w = plot_w / bins
    for index, count in enumerate(counts):
        if not count:
            continue
        x = left + index * bar_w
        y = sy(count)
        lo, hi = x0 + index * (x1 - x0) / bins, x0 + (index + 1) * (x1 - x0) / bins
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(1.0, bar_w - 2):.1f}" '
            f'height="{top + plot_h - y:.1f}" rx="2" fill="{ACCENT}" fill-opacity="0.82">'
            f"<title>{count} between {_n(lo)} and {_n(hi)} {scale.unit}</title></rect>"
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{AXIS}"/>'
    )
    for tick in ticks:
        x = sx(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="{AXIS}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle" fill="{MUTED}">{_tick_label(tick)}</text>'
        )
    parts.append(
        f'<text x="{width - right}" y="{height - 2}" text-anchor="end" fill="{MUTED}">{_e(scale.unit)}</text>'
    )
    rows: list[list[tuple[float, float]]] = [[], []]
    for label, value, colour in sorted(marks, key=lambda m: m[1]):
        x = sx(value)
        text = f"{label} {_short(value)}"
        span = 6.2 * len(text) + 8
        anchor = "end" if x + span > width - right else "start"
        extent = (x - span, x) if anchor == "end" else (x, x + span)
        row = next(
            (
                i
                for i, taken in enumerate(rows)
                if all(extent[1] < a or extent[0] > b for a, b in taken)
            ),
            1,
        )
        rows[row].append(extent)
        ty = 11 + row * 12
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{ty + 2}" y2="{top + plot_h}" stroke="{colour}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        dx = -3 if anchor == "end" else 3
        parts.append(
            f'<text x="{x + dx:.1f}" y="{ty}" text-anchor="{anchor}" fill="{colour}" font-weight="600">'
            f"{_e(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    x_max: float,
    y_unit: str,
    width: int = 560,
    height: int = 220,
    area: tuple[str, str, Sequence[tuple[float, float]]] | None = None,
) -> str:
    """Lines over time (seconds since the start); ``area`` is a shaded step series behind them
    on its own right-hand axis (e.g. sessions running)."""
    left, right, top, bottom = 44, 44 if area else 14, 22, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, _, points in series for _, v in points]
    y_ticks = nice_ticks(0, max(values, default=1) * 1.05 or 1, 4)
    y_max = y_ticks[-1] or 1
    x_ticks = nice_ticks(0, max(x_max, 1), 6)
    x_end = x_ticks[-1]

    def sx(t: float) -> float:
        return left + t / x_end * plot_w

    def sy(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    parts = [
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="{FONT}" font-size="10">'
    ]
    if area is not None:
        name, colour, points = area
        a_ticks = nice_ticks(0, max((v for _, v in points), default=1) or 1, 4)
        a_max = a_ticks[-1] or 1
        path = [f"M{sx(0):.1f},{top + plot_h:.1f}"]
        for t, v in points:
            path.append(f"L{sx(t):.1f},{top + plot_h - v / a_max * plot_h:.1f}")
        path.append(f"L{sx(points[-1][0] if points else 0):.1f},{top + plot_h:.1f}Z")
        parts.append(
            f'<path d="{"".join(path)}" fill="{colour}" fill-opacity="0.16" stroke="none"><title>{_e(name)}</title></path>'
        )
        for tick in a_ticks:
            y = top + plot_h - tick / a_max * plot_h
            parts.append(
                f'<text x="{width - right + 6}" y="{y + 3:.1f}" fill="{colour}">{_tick_label(tick)}</text>'
            )
    for tick in y_ticks:
        y = sy(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end" fill="{MUTED}">{_tick_label(tick)}</text>'
        )
    for tick in x_ticks:
        x = sx(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle" fill="{MUTED}">{_tick_label(tick)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{AXIS}"/>'
    )
    parts.append(
        f'<text x="{width - right}" y="{height - 2}" text-anchor="end" fill="{MUTED}">seconds</text>'
    )
    parts.append(
        f'<text x="{left - 6}" y="{top - 12}" text-anchor="end" fill="{MUTED}">{_e(y_unit)}</text>'
    )
    for name, colour, points in series:
        if not points:
            continue
        coords = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in points)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round" stroke-linecap="round"><title>{_e(name)}</title></polyline>'
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(sessions: Sequence[SessionRecord], duration: float, width: int = 1180) -> str:
    """One lane per session: its phases as bars, frames per second inside, events as marks."""
    label_w, right, top, row_h = 210, 16, 26, 20
    plot_w = width - label_w - right
    height = top + row_h * len(sessions) + 10
    axis = _TimeAxis.over(duration, label_w, plot_w)
    sx = axis.x
    parts = [
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="{FONT}" font-size="11">'
        "<defs>"
        + "".join(
            f'<pattern id="stripes-{kind}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{PHASES[kind][0]}" '
            f'fill-opacity="0.35"/><rect width="3" height="6" fill="{PHASES[kind][0]}"/></pattern>'
            for kind in ("paused", "network_down")
        )
        + "</defs>",
    ]
    parts += axis.grid(top, height - 8)
    for row, session in enumerate(sessions):
        y = top + row * row_h
        cy = y + row_h / 2
        if row % 2:
            parts.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="#f8fafc"/>')
        icon, colour = ("✓", GOOD) if session.ok else ("✗", BAD)
        parts.append(
            f'<text x="6" y="{cy + 3.5:.1f}" fill="{colour}" font-weight="700">{icon}</text>'
            f'<text x="20" y="{cy + 3.5:.1f}" fill="{INK}">{_e(_clip(session.label, 32))}'
            f"<title>{_e(session.label)} on {_e(session.device)}"
            f"{' with ' + _e(', '.join(session.agents)) if session.agents else ''}</title></text>"
        )
        # phases: queue, connecting and video as the bar; control as a band along its bottom;
        # paused sharing and a dropped network striped over the video they interrupt
        ordered = sorted(
            (i for i in session.intervals if i.kind in PHASES),
            key=lambda i: (
                "queue",
                "connecting",
                "session",
                "control",
                "paused",
                "network_down",
            ).index(i.kind),
        )
        for interval in ordered:
            colour, name = PHASES[interval.kind]
            end = interval.end if interval.end is not None else session.end
            x, w = sx(interval.start), max(1.5, sx(end) - sx(interval.start))
            if interval.kind == "control":
                by, h, fill = y + row_h - 7, 4.0, colour
            elif interval.kind in ("paused", "network_down"):
                by, h, fill = y + 3, row_h - 6.0, f"url(#stripes-{interval.kind})"
            else:
                by, h, fill = y + 3, row_h - 6.0, colour
            parts.append(
                f'<rect x="{x:.1f}" y="{by:.1f}" width="{w:.1f}" height="{h}" rx="2" fill="{fill}">'
                f"<title>{_e(name)}: {end - interval.start:.2f} s {_e(interval.label)}</title></rect>"
            )
        # frames per second, as a small bar chart inside the video bar
        if session.fps_series:
            for second, frames in enumerate(session.fps_series):
                if not frames:
                    continue
                start_t = session.fps_origin + second
                end_t = min(start_t + 1, session.end)
                if end_t <= start_t:
                    continue
                x = sx(start_t)
                w = max(1.0, sx(end_t) - x - 0.6)
                h = (row_h - 10) * min(frames, 30) / 30
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + row_h - 7 - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                    f'fill="#1e3a8a" fill-opacity="0.32"><title>{frames} frames in second '
                    f"{second + 1} of the video</title></rect>"
                )
        for mark in session.marks:
            x = sx(mark.t)
            if mark.kind == "failure":
                parts.append(
                    f'<g stroke="{BAD}" stroke-width="2.2" stroke-linecap="round">'
                    f'<line x1="{x - 4:.1f}" y1="{cy - 4:.1f}" x2="{x + 4:.1f}" y2="{cy + 4:.1f}"/>'
                    f'<line x1="{x - 4:.1f}" y1="{cy + 4:.1f}" x2="{x + 4:.1f}" y2="{cy - 4:.1f}"/>'
                    f"<title>{_e(mark.label)}</title></g>"
                )
                continue
            if mark.kind not in MARKS:
                continue
            colour, _ = MARKS[mark.kind]
            if mark.kind == "annotation":
                shape = (
                    f'<path d="M{x:.1f},{cy - 4:.1f} L{x + 4:.1f},{cy:.1f} L{x:.1f},{cy + 4:.1f} '
                    f'L{x - 4:.1f},{cy:.1f}Z" fill="{colour}">'
                )
                parts.append(f"{shape}<title>{_e(mark.label)}</title></path>")
            elif mark.kind in ("ring", "end"):
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 2}" y2="{y + row_h - 2}" stroke="{colour}" '
                    f'stroke-width="1.5"><title>{_e(mark.label)}</title></line>'
                )
            else:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="2.6" fill="{colour}" stroke="white" '
                    f'stroke-width="0.8"><title>{_e(mark.label)}</title></circle>'
                )
    parts.append("</svg>")
    return "".join(parts)


def agents_svg(agents: Sequence[dict[str, object]], duration: float, width: int = 1180) -> str:
    label_w, right, top, row_h = 210, 16, 24, 20
    plot_w = width - label_w - right
    height = top + row_h * len(agents) + 8
    axis = _TimeAxis.over(duration, label_w, plot_w)
    sx = axis.x
    parts = [
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="{FONT}" font-size="10.5">',
        *axis.grid(top, height - 6),
    ]
    for row, agent in enumerate(agents):
        y = top + row * row_h
        busy = agent.get("busy") or []
        assert isinstance(busy, list)
        total = sum(b - a for a, b in busy)
        share = total / duration if duration else 0
        parts.append(
            f'<text x="6" y="{y + row_h / 2 + 3.5:.1f}" fill="{INK}">{_e(agent["name"])} '
            f'<tspan fill="{MUTED}">· {agent["sessions"]} sessions · {share:.0%} busy</tspan></text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 8}" rx="3" fill="#eef2f7"/>'
        )
        for start, end in busy:
            parts.append(
                f'<rect x="{sx(start):.1f}" y="{y + 4}" width="{max(1.5, sx(end) - sx(start)):.1f}" '
                f'height="{row_h - 8}" rx="3" fill="{PHASES["session"][0]}">'
                f"<title>in a session {start:.1f}–{end:.1f} s</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _run_strip(runs: Sequence[RunRecord]) -> str:
    """One small square per run, green or red, with the run's verdict on hover."""
    if not runs:
        return ""
    size, gap, per_row = 9, 3, 10
    rows = math.ceil(len(runs) / per_row)
    width = min(len(runs), per_row) * (size + gap)
    parts = [
        f'<svg class="strip" width="{width}" height="{rows * (size + gap)}" '
        f'viewBox="0 0 {width} {rows * (size + gap)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, run in enumerate(sorted(runs, key=lambda r: r.run)):
        x, y = (index % per_row) * (size + gap), (index // per_row) * (size + gap)
        colour = GOOD if run.ok else BAD
        what = "passed" if run.ok else f"failed: {run.failure}"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="2" fill="{colour}">'
            f"<title>run #{run.run} {_e(what)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# --------------------------------------------------------------------------------------------
# The page


def render_report(result: SimResult) -> str:
    runs = result.runs
    sessions = sorted((s for r in runs for s in r.customers), key=lambda s: (s.start, s.label))
    samples = result.metric_samples()
    duration = max([result.duration_s, *(s.end for s in sessions)], default=1.0)
    verdict = "pass" if result.ok else "fail"
    config = result.config
    body: list[str] = []
    body.append(
        f'<div class="top"><h1>mayday sim report</h1><span class="badge {verdict}">'
        f"{verdict.upper()}</span></div>"
        f'<p class="lead">{_e(result.started_at)} · {result.duration_s:.1f} s · server '
        f"{_e(result.url)} · {config.devices} devices, {config.agents} agents, concurrency "
        f"{config.concurrency}{f', duration {config.duration:g} s' if config.duration else ''}</p>"
    )
    failed_runs = sum(not r.ok for r in runs)
    cpu = result.summary.get("server_cpu_percent", {})
    rss = result.summary.get("server_rss_mb", {})
    ttff = result.summary.get("time_to_first_frame", {})
    cards = [
        (f"{len(runs) - failed_runs}/{len(runs)}", "runs passed", GOOD if not failed_runs else BAD),
        (str(len(sessions)), "sessions", INK),
        (
            f"{sum(s.ok for s in result.slo_results)}/{len(result.slo_results)}"
            if result.slo_results
            else "—",
            "SLOs met" if result.slo_results else "SLOs (none given)",
            (GOOD if all(s.ok for s in result.slo_results) else BAD)
            if result.slo_results
            else MUTED,
        ),
        (_fmt(ttff.get("p95"), "s") if ttff.get("count") else "—", "first frame p95", INK),
        (_fmt(cpu.get("max"), "%") if cpu.get("count") else "—", "server CPU peak", INK),
        (_fmt(rss.get("max"), "MB") if rss.get("count") else "—", "server memory peak", INK),
    ]
    body.append(
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="value" style="color:{colour}">{_e(value)}</div>'
            f'<div class="label">{_e(label)}</div></div>'
            for value, label, colour in cards
        )
        + "</div>"
    )

    # scenarios
    body.append(
        "<h2>Scenarios</h2><table><thead><tr><th>scenario</th><th class='num'>customers</th>"
        "<th class='num'>runs</th><th class='num'>passed</th><th class='num'>failed</th>"
        "<th>verdict</th></tr></thead><tbody>"
    )
    for row in result.scenario_rows():
        reasons = "".join(f'<div class="reason">{_e(f)}</div>' for f in row["failures"][:20])
        more = len(row["failures"]) - 20
        if more > 0:
            reasons += f'<div class="reason">… and {more} more</div>'
        body.append(
            f"<tr><td><b>{_e(row['name'])}</b> <span class='desc'>{_e(row['file'])}</span>"
            f"<div class='desc'>{_e(row['description'])}</div>{reasons}</td>"
            f"<td class='num'>{_e(row['customers'])}</td><td class='num'>{row['runs']}"
            f"{_run_strip([r for r in runs if r.scenario == row['name']])}</td>"
            f"<td class='num'>{row['passed']}</td><td class='num'>{row['failed']}</td>"
            f"<td><span class='pill {row['verdict']}'>{row['verdict'].upper()}</span></td></tr>"
        )
    body.append("</tbody></table>")

    # SLOs
    if result.slo_results:
        body.append(
            "<h2>SLOs</h2><table><thead><tr><th>SLO</th><th class='num'>actual</th>"
            "<th>verdict</th></tr></thead><tbody>"
        )
        for slo in result.slo_results:
            unit = METRICS[slo.slo.metric].unit if slo.slo.metric in METRICS else ""
            actual = "no samples" if slo.actual is None else _fmt(slo.actual, unit or "x")
            state = "pass" if slo.ok else "fail"
            body.append(
                f"<tr><td><code>{_e(slo.slo.text)}</code></td><td class='num'>{_e(actual)}</td>"
                f"<td><span class='pill {state}'>{'MET' if slo.ok else 'VIOLATED'}</span></td></tr>"
            )
        body.append("</tbody></table>")

    # latency histograms
    bounds: dict[str, list[tuple[str, float]]] = {}
    for bound in result.config.slos:
        if bound.metric in METRICS and bound.stat != "count":
            bounds.setdefault(bound.metric, []).append((f"SLO {bound.stat}", bound.bound))
    charts = []
    for name, info in METRICS.items():
        values = samples.get(name, [])
        if not values or info.unit not in ("s", "fps"):
            continue
        stats = summarise(values)
        markers = [("p50", stats["p50"], "#0f766e"), ("p95", stats["p95"], "#b45309")]
        markers += [(label, bound, BAD) for label, bound in bounds.get(name, [])]
        charts.append(
            f'<div class="chart"><h3>{_e(name.replace("_", " "))}</h3>'
            f'<div class="sub">{_e(info.description)}<br>n={len(values)} · p50 '
            f"{_fmt(stats['p50'], info.unit)} · p95 {_fmt(stats['p95'], info.unit)} · max "
            f"{_fmt(stats['max'], info.unit)}</div>"
            f"{histogram_svg(values, info.unit, markers)}</div>"
        )
    if charts:
        body.append(
            "<h2>Latencies and frame rates</h2><div class='grid'>" + "".join(charts) + "</div>"
        )

    # resources
    resources = result.resources
    if resources:
        running = _running_series(sessions, duration)
        cpu_series = [
            (
                "server CPU",
                ACCENT,
                [
                    (r["t"], r["server_cpu_percent"])
                    for r in resources
                    if r["server_cpu_percent"] is not None
                ],
            ),
            ("simulator CPU", "#94a3b8", [(r["t"], r["sim_cpu_percent"]) for r in resources]),
        ]
        rss_series = [
            (
                "server memory",
                ACCENT,
                [(r["t"], r["server_rss_mb"]) for r in resources if r["server_rss_mb"] is not None],
            ),
            ("simulator memory", "#94a3b8", [(r["t"], r["sim_rss_mb"]) for r in resources]),
        ]
        area = ("sessions running", "#16a34a", running)
        legend = (
            f'<div class="legend"><span><i style="background:{ACCENT}"></i>server</span>'
            f'<span><i style="background:#94a3b8"></i>simulator (load generator)</span>'
            f'<span><i style="background:#16a34a;opacity:.3"></i>customers in a run (right axis)</span></div>'
        )
        body.append(
            "<h2>Server and simulator</h2><div class='grid2'>"
            f"<div class='chart'><h3>CPU</h3><div class='sub'>percent of one core, sampled every 0.5 s</div>{legend}"
            f"{line_chart_svg(cpu_series, duration, '%', area=area)}</div>"
            f"<div class='chart'><h3>Memory</h3><div class='sub'>resident set size</div>{legend}"
            f"{line_chart_svg(rss_series, duration, 'MB', area=area)}</div></div>"
        )

    # timeline
    if sessions:
        legend = "".join(
            f'<span><i style="background:{colour}"></i>{_e(name)}</span>'
            for colour, name in PHASES.values()
        )
        legend += (
            '<span><i style="background:#1e3a8a;opacity:.5"></i>frames per second (bar height, 30 = full)</span>'
            f'<span style="color:{MARKS["annotation"][0]}">◆ mark seen</span>'
            "<span>● input / consent</span>"
            f'<span style="color:{BAD}">✗ failure</span>'
        )
        body.append(
            "<h2>Sessions</h2><div class='chart'><div class='sub'>one lane per customer, seconds "
            "since the start; hover for details</div>"
            f"<div class='legend'>{legend}</div><div class='scroll'>{timeline_svg(sessions, duration)}</div></div>"
        )
    if result.agents:
        body.append(
            "<h2>Agents</h2><div class='chart'><div class='sub'>when each headless agent was in a "
            f"session</div>{agents_svg(result.agents, duration)}</div>"
        )

    # failures in detail
    failed = [s for s in sessions if not s.ok]
    if failed:
        body.append(
            "<h2>Failed sessions</h2><table><thead><tr><th>session</th><th>steps</th></tr></thead><tbody>"
        )
        for session in failed[:50]:
            steps = "".join(
                f"<div>{'✓' if step.ok else '✗'} {step.index}. {_e(step.kind)} "
                f"<span class='desc'>line {step.line}, {step.end - step.start:.2f} s</span>"
                + (f"<div class='reason'>{_e(step.error)}</div>" if step.error else "")
                + "</div>"
                for step in session.steps
            )
            body.append(
                f"<tr><td><b>{_e(session.label)}</b><div class='desc'>{_e(session.device)}"
                f"{' · ' + _e(session.session_id) if session.session_id else ''}</div>"
                f"<div class='reason'>{_e(session.failure or '')}</div></td><td>{steps}</td></tr>"
            )
        body.append("</tbody></table>")
    if result.notes:
        body.append(
            "<h2>Notes</h2><ul class='notes'>"
            + "".join(f"<li>{_e(n)}</li>" for n in result.notes)
            + "</ul>"
        )
    body.append(
        "<footer>Generated by <code>mayday sim</code>. Latencies are measured in the simulator: "
        "they include its own work, which its CPU chart shows.</footer>"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>mayday sim — {verdict.upper()}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )


def _running_series(
    sessions: Sequence[SessionRecord], duration: float, step: float = 0.5
) -> list[tuple[float, float]]:
    """How many customers were in a run, the most in each ``step`` seconds, as a step line."""
    buckets = [0] * (int(duration / step) + 2)
    for index in range(len(buckets)):
        t0, t1 = index * step, (index + 1) * step
        buckets[index] = sum(1 for s in sessions if s.start < t1 and s.end > t0)
    points: list[tuple[float, float]] = []
    for index, count in enumerate(buckets):
        points.append((index * step, float(count)))
        points.append(((index + 1) * step, float(count)))
    return points
