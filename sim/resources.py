"""The server's and the simulator's own CPU and memory, sampled while a simulation runs.

The server's come from its ``GET /metrics`` (``process_cpu_seconds_total``,
``process_resident_memory_bytes``), sampled twice a second; the simulator's own are sampled
alongside, so a saturated load generator is visible rather than mistaken for a slow server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = ["ResourceSample", "ServerSampler", "parse_prometheus"]


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
