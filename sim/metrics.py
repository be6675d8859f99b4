"""What a simulation measures, and how it is summarised.

Every session records named samples (seconds unless the metric says otherwise); the run's summary
gives each metric's count, mean, min, max and percentiles over all sessions. :data:`METRICS` is the
catalogue (unit, meaning, which direction is good) that the summary, the JSON output, the report
and the SLOs (:mod:`sim.slo`) read.

The records the samples live in (:mod:`sim.records`) and the resource sampler
(:mod:`sim.resources`) are re-exported here: this is where the report and the summary have always
found them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .records import Interval, Mark, RunRecord, SessionRecord, StepRecord
from .resources import ResourceSample, ServerSampler, parse_prometheus

__all__ = [
    "METRICS",
    "STATS",
    "Interval",
    "Mark",
    "MetricInfo",
    "ResourceSample",
    "RunRecord",
    "ServerSampler",
    "SessionRecord",
    "StepRecord",
    "parse_prometheus",
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
        MetricInfo(
            "transfer_to_first_frame",
            "s",
            "An agent hands the customer on → the next agent's first decoded frame (ring and "
            "accept included).",
        ),
        MetricInfo(
            "watch_to_first_frame", "s", "A supervisor asks to watch → its first decoded frame."
        ),
        MetricInfo(
            "time_to_overflow",
            "s",
            "Help tapped → routing widens to any free agent (nobody signed in matched the "
            "customer's language or topic; MAYDAY_OVERFLOW_S).",
        ),
        MetricInfo(
            "callback_answer",
            "s",
            "An agent becomes free and is held for a callback → the customer connects (the "
            "customer's own delay included).",
        ),
        MetricInfo(
            "callback_answered",
            "%",
            "Callbacks rung at the customer that were answered (mean = the share answered).",
            higher_is_better=True,
        ),
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
