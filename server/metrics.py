"""Prometheus metrics, one registry per application so tests can run many servers in one process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        # process_cpu_seconds_total, process_resident_memory_bytes, ...: what a load test reads.
        ProcessCollector(registry=r)
        self.queue_length = Gauge(
            "mayday_queue_length", "Customers waiting (queued or ringing).", registry=r
        )
        self.sessions = Gauge("mayday_sessions", "Live sessions by state.", ["state"], registry=r)
        self.time_to_ring = Histogram(
            "mayday_time_to_ring_seconds",
            "Help press to the first ring at an agent.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.time_to_accept = Histogram(
            "mayday_time_to_accept_seconds",
            "Ring to the agent's accept.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.callback_answer_time = Histogram(
            "mayday_callback_answer_seconds",
            "A free agent held for a callback to the customer's answer (protocol §20.3).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.callbacks = Counter(
            "mayday_callbacks_total",
            "Callbacks by outcome: requested, answered, missed (let pass or not now).",
            ["outcome"],
            registry=r,
        )
        self.sockets = Gauge(
            "mayday_connected_sockets", "Connected sockets by role.", ["role"], registry=r
        )
        self.agents = Gauge(
            "mayday_agents", "Signed-in agents by presence.", ["status"], registry=r
        )
        self.asyncio_tasks = Gauge(
            "mayday_asyncio_tasks",
            "Unfinished asyncio tasks of the event loop that serves the scrape (a leak check).",
            registry=r,
        )
        self.asyncio_tasks.set_function(_asyncio_tasks)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _asyncio_tasks() -> float:
    """Counted when scraped, in the loop's own thread: one pass over its weak set of tasks."""
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:  # rendered outside a running loop
        return float("nan")
