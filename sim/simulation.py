"""A whole simulation: agents and devices, runs scheduled at the given concurrency, the results.

Scheduling: ``--devices`` device slots and ``--concurrency`` permits (one per customer) are shared
by all runs. A run of a scenario with *n* customers takes *n* device slots and min(*n*,
concurrency) permits, and starts when it has them. Without ``--duration``, every device slot runs
every scenario once (a scenario with *n* customers runs ceil(devices / *n*) times) unless
``--runs`` says how often; runs of different scenarios are interleaved. With ``--duration``,
runs start round-robin over the scenarios until that many seconds have passed; runs already
going are finished.

People: ``--agents`` headless agents, plus one when customers are handed to colleagues (as many
customers of such scenarios as can run at once, plus one, so that a free colleague always
exists; customers all handing on to each other would wait for ever), and as many supervisors as
customers of scenarios with a supervisor can run at once (``--supervisors`` says otherwise; a run
then waits for one to be free).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import structlog

from .embedded import EmbeddedServer
from .metrics import METRICS, RunRecord, ServerSampler, summarise
from .pool import AgentPool, DeviceSlot, register_devices
from .runner import SimContext, run_scenario
from .scenario import Scenario, agent_languages
from .slo import Slo, SloResult, check_slos

__all__ = ["NullObserver", "Observer", "SimConfig", "SimResult", "simulate"]

log = structlog.get_logger("mayday.sim")


@dataclass
class SimConfig:
    scenarios: list[Scenario]
    devices: int = 2
    agents: int = 2
    concurrency: int = 2
    duration: float | None = None
    runs: int | None = None
    server: str | None = None
    servers: list[str] = field(default_factory=list)
    """All the processes' URLs when there are several (``server`` is the first)."""
    agent_prefix: str = "sim-agent-"
    agent_password: str | None = None
    supervisors: int | None = None
    """Supervisor accounts to sign in (``None``: as many as the scenarios watch at once)."""
    supervisor_prefix: str = "sim-supervisor-"
    server_settings: dict[str, str] = field(default_factory=dict)
    slos: list[Slo] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenarios": [s.file for s in self.scenarios],
            "devices": self.devices,
            "agents": self.agents,
            "supervisors": self.supervisors,
            "concurrency": self.concurrency,
            "duration": self.duration,
            "runs": self.runs,
            "server": self.server or "embedded",
            "servers": self.servers or ([self.server] if self.server else []),
            "server_settings": self.server_settings,
            "slos": [s.text for s in self.slos],
        }


@dataclass
class SimResult:
    config: SimConfig
    started_at: str
    duration_s: float
    url: str
    runs: list[RunRecord]
    summary: dict[str, dict[str, float]]
    samples: dict[str, list[float]]
    """Every sample of every metric, sessions' and resources' alike."""
    resources: list[dict[str, Any]]
    slo_results: list[SloResult]
    agents: list[dict[str, Any]]
    pool: dict[str, int]
    notes: list[str]

    @property
    def ok(self) -> bool:
        """Every run passed and every SLO held; a simulation that ran nothing does not pass."""
        return (
            bool(self.runs) and all(r.ok for r in self.runs) and all(s.ok for s in self.slo_results)
        )

    def metric_samples(self) -> dict[str, list[float]]:
        return self.samples

    def scenario_rows(self) -> list[dict[str, Any]]:
        rows = []
        for scenario in self.config.scenarios:
            runs = [r for r in self.runs if r.scenario == scenario.name]
            failures = [f"#{r.run}: {r.failure}" for r in runs if not r.ok]
            rows.append(
                {
                    "name": scenario.name,
                    "file": scenario.file,
                    "description": scenario.description,
                    "customers": str(scenario.customers),
                    "runs": len(runs),
                    "sessions": sum(len(r.customers) for r in runs),
                    "passed": sum(r.ok for r in runs),
                    "failed": sum(not r.ok for r in runs),
                    "verdict": "pass" if runs and all(r.ok for r in runs) else "fail",
                    "failures": failures,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        samples = self.metric_samples()
        return {
            "mayday_sim": 1,
            "verdict": "pass" if self.ok else "fail",
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "server": self.url,
            "config": self.config.to_json(),
            "scenarios": self.scenario_rows(),
            "metrics": {
                name: {
                    "unit": info.unit,
                    "description": info.description,
                    **{k: round(v, 6) for k, v in self.summary.get(name, {"count": 0}).items()},
                    "samples": [round(v, 6) for v in samples.get(name, [])],
                }
                for name, info in METRICS.items()
            },
            "slos": [s.to_json() for s in self.slo_results],
            "runs": [r.to_json() for r in self.runs],
            "resources": self.resources,
            "agents": self.agents,
            "pool": self.pool,
            "notes": self.notes,
        }


class Observer(Protocol):
    """Told what happens, for a progress display."""

    def planned(self, sessions: int | None, duration: float | None) -> None: ...

    def run_started(self, scenario: str, customers: int) -> None: ...

    def run_finished(self, record: RunRecord) -> None: ...

    def tick(self, sampler: ServerSampler, running: int) -> None: ...


class NullObserver:
    def planned(self, sessions: int | None, duration: float | None) -> None:
        return None

    def run_started(self, scenario: str, customers: int) -> None:
        return None

    def run_finished(self, record: RunRecord) -> None:
        return None

    def tick(self, sampler: ServerSampler, running: int) -> None:
        return None


@dataclass(frozen=True)
class _Job:
    scenario: Scenario
    run: int
    size: int


def _plan(config: SimConfig) -> Iterator[_Job]:
    sizes = {s.name: s.customers.resolve(config.agents) for s in config.scenarios}
    if config.duration is not None:
        counts = dict.fromkeys(sizes, 0)
        while True:
            for scenario in config.scenarios:
                counts[scenario.name] += 1
                yield _Job(scenario, counts[scenario.name], sizes[scenario.name])
    runs = {
        s.name: config.runs
        if config.runs is not None
        else max(1, math.ceil(config.devices / sizes[s.name]))
        for s in config.scenarios
    }
    for index in range(max(runs.values(), default=0)):
        for scenario in config.scenarios:
            if index < runs[scenario.name]:
                yield _Job(scenario, index + 1, sizes[scenario.name])


def _at_once(config: SimConfig, scenarios: list[Scenario], devices: int) -> int:
    """How many customers of ``scenarios`` can be in their runs at the same time (at most)."""
    total = 0
    for scenario in scenarios:
        size = scenario.customers.resolve(config.agents)
        parallel = max(1, min(config.concurrency // min(size, config.concurrency), devices // size))
        if config.duration is None:
            runs = config.runs or max(1, math.ceil(config.devices / size))
            parallel = min(parallel, runs)
        total += size * parallel
    if not total:
        return 0
    largest = max(s.customers.resolve(config.agents) for s in scenarios)
    return min(total, max(config.concurrency, largest), devices)


def planned_sessions(config: SimConfig) -> int | None:
    if config.duration is not None:
        return None
    return sum(job.size for job in _plan(config))


async def simulate(config: SimConfig, observer: Observer | None = None) -> SimResult:
    observer = observer or NullObserver()
    notes: list[str] = []
    password = config.agent_password or secrets.token_urlsafe(18)
    largest = max((s.customers.resolve(config.agents) for s in config.scenarios), default=1)
    devices = config.devices
    if largest > devices:
        notes.append(
            f"--devices raised from {devices} to {largest}: a scenario runs {largest} customers "
            "at once"
        )
        devices = largest
    pool_size = config.agents
    handing = _at_once(config, [s for s in config.scenarios if s.hands_to_colleagues], devices)
    if handing + 1 > pool_size:
        pool_size = handing + 1
        notes.append(
            f"--agents raised from {config.agents} to {pool_size}: {handing} customers at once may "
            "be handed to a colleague, who must be free"
        )
    names = [f"{config.agent_prefix}{i + 1}" for i in range(pool_size)]
    watched = _at_once(config, [s for s in config.scenarios if s.watched], devices)
    supervisors = [
        f"{config.supervisor_prefix}{i + 1}"
        for i in range(watched if config.supervisors is None else config.supervisors)
    ]
    for scenario in config.scenarios:
        size = scenario.customers.resolve(config.agents)
        if size > config.concurrency:
            notes.append(
                f"{scenario.name} runs {size} customers at once, more than --concurrency "
                f"{config.concurrency}; it takes all {config.concurrency} permits while it runs"
            )
    async with contextlib.AsyncExitStack() as stack:
        if config.server is None:
            server = await stack.enter_async_context(
                EmbeddedServer(
                    names,
                    password,
                    config.server_settings,
                    supervisors,
                    languages=agent_languages(config.scenarios),
                )
            )
            url = server.url
        else:
            url = config.server.rstrip("/")
        urls = [u.rstrip("/") for u in config.servers] or [url]
        if url not in urls:
            urls.insert(0, url)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        origin = time.perf_counter()
        started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        pool = AgentPool(url, http, urls)
        stack.push_async_callback(pool.close)
        await pool.start(names, password, supervisors)
        tag = secrets.token_hex(3)
        slots = await register_devices(http, url, devices, tag)
        sampler = ServerSampler(http, url, origin)
        sampler.start()
        stack.push_async_callback(sampler.stop)
        ctx = SimContext(url=url, http=http, pool=pool, origin=origin, urls=urls)
        runs = await _schedule(config, ctx, slots, sampler, observer)
        await sampler.stop()
        duration = time.perf_counter() - origin
        agents = [
            {
                "name": p.name,
                "sessions": p.sessions,
                "busy": [[round(a, 3), round(b, 3)] for a, b in p.busy],
            }
            for p in pool.agents
        ]
        pool_stats = {"ring_timeouts": pool.ring_timeouts, "foreign_rings": pool.foreign_rings}
    samples: dict[str, list[float]] = {}
    for run in runs:
        for session in run.customers:
            for name, values in session.metrics.items():
                samples.setdefault(name, []).extend(values)
    samples.update(sampler.series())
    summary = {name: summarise(values) for name, values in samples.items()}
    slo_results = check_slos(config.slos, summary, runs)
    if pool_stats["ring_timeouts"]:
        notes.append(
            f"{pool_stats['ring_timeouts']} rings were not answered in time (the server set the "
            "agent away; the simulation set it available again)"
        )
    return SimResult(
        config=config,
        started_at=started_at,
        duration_s=duration,
        url=url if config.server else "embedded",
        runs=runs,
        summary=summary,
        samples=samples,
        resources=sampler.to_json(),
        slo_results=slo_results,
        agents=agents,
        pool=pool_stats,
        notes=notes,
    )


async def _schedule(
    config: SimConfig,
    ctx: SimContext,
    slots: list[DeviceSlot],
    sampler: ServerSampler,
    observer: Observer,
) -> list[RunRecord]:
    free: asyncio.Queue[DeviceSlot] = asyncio.Queue()
    for slot in slots:
        free.put_nowait(slot)
    permits = asyncio.Semaphore(config.concurrency)
    taking = asyncio.Lock()
    records: list[RunRecord] = []
    tasks: set[asyncio.Task[None]] = set()
    running = 0
    deadline = None if config.duration is None else ctx.origin + config.duration
    observer.planned(planned_sessions(config), config.duration)

    async def ticker() -> None:
        while True:
            observer.tick(sampler, running)
            await asyncio.sleep(0.25)

    async def one(job: _Job, taken: list[DeviceSlot], held: int) -> None:
        nonlocal running
        running += job.size
        observer.run_started(job.scenario.name, job.size)
        try:
            try:
                record = await run_scenario(ctx, job.scenario, job.run, taken)
            except Exception as exc:  # a bug in the simulator must not lose the other runs
                log.exception("sim.run_crashed", scenario=job.scenario.name)
                record = RunRecord(
                    scenario=job.scenario.name,
                    file=job.scenario.file,
                    run=job.run,
                    customers=[],
                    ok=False,
                    failure=f"the simulator failed: {type(exc).__name__}: {exc}",
                )
            records.append(record)
            observer.run_finished(record)
        finally:
            running -= job.size
            for slot in taken:
                free.put_nowait(slot)
            for _ in range(held):
                permits.release()

    tick = asyncio.create_task(ticker())
    try:
        for job in _plan(config):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            held = min(job.size, config.concurrency)
            async with taking:
                for _ in range(held):
                    await permits.acquire()
                taken = [await free.get() for _ in range(job.size)]
            if deadline is not None and time.perf_counter() >= deadline:
                for slot in taken:
                    free.put_nowait(slot)
                for _ in range(held):
                    permits.release()
                break
            task = asyncio.create_task(one(job, taken, held))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    finally:
        tick.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tick
        for task in tasks:
            task.cancel()
    records.sort(key=lambda r: (r.scenario, r.run))
    return records
