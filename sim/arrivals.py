"""``mayday sim --arrivals forecast.json --hour H``: one forecast hour replayed against a real server.

``mayday forecast`` promises, for each hour, that so many agents answer a share of customers within
so many seconds. This replays one such hour as customers arriving at random (Poisson) at the
forecast rate, each a real simulated tablet pressing Help, answered by headless agents of an
embedded ``mayday server``, held for a random (exponential) handle time, ended by the agent, who
then stays in wrap-up for the forecast's wrap-up seconds. The waits it measures (press → accept)
are then set against the promise.

**What is scaled, and what that does** (a real hour of 20 agents does not fit a laptop):

* **Time** runs ``speed`` times faster: arrivals come ``speed`` times as often, handle and
  wrap-up times are ``speed`` times shorter, and every wait measured is multiplied by ``speed``
  before it is reported. For the queue this changes nothing (an M/M/N queue whose clock runs
  faster has the same service level at the scaled threshold); what does not scale is the
  system's own latency (press → ring → accept, some milliseconds), which is multiplied by
  ``speed`` in the report: the smallest wait measured shows it.
* **People**: the agents become ``max(1, round(agents · scale))``, and the arrival rate is set so
  that Erlang C promises this smaller pool the **same service level** as the forecast's pool.
  It is not simply ``rate · scale``: at the same occupancy a small pool answers fewer customers
  in time than a large one (pooling), so a replay scaled proportionally would fail a promise
  the full-size desk keeps. The replay's own occupancy is therefore lower than the hour's, and
  its ASA and wait percentiles are compared with Erlang C's for the scaled pool, not the
  forecast's (both are printed).

Erlang C assumes waiting customers never give up and service times are exponential; the replay
keeps the first (customers wait), the second for the talk time (wrap-up is fixed, as the desk's
is), and the video connection must be up before a session can end, so a talk time shorter than
the set-up lasts as long as the set-up: the measured handle time is reported next to the planned.
A Poisson process whose arrivals are each delayed by an independent set-up time (the tablet
connecting before it presses Help) is again Poisson at the same rate, so that delay does not bend
the arrival process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from . import erlang
from .customer import CustomerRun, SimContext
from .embedded import EmbeddedServer
from .errors import StepFailed
from .metrics import summarise
from .pool import AgentPool, DeviceSlot, register_devices
from .scenario import TabletSetup
from .steps.end import End
from .steps.session import PressHelp, WaitForAgent

__all__ = [
    "ArrivalsError",
    "ForecastHour",
    "ReplayPlan",
    "ReplayResult",
    "load_hour",
    "plan_replay",
    "replay",
]

log = structlog.get_logger("mayday.sim.arrivals")

DEFAULT_SPEED = 60.0
"""An hour in a minute: a 5-minute handle time becomes 5 s, still longer than a session's
video set-up, and the system's own latency (tens of ms) stays small against a 15 s threshold."""
DEFAULT_MAX_AGENTS = 6
"""Sessions with live video at once that a laptop carries beside the server."""
SLOT_BATCH = 4
SETUP_TIMEOUT_S = 30.0
WAIT_TIMEOUT_S = 120.0
"""Real seconds a customer waits for an agent before the replay counts it failed: far beyond any
queue a kept promise builds (the hour itself lasts a minute at the default speed)."""


class ArrivalsError(Exception):
    """The forecast file or the hour asked for cannot be replayed."""


@dataclass(frozen=True)
class ForecastHour:
    """One hour of a ``mayday forecast --json`` file, with the plan's service level target."""

    index: int
    start: str
    arrivals: float
    aht_s: float
    agents: int
    service_level: float | None
    asa_s: float | None
    target: float
    within_s: float
    wrapup_s: float


def load_hour(path: Path, which: str) -> ForecastHour:
    """The hour ``which`` of the forecast: its index (0 = Monday 00:00), ``peak`` (the most
    agents), or the start of its local time as written in the file (``2027-01-19T10``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        hours: list[dict[str, Any]] = list(document["hours"])
        target = float(document["service_level_target"])
        within = float(document["within_s"])
        wrapup = float(document.get("wrapup_s", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ArrivalsError(f"{path}: not a mayday forecast JSON ({error})") from None
    if not hours:
        raise ArrivalsError(f"{path}: the forecast has no hours")
    chosen: int | None = None
    if which == "peak":
        chosen = max(range(len(hours)), key=lambda i: (hours[i]["agents"], hours[i]["arrivals"]))
    elif which.isdigit():
        chosen = int(which)
        if chosen >= len(hours):
            raise ArrivalsError(f"--hour {which}: the forecast has hours 0 to {len(hours) - 1}")
    else:
        matches = [i for i, h in enumerate(hours) if str(h["start"]).startswith(which)]
        if len(matches) != 1:
            raise ArrivalsError(
                f"--hour {which!r} matches {len(matches)} hours; give an index (0-"
                f"{len(hours) - 1}), 'peak', or a start such as {hours[0]['start'][:13]}"
            )
        chosen = matches[0]
    hour = hours[chosen]
    return ForecastHour(
        index=chosen,
        start=str(hour["start"]),
        arrivals=float(hour["arrivals"]),
        aht_s=float(hour["aht_s"]),
        agents=int(hour["agents"]),
        service_level=hour.get("service_level"),
        asa_s=hour.get("asa_s"),
        target=target,
        within_s=within,
        wrapup_s=min(wrapup, float(hour["aht_s"])),
    )


@dataclass(frozen=True)
class ReplayPlan:
    hour: ForecastHour
    speed: float
    scale: float
    agents: int
    """The scaled pool."""
    arrivals: float
    """The scaled rate, per forecast hour."""
    warmup_s: float
    """Forecast seconds of arrivals before the hour, not counted (the queue starts empty)."""
    seed: int

    @property
    def load(self) -> float:
        return erlang.offered_load(self.arrivals, self.hour.aht_s)

    @property
    def promised_level(self) -> float:
        return erlang.service_level(self.agents, self.load, self.hour.aht_s, self.hour.within_s)

    @property
    def promised_asa_s(self) -> float:
        return erlang.average_speed_of_answer(self.agents, self.load, self.hour.aht_s)

    def promised_wait(self, share: float) -> float:
        return erlang.wait_quantile(self.agents, self.load, self.hour.aht_s, share)

    @property
    def real_seconds(self) -> float:
        return (self.warmup_s + 3600.0) / self.speed

    def to_json(self) -> dict[str, Any]:
        return {
            "hour": self.hour.__dict__,
            "speed": self.speed,
            "scale": round(self.scale, 4),
            "agents": self.agents,
            "arrivals_per_hour": round(self.arrivals, 3),
            "occupancy": round(self.load / self.agents, 4),
            "warmup_s": self.warmup_s,
            "seed": self.seed,
            "promised_service_level": round(self.promised_level, 4),
            "promised_asa_s": round(self.promised_asa_s, 3),
            "promised_wait_p90_s": round(self.promised_wait(0.9), 3),
        }


def plan_replay(
    hour: ForecastHour,
    *,
    speed: float = DEFAULT_SPEED,
    scale: float | None = None,
    max_agents: int = DEFAULT_MAX_AGENTS,
    warmup_s: float | None = None,
    seed: int | None = None,
) -> ReplayPlan:
    """Scale the hour down (module docstring): the pool, and the rate that gives it the same
    Erlang C service level as the forecast's pool."""
    if hour.agents < 1 or hour.arrivals <= 0:
        raise ArrivalsError(
            f"hour {hour.index} ({hour.start}) has no forecast help requests: nothing to replay"
        )
    if scale is None:
        scale = min(1.0, max_agents / hour.agents)
    if not 0 < scale <= 1:
        raise ArrivalsError("--scale is a factor above 0 and at most 1")
    agents = max(1, round(hour.agents * scale))
    full_load = erlang.offered_load(hour.arrivals, hour.aht_s)
    promised = erlang.service_level(hour.agents, full_load, hour.aht_s, hour.within_s)
    arrivals = hour.arrivals if agents == hour.agents else _equal_level_rate(hour, agents, promised)
    return ReplayPlan(
        hour=hour,
        speed=speed,
        scale=agents / hour.agents,
        agents=agents,
        arrivals=arrivals,
        warmup_s=2.0 * hour.aht_s if warmup_s is None else warmup_s,
        seed=secrets.randbelow(2**31) if seed is None else seed,
    )


def _equal_level_rate(hour: ForecastHour, agents: int, level: float) -> float:
    """The arrival rate at which ``agents`` get Erlang C service level ``level`` (bisection: the
    service level falls as the rate rises)."""
    low, high = 0.0, agents * 3600.0 / hour.aht_s
    for _ in range(100):
        middle = (low + high) / 2
        load = erlang.offered_load(middle, hour.aht_s)
        if erlang.service_level(agents, load, hour.aht_s, hour.within_s) >= level:
            low = middle
        else:
            high = middle
    return low


@dataclass
class Customer:
    arrived: float
    """Forecast seconds since the start of the warm-up."""
    counted: bool
    wait_s: float | None = None
    handle_s: float | None = None
    failure: str | None = None


@dataclass
class ReplayResult:
    plan: ReplayPlan
    customers: list[Customer] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def counted(self) -> list[Customer]:
        return [c for c in self.customers if c.counted]

    @property
    def waits(self) -> list[float]:
        return [c.wait_s for c in self.counted if c.wait_s is not None]

    @property
    def failures(self) -> list[str]:
        return [c.failure for c in self.customers if c.failure is not None]

    @property
    def service_level(self) -> float | None:
        waits = self.waits
        if not waits:
            return None
        return sum(w <= self.plan.hour.within_s for w in waits) / len(waits)

    def level_interval(self) -> tuple[float, float] | None:
        """Wilson's 95 % interval of the measured service level (a few dozen customers leave
        it wide: a replay "misses" only when even its upper end is below the promise)."""
        waits, level = self.waits, self.service_level
        if level is None:
            return None
        n, z = len(waits), 1.96
        centre = (level + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(level * (1 - level) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    @property
    def kept(self) -> bool:
        interval = self.level_interval()
        return (
            not self.failures
            and interval is not None
            and interval[1] >= min(self.plan.hour.target, self.plan.promised_level)
        )

    def to_json(self) -> dict[str, Any]:
        interval = self.level_interval()
        handles = [c.handle_s for c in self.counted if c.handle_s is not None]
        return {
            "mayday_sim_arrivals": 1,
            "verdict": "kept" if self.kept else "missed",
            "plan": self.plan.to_json(),
            "duration_s": round(self.duration_s, 3),
            "customers": len(self.customers),
            "counted": len(self.counted),
            "failures": self.failures,
            "service_level": None if self.service_level is None else round(self.service_level, 4),
            "service_level_95": None if interval is None else [round(v, 4) for v in interval],
            "asa_s": round(sum(self.waits) / len(self.waits), 3) if self.waits else None,
            "wait_s": {k: round(v, 3) for k, v in summarise(self.waits).items()},
            "handle_s": {k: round(v, 3) for k, v in summarise(handles).items()},
        }


class _Slots:
    """Registered devices for customers, more registered whenever all are in use."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.free: list[DeviceSlot] = []
        self.tag = secrets.token_hex(3)
        self.count = 0

    async def take(self) -> DeviceSlot:
        if not self.free:
            batch = await register_devices(
                self.http, self.url, SLOT_BATCH, f"{self.tag}-{self.count}"
            )
            self.count += 1
            self.free.extend(batch)
        return self.free.pop()

    def give_back(self, slot: DeviceSlot) -> None:
        self.free.append(slot)


async def replay(plan: ReplayPlan, on_tick: Any = None) -> ReplayResult:
    """Run the replay against an embedded server; ``on_tick(elapsed_s, arrived)`` is called at
    every arrival, for a progress display."""
    names = [f"sim-agent-{i + 1}" for i in range(plan.agents)]
    password = secrets.token_urlsafe(18)
    settings = {"wrapup_s": f"{plan.hour.wrapup_s / plan.speed:.6f}"}
    rng = random.Random(plan.seed)
    result = ReplayResult(plan)
    async with (
        EmbeddedServer(names, password, settings) as server,
        aiohttp.ClientSession() as http,
    ):
        pool = AgentPool(server.url, http)
        try:
            await pool.start(names, password)
            for pooled in pool.agents:
                pooled.agent.end_wrapup_at_once = False  # wrap-up lasts as the forecast's does
            origin = time.perf_counter()
            ctx = SimContext(url=server.url, http=http, pool=pool, origin=origin)
            slots = _Slots(http, server.url)
            tasks: list[asyncio.Task[None]] = []
            rate = plan.arrivals / 3600.0 * plan.speed  # per real second
            moment = rng.expovariate(rate)
            end = plan.real_seconds
            while moment < end:
                delay = origin + moment - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                customer = Customer(
                    moment * plan.speed, counted=moment * plan.speed >= plan.warmup_s
                )
                result.customers.append(customer)
                talk = rng.expovariate(1.0) * (plan.hour.aht_s - plan.hour.wrapup_s) / plan.speed
                tasks.append(asyncio.create_task(_serve(ctx, slots, customer, talk, plan.speed)))
                if on_tick is not None:
                    on_tick(time.perf_counter() - origin, len(result.customers))
                moment += rng.expovariate(rate)
            await asyncio.gather(*tasks)
            result.duration_s = time.perf_counter() - origin
        finally:
            await pool.close()
    return result


async def _serve(
    ctx: SimContext, slots: _Slots, customer: Customer, talk_s: float, speed: float
) -> None:
    """One customer: a fresh tablet presses Help, waits for an agent, talks, the agent ends."""
    try:
        slot = await slots.take()
    except Exception as error:
        customer.failure = f"no device could be registered: {error}"
        return
    run = CustomerRun(
        ctx,
        scenario="arrivals",
        file="arrivals",
        tablet=TabletSetup(),
        run=len(slots.free),
        customer=0,
        slot=slot,
    )
    try:
        await asyncio.wait_for(run.setup(), SETUP_TIMEOUT_S)
        detail: dict[str, Any] = {}
        await PressHelp().execute(run, detail)
        await WaitForAgent(timeout=WAIT_TIMEOUT_S).execute(run, detail)
        if run.t_help is None or run.accepted_at is None:
            raise StepFailed("the customer was never answered")
        customer.wait_s = (run.accepted_at - run.t_help) * speed
        remaining = run.accepted_at + talk_s - time.perf_counter()
        if remaining > 0:
            await asyncio.sleep(remaining)
        await End().execute(run, detail)
        customer.handle_s = (time.perf_counter() - run.accepted_at) * speed
    except StepFailed as error:
        customer.failure = str(error)
    except TimeoutError:
        customer.failure = f"the tablet did not connect within {SETUP_TIMEOUT_S:g} s"
    except Exception as error:  # one customer's crash must not lose the others' figures
        log.exception("sim.arrivals_customer_crashed")
        customer.failure = f"unexpected {type(error).__name__}: {error}"
    finally:
        run.finish()
        with contextlib.suppress(Exception):
            await run.cleanup()
        slots.give_back(slot)
