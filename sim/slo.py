"""Service levels held against a simulation's numbers (``--slo METRIC_STAT=BOUND``).

An SLO names a metric of :data:`~sim.metrics.METRICS` and a statistic of its summary, or one of
two whole-simulation numbers (``pass_rate``, ``failures``); ``=`` bounds in the metric's good
direction. An SLO that cannot be read is refused before anything runs; one without samples fails,
since it cannot be shown to hold.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .metrics import METRICS, STATS
from .records import RunRecord

__all__ = ["SPECIAL_SLOS", "Slo", "SloError", "SloResult", "check_slos", "parse_slo"]


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
