"""The verdicts, table and curves of ``bench/soak.py``.

Fits (a least-squares line per series over the steady part), the end-of-soak checks against the
baseline, the kinds of asyncio task that grew, the sim's own summary, the printed tables, and the
plot: one panel per metric, the server on the left, the device side (the sim process) on the right.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

Sample = dict[str, Any]

# metric -> (label, absolute floor of the tolerance, relative part of the tolerance)
SERIES: dict[str, dict[str, tuple[str, float, float]]] = {
    "server": {
        "rss_mib": ("RSS (MiB)", 0.0, 0.05),
        "fds": ("open fds", 2, 0.0),
        "threads": ("threads", 2, 0.0),
        "tcp": ("TCP sockets (OS)", 2, 0.0),
        "sockets": ("connected Socket.IO sockets", 2, 0.0),
        "sessions": ("live sessions", 2, 0.0),
        "tasks": ("asyncio tasks", 2, 0.0),
    },
    "device": {
        "rss_mib": ("RSS (MiB)", 0.0, 0.05),
        "fds": ("open fds", 2, 0.0),
        "threads": ("threads", 2, 0.0),
        "socket_fds": ("socket fds", 2, 0.0),
        "udp": ("UDP sockets (peer connections)", 2, 0.0),
        "tasks": ("asyncio tasks", 2, 0.0),
    },
}
SERVER_END = {"sockets": 0, "sessions": 0, "tasks": 2, "fds": 2, "tcp": 1}
"""Server metrics that must be back to the baseline at the end, and by how much they may exceed it."""
DEVICE_END = {"socket_fds": 0, "udp": 0, "fds": 2}
"""The sim after its simulation returned, against the same process at its start."""


# --- verdicts ------------------------------------------------------------------------------------


def fit(points: list[tuple[float, float]], floor: float, relative: float) -> dict[str, Any]:
    """Least-squares slope of ``(t s, value)``; drift over the span; tolerance; verdict."""
    ts, ys = [p[0] for p in points], [p[1] for p in points]
    slope, intercept = statistics.linear_regression(ts, ys)
    span, mean = ts[-1] - ts[0], statistics.fmean(ys)
    residual = sum((y - (slope * t + intercept)) ** 2 for t, y in points)
    spread = sum((t - statistics.fmean(ts)) ** 2 for t in ts)
    se_drift = math.sqrt(residual / max(1, len(ts) - 2) / spread) * span if spread else 0.0
    drift = slope * span
    tolerance = max(floor, relative * abs(mean), 3 * se_drift)
    verdict = "flat" if abs(drift) <= tolerance else ("GROWS" if drift > 0 else "falls")
    return {
        "start": ys[0],
        "end": ys[-1],
        "min": min(ys),
        "max": max(ys),
        "mean": mean,
        "slope_per_min": slope * 60,
        "drift": drift,
        "tolerance": tolerance,
        "verdict": verdict,
        "intercept": intercept,
        "t0": ts[0],
        "t1": ts[-1],
    }


def steady_fits(
    samples: list[Sample], warmup: float, end: float
) -> dict[str, dict[str, dict[str, Any]]]:
    """Fits over ``warmup`` <= t <= ``end`` (the sim's --duration: no new runs start after it)."""
    steady = [s for s in samples if s["phase"] == "soak" and warmup <= s["t"] <= end]
    fits: dict[str, dict[str, dict[str, Any]]] = {}
    for side, metrics in SERIES.items():
        for metric, (_label, floor, relative) in metrics.items():
            points = [
                (s["t"], float(s[side][metric]))
                for s in steady
                if s.get(side) is not None and not math.isnan(float(s[side][metric]))
            ]
            if len(points) >= 3:
                fits.setdefault(side, {})[metric] = fit(points, floor, relative)
    return fits


def end_checks(baseline: Sample, final: Sample, start: Sample, exit_: Sample) -> list[Any]:
    rows: list[Any] = []
    for side, before, after, margins in (
        ("server", baseline, final, SERVER_END),
        ("device", start, exit_, DEVICE_END),
    ):
        for metric, margin in margins.items():
            ok = float(after.get(metric, math.inf)) <= float(before.get(metric, 0)) + margin
            rows.append([side, metric, before.get(metric), after.get(metric), margin, ok])
    return rows


def census_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Any]:
    """Kinds of task that grew from one census to the next, most first."""
    if not before or not after:
        return []
    grown = Counter(after["by"])
    grown.subtract(Counter(before["by"]))
    return [[n, key] for key, n in grown.most_common() if n > 0]


# --- main ----------------------------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
    print(f"\nSteady part: t = {report['warmup']:.0f} s .. --duration; drift = slope x span")
    header = ("side", "metric", "start", "end", "min", "max", "slope/min", "drift", "tol", "")
    print("{:<7} {:<31} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>7}  {}".format(*header))
    for side, metrics in report["fits"].items():
        for metric, f in metrics.items():
            label = SERIES[side][metric][0]
            numbers = [f[k] for k in ("start", "end", "min", "max", "slope_per_min", "drift")]
            print(
                f"{side:<7} {label:<31} {numbers[0]:>8.1f} {numbers[1]:>8.1f} {numbers[2]:>8.1f}"
                f" {numbers[3]:>8.1f} {numbers[4]:>+10.3f} {numbers[5]:>+8.2f}"
                f" {f['tolerance']:>7.2f}  {f['verdict']}"
            )
    print(
        "\nAt the end (server: after the sim exited and the server settled, against the baseline;"
    )
    print("device: the sim process after its simulation returned, against its own start):")
    for side, metric, before, after, margin, ok in report["end"]:
        verdict = "back" if ok else "LEAKED"
        print(
            f"  {side:<7} {metric:<11} {before!s:>8} -> {after!s:<8} (margin {margin})  {verdict}"
        )
    exit_ = report["device_exit"]
    if exit_:
        print(
            f"  (device threads after its simulation returned: {exit_['threads']}, of them "
            f"Python threads: {dict(exit_.get('python_threads', {}))}; not checked)"
        )
        garbage = ", ".join(f"{n} {kind}" for kind, n in list(exit_.get("garbage", {}).items())[:8])
        print(f"  (device garbage cycles then: {garbage})")
        for when in ("after_gc", "after_malloc_trim"):
            if when in exit_:
                again = exit_[when]
                print(
                    f"  (device {when.replace('_', ' ')}: RSS {again['rss_mib']:.1f} MiB, "
                    f"threads {again['threads']}, fds {again['fds']})"
                )
    for name in ("prime", "soak"):
        sim = report["sim"][name]
        print(f"\nsim ({name}): {sim['last_line']}  [exit {sim['exit_code']}]")
        for scenario, (runs, failed) in sim.get("scenarios", {}).items():
            print(f"  {scenario:<22} {runs:>4} runs  {failed:>3} failed")
        for failure in sim.get("failures", []):
            print(f"  FAILED {failure}")
        if "stderr" in sim:
            print(sim["stderr"])
    for title, rows in report["task_growth"].items():
        side = title.split(",")[0]
        during = "steady" in title  # noise from sessions in flight unless the series grows
        grows = report["fits"].get(side, {}).get("tasks", {}).get("verdict") == "GROWS"
        if rows and (grows or not during):
            print(f"\nTasks that grew, {title}:")
            for n, key in rows[:15]:
                print(f"  +{n:<4} {key}")


def sim_summary(data_dir: Path, name: str, code: int) -> dict[str, Any]:
    """What the sim said: its runs, sessions and failures (from its --json) and its exit status."""
    summary: dict[str, Any] = {"exit_code": code, "runs": 0, "sessions": 0, "failed": 0}
    with contextlib.suppress(OSError, ValueError):
        result = json.loads((data_dir / f"{name}.json").read_text())
        rows = result["scenarios"]
        summary.update(
            runs=sum(r["runs"] for r in rows),
            sessions=sum(r["sessions"] for r in rows),
            failed=sum(r["failed"] for r in rows),
            scenarios={r["name"]: [r["runs"], r["failed"]] for r in rows},
            failures=[f"{r['name']} {f}" for r in rows for f in r["failures"]],
            notes=result["notes"],
            verdict=result["verdict"],
        )
    out = (data_dir / f"{name}.out").read_text(errors="replace").strip().splitlines()
    verdicts = [line for line in out if line.startswith(("PASS", "FAIL"))]
    summary["last_line"] = verdicts[-1] if verdicts else (out[-1] if out else "")
    if code != 0 and not summary.get("failures"):
        summary["stderr"] = (data_dir / f"{name}.err").read_text(errors="replace")[-2000:]
    return summary


def plot(report: dict[str, Any], out: Path) -> None:
    """Draw every series of ``report`` (see :func:`bench.soak.run`) to ``out`` (.png or .svg)."""
    rows = max(len(metrics) for metrics in SERIES.values())
    figure, axes = plt.subplots(rows, 2, figsize=(13, 2.1 * rows), sharex=True, squeeze=False)
    samples = report["samples"]
    warmup, sim_end = report["warmup"], report["sim_end_s"]
    for column, (side, metrics) in enumerate(SERIES.items()):
        for row in range(rows):
            ax = axes[row][column]
            if row >= len(metrics):
                ax.set_visible(False)
                continue
            metric = list(metrics)[row]
            label = metrics[metric][0]
            points = [
                (s["t"], float(s[side][metric]), s["phase"])
                for s in samples
                if s.get(side) is not None and not math.isnan(float(s[side][metric]))
            ]
            soak = [(t, y) for t, y, phase in points if phase == "soak"]
            ax.plot([t for t, _ in soak], [y for _, y in soak], lw=1, color="tab:blue")
            ends = [(t, y) for t, y, phase in points if phase != "soak"]
            if ends:
                ax.scatter(
                    [t for t, _ in ends], [y for _, y in ends], color="black", s=14, zorder=3
                )
            if side == "server":
                base = samples[0]["server"][metric]
                ax.axhline(base, color="grey", lw=0.8, ls=":", label="baseline")
            fit = report["fits"].get(side, {}).get(metric)
            title = f"{side}: {label}"
            if fit is not None:
                xs = [fit["t0"], fit["t1"]]
                ax.plot(
                    xs,
                    [fit["intercept"] + fit["slope_per_min"] / 60 * x for x in xs],
                    color="tab:red" if fit["verdict"] == "GROWS" else "tab:green",
                    lw=1.5,
                    ls="--",
                )
                title += f" — {fit['slope_per_min']:+.3g}/min, {fit['verdict']}"
            ax.axvspan(0, warmup, color="0.9", lw=0)
            ax.axvline(sim_end, color="grey", lw=0.8)
            ax.set_title(title, fontsize=9, loc="left")
            ax.tick_params(labelsize=8, labelbottom=True)
            ax.margins(y=0.15)
            if row == len(metrics) - 1 or row == rows - 1:
                ax.set_xlabel("seconds since the soak started", fontsize=8)
    figure.suptitle(
        "mayday soak: grey band = warm-up (not fitted), dashed = least-squares fit, "
        "vertical line = sim ended, dots = baseline and final sample",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)
