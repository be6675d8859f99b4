"""The HTML report of a simulation: one self-contained file, its charts inline SVG.

No scripts, fonts or stylesheets are fetched: the file opens the same from a CI artifact, an
e-mail attachment or a laptop without a network. What it shows, top to bottom: the verdict, each
scenario's runs with the reason of every failure, the SLOs, a histogram per latency metric with
its percentiles (and SLO bounds), the server's and the simulator's CPU and memory over time next
to the number of sessions running, a timeline of every session (queue, connecting, video,
remote control, paused sharing, network down, with the frames per second inside), and what each
agent was doing. This module writes the page (cards, tables, verdicts, legends); the charts are
matplotlib figures from :mod:`.charts`, whose hover details are SVG ``<title>`` tooltips
(:mod:`.svg`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from ..metrics import METRICS, RunRecord, SessionRecord, summarise
from ..simulation import SimResult
from . import charts
from .charts import ACCENT, BAD, GOOD, GRID, INK, MARKS, MUTED, P50, P95, PHASES, RUNNING, SIMULATOR

__all__ = ["render_report"]

# --------------------------------------------------------------------------------------------
# Look

FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

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
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(min(360px, 100%), 1fr));
  gap: 14px; }}
.grid2 {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr));
  gap: 14px; }}
.chart {{ background: white; border-radius: 12px; padding: 14px 16px 8px;
  box-shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08); }}
.chart .sub {{ color: {MUTED}; font-size: 12px; margin-bottom: 6px; }}
.chart svg {{ display: block; width: 100%; height: auto; }}
.chart svg * {{ stroke-linejoin: round; stroke-linecap: butt; }}
.chart svg.wide {{ min-width: 860px; }}
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
.strip {{ display: flex; flex-wrap: wrap; gap: 3px; margin: 6px 0 0 auto; }}
.strip i {{ width: 9px; height: 9px; border-radius: 2px; background: {GOOD}; }}
.strip i.fail {{ background: {BAD}; }}
.scroll {{ overflow-x: auto; }}
@media (max-width: 600px) {{
  main {{ padding: 18px 10px 40px; }} .chart {{ padding: 12px 10px 6px; }}
  th, td {{ padding: 7px 6px; }} table {{ display: block; overflow-x: auto; }}
}}
footer {{ color: {MUTED}; font-size: 12px; margin-top: 40px; }}
"""

# --------------------------------------------------------------------------------------------
# Helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


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


def _run_strip(runs: Sequence[RunRecord]) -> str:
    """One small square per run, green or red, with the run's verdict on hover (HTML only)."""
    if not runs:
        return ""
    squares = "".join(
        f'<i class="{"pass" if run.ok else "fail"}" '
        f'title="run #{run.run} {_e("passed" if run.ok else f"failed: {run.failure}")}"></i>'
        for run in sorted(runs, key=lambda r: r.run)
    )
    return f'<span class="strip" style="width:{min(len(runs), 10) * 12}px">{squares}</span>'


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
    histograms = []
    for name, info in METRICS.items():
        values = samples.get(name, [])
        if not values or info.unit not in ("s", "fps"):
            continue
        stats = summarise(values)
        title = name.replace("_", " ")
        markers = [("p50", stats["p50"], P50), ("p95", stats["p95"], P95)]
        markers += [(label, bound, BAD) for label, bound in bounds.get(name, [])]
        histograms.append(
            f'<div class="chart"><h3>{_e(title)}</h3>'
            f'<div class="sub">{_e(info.description)}<br>n={len(values)} · p50 '
            f"{_fmt(stats['p50'], info.unit)} · p95 {_fmt(stats['p95'], info.unit)} · max "
            f"{_fmt(stats['max'], info.unit)}</div>"
            f"{charts.histogram(values, info.unit, markers, f'hist-{name}', title)}</div>"
        )
    if histograms:
        body.append(
            "<h2>Latencies and frame rates</h2><div class='grid'>" + "".join(histograms) + "</div>"
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
            ("simulator CPU", SIMULATOR, [(r["t"], r["sim_cpu_percent"]) for r in resources]),
        ]
        rss_series = [
            (
                "server memory",
                ACCENT,
                [(r["t"], r["server_rss_mb"]) for r in resources if r["server_rss_mb"] is not None],
            ),
            ("simulator memory", SIMULATOR, [(r["t"], r["sim_rss_mb"]) for r in resources]),
        ]
        area = ("customers in a run", RUNNING, running)
        legend = (
            f'<div class="legend"><span><i style="background:{ACCENT}"></i>server</span>'
            f'<span><i style="background:{SIMULATOR}"></i>simulator (load generator)</span>'
            f'<span><i style="background:{RUNNING};opacity:.3"></i>customers in a run (right '
            "axis)</span></div>"
        )
        cpu_chart = charts.over_time(cpu_series, duration, "% of one core", "%", area, "cpu")
        rss_chart = charts.over_time(rss_series, duration, "MB resident", "MB", area, "rss")
        body.append(
            "<h2>Server and simulator</h2><div class='grid2'>"
            f"<div class='chart'><h3>CPU</h3><div class='sub'>percent of one core, sampled every 0.5 s</div>{legend}"
            f"{cpu_chart}</div>"
            f"<div class='chart'><h3>Memory</h3><div class='sub'>resident set size</div>{legend}"
            f"{rss_chart}</div></div>"
        )

    # timeline
    if sessions:
        legend = "".join(
            f'<span><i style="background:{colour}'
            + (
                f";background:repeating-linear-gradient(135deg,{colour} 0 2px,white 2px 4px)"
                if kind in ("paused", "network_down")
                else ""
            )
            + f'"></i>{_e(name)}</span>'
            for kind, (colour, name) in PHASES.items()
        )
        legend += (
            f'<span><i style="background:{charts.FPS};opacity:.5"></i>frames per second (bar '
            "height, 30 = full)</span>"
            f'<span style="color:{MARKS["annotation"][0]}">◆ mark seen</span>'
            f'<span><b style="color:{MARKS["input"][0]}">●</b> input '
            f'<b style="color:{MARKS["control"][0]}">●</b> consent '
            f'<b style="color:{MARKS["rating"][0]}">●</b> rating</span>'
            f'<span style="color:{MARKS["ring"][0]}">| ring, end</span>'
            f'<span style="color:{BAD}">✗ failure</span>'
        )
        body.append(
            "<h2>Sessions</h2><div class='chart'><div class='sub'>one lane per customer, seconds "
            "since the start; hover for details</div>"
            f"<div class='legend'>{legend}</div><div class='scroll'>"
            f"{charts.timeline(sessions, duration, 'timeline')}</div></div>"
        )
    if result.agents:
        body.append(
            "<h2>Agents</h2><div class='chart'><div class='sub'>when each headless agent was in a "
            f"session</div><div class='scroll'>{charts.agents_chart(result.agents, duration, 'agents')}"
            "</div></div>"
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
