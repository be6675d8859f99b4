"""What one server's run of ``bench/connections.py`` measured, and how it is reported.

:class:`Run` is what the benchmark fills in while it connects, idles and reads RSS;
:func:`print_table` prints its tables and the ratio to the floor; :func:`explain` reads the
tracemalloc snapshots of ``--trace`` (taken by :mod:`bench._traced`) and says which code
allocated what the idle connections hold. The script keeps what starts the servers and the load,
so each reads on its own: this part changes when the report does, the script when the
measurement does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import linecache
import os
import statistics
import sys
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench._server import ROOT
from bench._stats import percentile

__all__ = ["TARGETS", "Run", "Target", "explain", "print_table", "print_targets"]


@dataclass(frozen=True)
class Target:
    """One of issue 17's targets: mayday's figure against the floor's of the same run."""

    figure: str
    unit: str
    at_most: bool
    """The ratio mayday / floor must stay at or under ``ratio`` (else at or over it)."""
    ratio: float

    def verdict(self, ours: float, floor: float) -> tuple[float, bool]:
        ratio = ours / floor if floor else float("inf")
        return ratio, ratio <= self.ratio if self.at_most else ratio >= self.ratio


TARGETS = {
    "cpu": Target("server CPU per device connect", "ms", True, 2.0),
    "rate": Target("connect rate", "/s", False, 0.5),
    "memory": Target("memory per idle device", "KB", True, 1.1),
}
"""Issue 17's targets, as ratios to the floor (2x its CPU per connect, half its connect rate,
1.1x its memory per connection with as many idle devices as one process can hold)."""


# --- what one run measured -----------------------------------------------------------------------


@dataclass
class Run:
    """What ``measure`` in ``bench/connections.py`` found on one server: filled in there, read here."""

    name: str
    devices: int
    connected: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    connect_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    unloaded_ms: list[float] = field(default_factory=list)
    rss_kib: dict[str, int] = field(default_factory=dict)
    open_after_idle: int = 0
    pings_min: int = 0
    server_cpu_s: float = 0.0
    clients_cpu_s: float = 0.0
    register_s: float | None = None
    half_rates: list[float] = field(default_factory=list)
    snapshots: dict[str, Path] = field(default_factory=dict)
    threads: int = 0

    @property
    def rate(self) -> float:
        return self.connected / self.connect_s if self.connect_s else 0.0

    def per_connection_kb(self, start: str = "before", end: str = "idle") -> float:
        connections = self.connected if start == "before" else self.second_half
        return (self.rss_kib[end] - self.rss_kib[start]) * 1024 / 1000 / max(1, connections)

    second_half: int = 0
    requested: int = 0
    """Devices asked for (``--devices``); ``devices`` is how many fit under the open-file limit."""


# --- reports -------------------------------------------------------------------------------------


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def print_table(runs: list[Run], args: argparse.Namespace) -> None:
    today = datetime.date.today().isoformat()
    print(
        f"\ncores: {os.cpu_count()}   date: {today}   devices: {args.devices}   "
        f"load: {args.workers} worker processes x {args.concurrency} connects in flight   "
        f"idle: {args.idle:.0f} s   registered via: {args.register}"
    )
    if args.python != sys.executable:
        print(f"servers run on {args.python}")
    print(
        f"{'server':<8} {'connected':>9} {'open after idle':>15} {'connects/s':>10} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'unloaded p50 ms':>15} {'CPU ms/connect':>14}"
    )
    for run in runs:
        lat = run.latencies_ms or [0.0]
        unloaded = statistics.median(run.unloaded_ms) if run.unloaded_ms else 0.0
        print(
            f"{run.name:<8} {run.connected:>9} {run.open_after_idle:>15} {run.rate:>10.0f} "
            f"{percentile(lat, 50):>7.1f} {percentile(lat, 95):>7.1f} {percentile(lat, 99):>7.1f} "
            f"{unloaded:>15.2f} {1000 * run.server_cpu_s / max(1, run.connected):>14.2f}"
        )
    print(
        f"\n{'server':<8} {'RSS before':>10} {'mid':>7} {'after':>7} {'idle':>7} "
        f"{'KB/connection':>13} {'marginal KB':>11} {'threads':>7}"
    )
    for run in runs:
        print(
            f"{run.name:<8} {mib(run.rss_kib['before']):>10} {mib(run.rss_kib['mid']):>7} "
            f"{mib(run.rss_kib['after']):>7} {mib(run.rss_kib['idle']):>7} "
            f"{run.per_connection_kb():>13.1f} {run.per_connection_kb('mid', 'after'):>11.1f} "
            f"{run.threads:>7}"
        )
    print(
        "RSS in MiB. KB/connection = (RSS idle - RSS before) / connected, 1 KB = 1000 bytes;\n"
        "marginal = (RSS after - RSS mid) / connections of the second half. Latency: TCP connect\n"
        "-> 40/device ack, with the connects in flight above; unloaded: one at a time (warm-up).\n"
        "CPU ms/connect: the server's CPU time while connecting (pings included) / connected."
    )
    for run in runs:
        cpu = run.server_cpu_s / run.connect_s * 100 if run.connect_s else 0.0
        clients = run.clients_cpu_s / run.connect_s * 100 if run.connect_s else 0.0
        registered = (
            f"; POST /api/devices x{run.devices + args.warmup} took {run.register_s:.1f} s"
            if run.register_s is not None
            else ""
        )
        print(
            f"{run.name}: connects/s first half {run.half_rates[0]:.0f}, second half "
            f"{run.half_rates[1]:.0f}; while connecting the server used {cpu:.0f} % of a core, "
            f"the load workers {clients:.0f} % in all; fewest pings answered by a socket while "
            f"idle: {run.pings_min}{registered}"
        )
        if run.failed:
            print(f"{run.name}: {run.failed} connects failed: {run.errors}")
        if run.open_after_idle != run.connected:
            print(f"{run.name}: only {run.open_after_idle} of {run.connected} stayed open")
    if len(runs) == 2:
        ours, floor = runs
        marginal = ours.per_connection_kb("mid", "after")
        print(
            f"mayday / floor: memory per connection "
            f"{ours.per_connection_kb() / floor.per_connection_kb():.2f}x, marginal "
            f"{marginal / floor.per_connection_kb('mid', 'after'):.2f}x, connect rate "
            f"{ours.rate / floor.rate:.2f}x."
        )


def print_targets(ours: Run, floor: Run) -> bool:
    """Each target figure of mayday against the floor of the same run, PASS or MISS; all met?"""
    figures = {
        "cpu": (
            1000 * ours.server_cpu_s / max(1, ours.connected),
            1000 * floor.server_cpu_s / max(1, floor.connected),
        ),
        "rate": (ours.rate, floor.rate),
        "memory": (ours.per_connection_kb(), floor.per_connection_kb()),
    }
    print(f"\ntargets (issue 17), mayday against the floor of this run, {ours.devices} devices:")
    passed = True
    for key, target in TARGETS.items():
        mine, theirs = figures[key]
        ratio, ok = target.verdict(mine, theirs)
        passed &= ok
        sign = "<=" if target.at_most else ">="
        print(
            f"  {target.figure:<31} mayday {mine:8.2f} {target.unit:<3} floor {theirs:8.2f} "
            f"{target.unit:<3} {ratio:5.2f}x  target {sign} {target.ratio:.1f}x  "
            f"{'PASS' if ok else 'MISS'}"
        )
    held = ours.connected == ours.devices and ours.open_after_idle == ours.connected
    passed &= held
    fit = (
        f" ({ours.requested} asked for: {ours.devices} fit under the open-file limit)"
        if ours.requested > ours.devices
        else ""
    )
    print(
        f"  {'idle devices held':<31} mayday {ours.open_after_idle} of {ours.devices} connected "
        f"and open after the idle time{fit}  {'PASS' if held else 'MISS'}"
    )
    return passed


# --- where the memory goes (tracemalloc) ----------------------------------------------------------

PACKAGES = (
    "aiohttp",
    "engineio",
    "socketio",
    "bidict",
    "multidict",
    "yarl",
    "sqlalchemy",
    "aiosqlite",
    "pydantic",
    "structlog",
    "prometheus_client",
    "signaling",
    "server",
    "bench",
)


def component(filename: str) -> str | None:
    """The package a source file belongs to, or ``None`` for the standard library."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    with contextlib.suppress(ValueError):
        relative = path.relative_to(ROOT)
        return relative.parts[0]
    return None


def site(frame: tracemalloc.Frame) -> str:
    path = Path(frame.filename)
    parts = path.parts
    if "site-packages" in parts:
        short = "/".join(parts[parts.index("site-packages") + 1 :])
    elif path.is_relative_to(ROOT):
        short = str(path.relative_to(ROOT))
    else:
        short = "/".join(parts[-2:])
    source = linecache.getline(frame.filename, frame.lineno).strip()
    return f"{short}:{frame.lineno}  {source[:70]}"


def caller_site(traceback: tracemalloc.Traceback) -> tuple[str, str]:
    """The innermost frame outside the standard library that led to an allocation, and its package.

    An asyncio Task or a dict made by the standard library is charged to the library code that
    asked for it (engineio starting its writer task, aiohttp building a request).
    """
    for frame in reversed(traceback):  # most recent last
        package = component(frame.filename)
        if package is not None:
            return site(frame), package
    return site(traceback[-1]), "stdlib"


OURS = (
    "server",
    "signaling",
    "sqlalchemy",
    "aiosqlite",
    "structlog",
    "pydantic",
    "socketio",
    "bidict",
)
"""Packages whose share is shown caller by caller: ours, and what only our server does per socket
(records, logging, validation, rooms)."""


Rows = dict[str, list[int]]
"""key -> [bytes, blocks]"""


def attribute(
    snapshots: dict[str, tracemalloc.Snapshot], start: str, end: str
) -> tuple[int, Rows, Rows, Rows, dict[str, set[str]]]:
    """Allocations alive at ``end`` and not at ``start``: by package, by caller, by line."""
    by_package: Rows = defaultdict(lambda: [0, 0])
    by_caller: Rows = defaultdict(lambda: [0, 0])
    by_line: Rows = defaultdict(lambda: [0, 0])
    callers_of: dict[str, set[str]] = defaultdict(set)
    total = 0
    for stat in snapshots[end].compare_to(snapshots[start], "traceback"):
        if stat.size_diff == 0:
            continue
        total += stat.size_diff
        where, package = caller_site(stat.traceback)
        callers_of[package].add(where)
        line = site(stat.traceback[-1])
        for rows, key in ((by_package, package), (by_caller, where), (by_line, line)):
            rows[key][0] += stat.size_diff
            rows[key][1] += stat.count_diff
    return total, by_package, by_caller, by_line, callers_of


def explain(run: Run, top: int) -> None:
    """Which code allocated what the idle connections hold, per connection.

    The tables are for the second half of the connections (snapshot mid -> idle): caches that
    fill up with the first connections and then stop growing (SQLAlchemy's, the connection
    pool's) are not a cost per connection. The whole run (before -> idle) is shown per package.
    """
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    snapshots = {
        key: tracemalloc.Snapshot.load(str(path)).filter_traces(ignore)
        for key, path in run.snapshots.items()
    }
    whole, whole_packages, *_ = attribute(snapshots, "before", "idle")
    total, by_package, by_caller, by_line, callers_of = attribute(snapshots, "mid", "idle")
    n, half = max(1, run.connected), max(1, run.second_half)
    print(
        f"\n{run.name}: traced Python allocations held per idle connection: {total / half:.0f} "
        f"bytes over the second half ({half} connections), {whole / n:.0f} over all {n}"
    )

    def show(title: str, rows: Rows, keys: list[str] | None = None) -> None:
        chosen = sorted(keys if keys is not None else rows, key=lambda k: -rows[k][0])[:top]
        chosen = [k for k in chosen if abs(rows[k][0]) >= half]  # at least a byte per connection
        if not chosen:
            return
        width = max(len(title), *(len(k) for k in chosen))
        print(f"{title:<{width}} {'bytes/conn':>10} {'blocks/conn':>11}")
        for key in chosen:
            size, count = rows[key]
            print(f"{key:<{width}} {size / half:>10.0f} {count / half:>11.2f}")

    print(f"{'package whose code asked':<26} {'bytes/conn':>10} {'whole run':>10}")
    for key in sorted(by_package.keys() | whole_packages.keys(), key=lambda k: -by_package[k][0]):
        second, first = by_package[key][0] / half, whole_packages[key][0] / n
        if abs(second) >= 1 or abs(first) >= 1:
            print(f"{key:<26} {second:>10.0f} {first:>10.0f}")
    show("innermost caller outside the standard library", by_caller)
    show("allocation site", by_line)
    for package in OURS:
        if abs(by_package.get(package, [0])[0]) >= half:
            show(f"  {package}: callers", by_caller, sorted(callers_of[package]))
