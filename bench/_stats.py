"""The figures every benchmark prints: one percentile for all of them, and the ratio to the floor."""

from __future__ import annotations

import statistics

__all__ = ["percentile", "ratios"]


def percentile(values: list[float], q: float) -> float:
    """The measured value nearest ``q`` % of the way through ``values`` in order (no interpolation:
    with few samples, a p95 that was never measured would flatter or blame the run)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ratios(measured: list[float], floor: list[float]) -> str:
    """``median 1.23x, p95 1.45x``: how ``measured`` compares with ``floor``."""
    median = statistics.median(measured) / statistics.median(floor)
    p95 = percentile(measured, 95) / percentile(floor, 95)
    return f"median {median:.2f}x, p95 {p95:.2f}x"
