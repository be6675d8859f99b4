"""What a simulation measures, how it is summarised, and the SLOs checked against it.

Every session records named samples (seconds unless the metric says otherwise); the run's
summary gives each metric's count, mean, min, max and percentiles over all sessions. The server's
CPU and memory come from its ``GET /metrics`` (``process_cpu_seconds_total``,
``process_resident_memory_bytes``), sampled twice a second; the simulator's own CPU and memory
are sampled alongside, so a saturated load generator is visible rather than mistaken for a slow
server.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

__all__ = [
    "METRICS",
    "STATS",
    "Interval",
    "Mark",
    "MetricInfo",
    "RunRecord",
    "ServerSampler",
    "SessionRecord",
    "Slo",
    "SloError",
    "SloResult",
    "StepRecord",
    "check_slos",
    "parse_slo",
    "percentile",
    "summarise",
]


@dataclass(frozen=True)
class MetricInfo:
    name: str
    unit: Literal["s", "fps", "count", "%", "MB"]
    description: str
    higher_is_better: bool = False


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo(
            "time_to_ring", "s", "Help tapped → the ring reaches an agent (includes queueing)."
        ),
        MetricInfo("time_to_first_frame", "s", "Agent accepts → first decoded video frame."),
        MetricInfo(
            "annotation_latency", "s", "Agent sends a mark → the mark is seen in a received frame."
        ),
        MetricInfo("control_apply_latency", "s", "Agent sends input → the device has applied it."),
        MetricInfo(
            "control_latency",
            "s",
            "Agent sends input → device applied → the change is seen in a received frame.",
        ),
        MetricInfo(
            "consent_round_trip",
            "s",
            "Request → dialog on the tablet, plus the customer's answer → the agent's control "
            "state (the customer's think time is not counted).",
        ),
        MetricInfo("revoke_latency", "s", "Customer taps Stop control → the agent sees 'none'."),
        MetricInfo(
            "pause_latency", "s", "Customer taps Pause/Resume → the agent's video shows it."
        ),
        MetricInfo("reconnect_time", "s", "Network back → the device's socket is connected."),
        MetricInfo("resume_time", "s", "Network back → video frames flow to the agent again."),
        MetricInfo("session_duration", "s", "Accept → end of the session (handling time)."),
        MetricInfo(
            "fps",
            "fps",
            "Frames the agent decoded per second over the session (the device sends ~1 fps "
            "while the screen is still, up to 30 while it changes).",
            higher_is_better=True,
        ),
        MetricInfo(
            "fps_peak", "fps", "Most frames decoded in any one second.", higher_is_better=True
        ),
        MetricInfo("queue_position", "count", "Highest queue position the customer was shown."),
        MetricInfo("server_cpu_percent", "%", "Server process CPU (100 = one core), per sample."),
        MetricInfo("server_rss_mb", "MB", "Server process resident memory, per sample."),
        MetricInfo("sim_cpu_percent", "%", "The simulator's own CPU (100 = one core), per sample."),
        MetricInfo("sim_rss_mb", "MB", "The simulator's own resident memory, per sample."),
    )
}
STATS = ("p50", "p90", "p95", "p99", "mean", "min", "max", "count")

# --------------------------------------------------------------------------------------------
# Records


@dataclass
class Interval:
    kind: str
    """queue, connecting, session, control, paused, network_down"""
    start: float
    end: float | None = None
    label: str = ""


@dataclass
class Mark:
    t: float
    kind: str
    label: str
    ok: bool = True


@dataclass
class StepRecord:
    index: int
    kind: str
    line: int
    start: float
    end: float
    ok: bool
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class SessionRecord:
    """One customer's go through a scenario (times in seconds since the simulation started)."""

    scenario: str
    file: str
    run: int
    customer: int
    device: str
    start: float
    end: float = 0.0
    ok: bool = True
    failure: str | None = None
    session_id: str | None = None
    agents: list[str] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    fps_series: list[int] = field(default_factory=list)
    """Frames decoded in each whole second from ``fps_origin`` on (for the timeline)."""
    fps_origin: float = 0.0

    @property
    def label(self) -> str:
        suffix = f".{self.customer}" if self.customer else ""
        return f"{self.scenario} #{self.run}{suffix}"

    def add(self, metric: str, value: float) -> None:
        self.metrics.setdefault(metric, []).append(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "file": self.file,
            "run": self.run,
            "customer": self.customer,
            "device": self.device,
            "session_id": self.session_id,
            "agents": self.agents,
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "ok": self.ok,
            "failure": self.failure,
            "metrics": {k: [round(v, 5) for v in vs] for k, vs in self.metrics.items()},
            "steps": [
                {
                    "index": s.index,
                    "kind": s.kind,
                    "line": s.line,
                    "start": round(s.start, 4),
                    "end": round(s.end, 4),
                    "ok": s.ok,
                    "error": s.error,
                    "detail": s.detail,
                }
                for s in self.steps
            ],
            "intervals": [
                {
                    "kind": i.kind,
                    "start": round(i.start, 4),
                    "end": None if i.end is None else round(i.end, 4),
                    "label": i.label,
                }
                for i in self.intervals
            ],
            "marks": [
                {"t": round(m.t, 4), "kind": m.kind, "label": m.label, "ok": m.ok}
                for m in self.marks
            ],
            "fps_series": self.fps_series,
            "fps_origin": round(self.fps_origin, 4),
        }


@dataclass
class RunRecord:
    """One run of a scenario: one or more customers at once."""

    scenario: str
    file: str
    run: int
    customers: list[SessionRecord]
    ok: bool = True
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "file": self.file,
            "run": self.run,
            "ok": self.ok,
            "failure": self.failure,
            "sessions": [c.to_json() for c in self.customers],
        }


# --------------------------------------------------------------------------------------------
# Statistics


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), ``q`` in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


# --------------------------------------------------------------------------------------------
# SLOs


class SloError(ValueError):
    """An SLO given on the command line cannot be understood."""


@dataclass(frozen=True)
class Slo:
    text: str
    metric: str
    stat: str
    op: str
    bound: float


@dataclass(frozen=True)
class SloResult:
    slo: Slo
    actual: float | None
    ok: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "slo": self.slo.text,
            "metric": self.slo.metric,
            "stat": self.slo.stat,
            "op": self.slo.op,
            "bound": self.slo.bound,
            "actual": self.actual,
            "ok": self.ok,
            "message": self.message,
        }


SPECIAL_SLOS = {
    "pass_rate": "share of runs that passed, 0..1 (default op >=)",
    "failures": "number of failed runs (default op <=)",
}
_SLO = re.compile(r"^\s*([a-z_0-9]+?)\s*(<=|>=|==|=|<|>)\s*(-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*$")


def parse_slo(text: str) -> Slo:
    """``time_to_first_frame_p95=1.0``: ``=`` bounds in the good direction (at most, or at least
    for fps and pass_rate); ``<=``, ``<``, ``>=``, ``>`` say it explicitly."""
    match = _SLO.match(text)
    if not match:
        raise SloError(
            f"cannot read SLO {text!r}: expected METRIC_STAT=NUMBER, e.g. "
            "time_to_first_frame_p95=1.0 or fps_p50>=2"
        )
    name, op, number = match.group(1), match.group(2), float(match.group(3))
    if name in SPECIAL_SLOS:
        metric, stat = name, "value"
        higher = name == "pass_rate"
    else:
        metric, _, stat = name.rpartition("_")
        if stat not in STATS or metric not in METRICS:
            known = ", ".join(f"{m}_{{{'|'.join(STATS)}}}" for m in METRICS)
            raise SloError(
                f"unknown SLO metric {name!r}; use one of {known}, or " + ", ".join(SPECIAL_SLOS)
            )
        higher = METRICS[metric].higher_is_better and stat != "count"
    if op == "=":
        op = ">=" if higher else "<="
    return Slo(text=text.strip(), metric=metric, stat=stat, op=op, bound=number)


def _holds(actual: float, op: str, bound: float) -> bool:
    return {
        "<=": actual <= bound,
        "<": actual < bound,
        ">=": actual >= bound,
        ">": actual > bound,
        "==": actual == bound,
    }[op]


def check_slos(
    slos: list[Slo], summary: dict[str, dict[str, float]], runs: list[RunRecord]
) -> list[SloResult]:
    results = []
    for slo in slos:
        if slo.metric == "pass_rate":
            actual: float | None = sum(r.ok for r in runs) / len(runs) if runs else None
        elif slo.metric == "failures":
            actual = float(sum(not r.ok for r in runs))
        else:
            stats = summary.get(slo.metric, {"count": 0})
            actual = stats.get(slo.stat) if stats.get("count") else None
            if slo.stat == "count":
                actual = float(stats.get("count", 0))
        if actual is None or math.isnan(actual):
            results.append(
                SloResult(slo, None, False, f"{slo.text}: no samples of {slo.metric} were taken")
            )
            continue
        ok = _holds(actual, slo.op, slo.bound)
        unit = METRICS[slo.metric].unit if slo.metric in METRICS else ""
        results.append(
            SloResult(
                slo,
                actual,
                ok,
                f"{slo.metric} {slo.stat} = {actual:.4g}{unit if unit != 'count' else ''} "
                f"({'meets' if ok else 'violates'} {slo.op} {slo.bound:g})",
            )
        )
    return results


# --------------------------------------------------------------------------------------------
# Server and simulator resources


@dataclass
class ResourceSample:
    t: float
    server_cpu_percent: float | None
    server_rss_mb: float | None
    queue_length: float | None
    sessions_active: float | None
    sim_cpu_percent: float
    sim_rss_mb: float


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEinfNa]+)")


def parse_prometheus(text: str) -> dict[str, float]:
    """``name`` or ``name{labels}`` → value, for the lines of a text exposition."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match:
            with contextlib.suppress(ValueError):
                values[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return values


def _own_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class ServerSampler:
    """Samples ``GET /metrics`` and this process every ``interval`` seconds until stopped."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, origin: float, interval: float = 0.5
    ) -> None:
        self.http = http
        self.url = url
        self.origin = origin
        self.interval = interval
        self.samples: list[ResourceSample] = []
        self.errors = 0
        self._task: asyncio.Task[None] | None = None
        self.latest: ResourceSample | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _scrape(self) -> dict[str, float] | None:
        try:
            async with self.http.get(
                f"{self.url}/metrics", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                if response.status != 200:
                    return None
                return parse_prometheus(await response.text())
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def _run(self) -> None:
        previous: tuple[float, float] | None = None
        own_previous = (time.perf_counter(), time.process_time())
        while True:
            values = await self._scrape()
            now = time.perf_counter()
            own_now = (now, time.process_time())
            sim_cpu = (own_now[1] - own_previous[1]) / max(1e-6, own_now[0] - own_previous[0]) * 100
            own_previous = own_now
            cpu_percent = rss = queue = active = None
            if values is None:
                self.errors += 1
            else:
                cpu = values.get("process_cpu_seconds_total")
                if cpu is not None:
                    if previous is not None and now > previous[0]:
                        cpu_percent = max(0.0, (cpu - previous[1]) / (now - previous[0]) * 100)
                    previous = (now, cpu)
                memory = values.get("process_resident_memory_bytes")
                rss = memory / 1e6 if memory is not None else None
                queue = values.get("mayday_queue_length")
                active = values.get('mayday_sessions{state="active"}')
            sample = ResourceSample(
                t=now - self.origin,
                server_cpu_percent=cpu_percent,
                server_rss_mb=rss,
                queue_length=queue,
                sessions_active=active,
                sim_cpu_percent=sim_cpu,
                sim_rss_mb=_own_rss_mb(),
            )
            if values is not None or self.samples:
                self.samples.append(sample)
            self.latest = sample
            await asyncio.sleep(self.interval)

    def series(self) -> dict[str, list[float]]:
        """The samples as metrics (the first CPU sample has no rate yet and is left out)."""
        out: dict[str, list[float]] = {
            "server_cpu_percent": [],
            "server_rss_mb": [],
            "sim_cpu_percent": [],
            "sim_rss_mb": [],
        }
        for s in self.samples:
            if s.server_cpu_percent is not None:
                out["server_cpu_percent"].append(s.server_cpu_percent)
            if s.server_rss_mb is not None:
                out["server_rss_mb"].append(s.server_rss_mb)
            out["sim_cpu_percent"].append(s.sim_cpu_percent)
            out["sim_rss_mb"].append(s.sim_rss_mb)
        return out

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "t": round(s.t, 3),
                "server_cpu_percent": None
                if s.server_cpu_percent is None
                else round(s.server_cpu_percent, 2),
                "server_rss_mb": None if s.server_rss_mb is None else round(s.server_rss_mb, 2),
                "queue_length": s.queue_length,
                "sessions_active": s.sessions_active,
                "sim_cpu_percent": round(s.sim_cpu_percent, 2),
                "sim_rss_mb": round(s.sim_rss_mb, 2),
            }
            for s in self.samples
        ]
