"""What a run leaves behind: each customer's session, its steps, its timeline, its samples.

Times are seconds since the simulation started. The records are plain data with their JSON form
(the ``runs`` of ``--json``, docs/scenarios.md *Output*), written by the steps while they run and
read by the summary, the SLOs and the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Interval", "Mark", "RunRecord", "SessionRecord", "StepRecord"]


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

    # The JSON form key by key, in the output's order; RunRecord's begins alike on purpose.
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

    # Key by key like SessionRecord's: each record spells out its own part of the output.
    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "file": self.file,
            "run": self.run,
            "ok": self.ok,
            "failure": self.failure,
            "sessions": [c.to_json() for c in self.customers],
        }
