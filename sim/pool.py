"""The people of a simulation: signed-in headless agents shared by every run, and device slots.

Agents sign in the way the console does (``POST /api/agents/login``, then the ``/agent`` socket
and ``presence.set available``); the server decides who is rung, exactly as in production. Each
ring names the customer's device (``ticket.device_name``), and every device slot has a unique
name, so the pool hands the ring to the run driving that device. Rings for devices the
simulation does not drive are declined at once (on a shared server they belong to real agents).

Supervisors (``supervisor`` accounts) sign in too, but never take rings: a run borrows one for
as long as it watches a session (:meth:`AgentPool.lease_supervisor`), so that runs going at the
same time never share one (a supervisor watches one session at a time). A transfer to a colleague
claims the colleague it picked until that colleague has taken the customer
(:meth:`AgentPool.free_colleagues`), so that two transfers at once never pick the same one.

A device slot is a registered device identity (``POST /api/devices``); each run starts a fresh
:class:`~device_agent.DeviceAgent` with a fresh simulated tablet on it, so every run starts
from the same screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from signaling import Event, ProtocolError

from .agent import HeadlessAgent
from .failover import Failover

__all__ = [
    "AgentPool",
    "DeviceSlot",
    "PooledAgent",
    "RingOffer",
    "SimSetupError",
    "register_devices",
]

log = structlog.get_logger("mayday.sim.pool")


class SimSetupError(Exception):
    """The simulation cannot start: the server is unreachable, an agent cannot sign in, ..."""


@dataclass
class PooledAgent:
    name: str
    agent: HeadlessAgent
    token: str
    sessions: int = 0
    busy: list[tuple[float, float]] = field(default_factory=list)
    """``(accepted, ended)`` perf_counter times of every session this agent handled."""
    id: str = ""
    """The account's id (``agt_…``, from the sign-in), as ``session.transfer`` names a colleague."""
    shown_name: str = ""
    """The name the customer sees (the display name, else the account name)."""
    role: str = "agent"


@dataclass(frozen=True)
class RingOffer:
    agent: PooledAgent
    ring_id: str
    ticket_id: str
    received_at: float
    ticket: dict[str, Any] = field(default_factory=dict)
    """The ring's ``ticket`` as the agent received it (``handed_on`` and its note, …)."""
    callback: bool = False
    """``callback.calling``: the agent is held while the server rings the customer back."""


@dataclass(frozen=True)
class _SignIn:
    token: str
    id: str
    shown_name: str
    role: str


@dataclass(frozen=True)
class DeviceSlot:
    index: int
    name: str
    device_id: str
    device_secret: str


async def register_devices(
    http: aiohttp.ClientSession, url: str, count: int, tag: str
) -> list[DeviceSlot]:
    """Register ``count`` devices named ``sim-<tag>-tablet-NNN``."""

    async def one(index: int) -> DeviceSlot:
        name = f"sim-{tag}-tablet-{index:03d}"
        async with http.post(f"{url}/api/devices", json={"name": name}) as response:
            if response.status != 201:
                raise SimSetupError(
                    f"registering device {name} failed: HTTP {response.status} "
                    f"{(await response.text())[:200]}"
                )
            body = await response.json()
        return DeviceSlot(index, name, str(body["device_id"]), str(body["device_secret"]))

    return list(await asyncio.gather(*(one(i + 1) for i in range(count))))


class AgentPool:
    def __init__(
        self, url: str, http: aiohttp.ClientSession, urls: list[str] | None = None
    ) -> None:
        self.url = url
        self.urls = urls or [url]
        """Every process's URL: agent *i* connects to ``urls[i % n]`` first (sim.failover)."""
        self.http = http
        self.agents: list[PooledAgent] = []
        self.ring_timeouts = 0
        """Rings nobody answered in time (the server then set the agent away; the pool sets it
        available again, as a person would)."""
        self.foreign_rings = 0
        self.cancelled_rings: set[str] = set()
        """Rings the server took back (timeout, the customer cancelled or dropped off)."""
        self._boards: dict[str, asyncio.Queue[RingOffer]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.supervisors: list[PooledAgent] = []
        """Signed in, never available for rings; lent to one run at a time."""
        self._free_supervisors: asyncio.Queue[PooledAgent] = asyncio.Queue()
        self.claimed: set[str] = set()
        """Agents a transfer picked and that have not taken the customer yet."""

    async def start(self, names: list[str], password: str, supervisors: Sequence[str] = ()) -> None:
        everyone = [*names, *supervisors]
        signed_in = await asyncio.gather(*(self._login(name, password) for name in everyone))
        for index, (name, account) in enumerate(zip(everyone, signed_in, strict=True)):
            agent = HeadlessAgent(self.url, account.token)
            Failover(self.urls, index).install(agent.client)
            pooled = PooledAgent(
                name,
                agent,
                account.token,
                id=account.id,
                shown_name=account.shown_name,
                role=account.role,
            )
            self._watch(pooled)
            if index < len(names):
                self.agents.append(pooled)
                continue
            if account.role not in ("supervisor", "admin"):
                raise SimSetupError(
                    f"{name!r} is an {account.role} account: watching sessions needs a "
                    f"supervisor; create it with `mayday agents add {name} --role supervisor`"
                )
            self.supervisors.append(pooled)
            self._free_supervisors.put_nowait(pooled)
        try:
            await asyncio.gather(
                *(p.agent.start(available=True) for p in self.agents),
                *(p.agent.start(available=False) for p in self.supervisors),
            )
        except Exception as exc:
            raise SimSetupError(f"an agent could not connect to {self.url}: {exc}") from exc
        for pooled in self.agents:
            self._tasks.append(asyncio.create_task(self._dispatch(pooled)))

    async def _login(self, name: str, password: str) -> _SignIn:
        try:
            async with self.http.post(
                f"{self.url}/api/agents/login", json={"name": name, "password": password}
            ) as response:
                body = await response.json(content_type=None)
                if response.status != 200:
                    message = (
                        body.get("error", {}).get("message") if isinstance(body, dict) else body
                    )
                    raise SimSetupError(
                        f"agent {name!r} cannot sign in at {self.url}: HTTP {response.status} "
                        f"{message}; create it with `mayday agents add {name}` on the server"
                    )
                agent = body.get("agent") or {}
                return _SignIn(
                    token=str(body["token"]),
                    id=str(agent.get("id", "")),
                    shown_name=str(agent.get("name") or name),
                    role=str(body.get("role", "agent")),
                )
        except aiohttp.ClientError as exc:
            raise SimSetupError(f"cannot reach {self.url}: {exc}") from exc

    def _watch(self, pooled: PooledAgent) -> None:
        async def on_presence(data: dict[str, Any]) -> None:
            if data.get("status") == "away" and data.get("reason") == "ring not answered":
                self.ring_timeouts += 1
                log.warning("sim.ring_not_answered", agent=pooled.name)
                if not self._closing:
                    with contextlib.suppress(Exception):
                        await pooled.agent.set_presence("available")

        async def on_ring_cancelled(data: dict[str, Any]) -> None:
            self.cancelled_rings.add(str(data.get("ring_id")))

        pooled.agent.presence_listeners.append(on_presence)  # wrap-up: the agent ends it itself
        pooled.agent.client.on(Event.RING_CANCELLED, on_ring_cancelled)

    async def _dispatch(self, pooled: PooledAgent) -> None:
        while True:
            ring = await pooled.agent.rings.get()
            ticket = ring.get("ticket") or {}
            device = str(ticket.get("device_name", ""))
            offer = RingOffer(
                agent=pooled,
                ring_id=str(ring.get("ring_id")),
                ticket_id=str(ticket.get("ticket_id", "")),
                received_at=float(ring.get("_received_at", time.perf_counter())),
                ticket=dict(ticket),
                callback=bool(ring.get("_callback")),
            )
            board = self._boards.get(device)
            if board is None:
                self.foreign_rings += 1
                await self.decline(offer)
                continue
            board.put_nowait(offer)

    def open_board(self, device_name: str) -> asyncio.Queue[RingOffer]:
        """Rings for ``device_name`` from now on (a run calls this before its customer asks)."""
        board: asyncio.Queue[RingOffer] = asyncio.Queue()
        self._boards[device_name] = board
        return board

    async def close_board(self, device_name: str) -> None:
        """The run is over: rings still waiting for it are declined."""
        board = self._boards.pop(device_name, None)
        while board is not None and not board.empty():
            await self.decline(board.get_nowait())

    async def decline(self, offer: RingOffer) -> None:
        with contextlib.suppress(ProtocolError, Exception):
            await offer.agent.agent.decline(offer.ring_id)

    def any_token(self) -> str:
        return self.agents[0].token

    # --- colleagues and supervisors -------------------------------------------------------------

    def free_colleagues(self, besides: PooledAgent) -> list[PooledAgent]:
        """Agents who could take a customer ``besides`` hands on right now, as far as the pool
        knows: not in a session, not claimed by another transfer; those who handled fewest
        sessions first. The server has the last word (one being rung is not free)."""
        free = [
            pooled
            for pooled in self.agents
            if pooled is not besides
            and pooled.agent.session is None
            and pooled.name not in self.claimed
        ]
        return sorted(free, key=lambda p: p.sessions)

    def find_agent(self, wanted: int | str) -> PooledAgent | None:
        """The pool's agent by its 1-based index or its account name."""
        if isinstance(wanted, int):
            return self.agents[wanted - 1] if 1 <= wanted <= len(self.agents) else None
        return next((p for p in self.agents if p.name == wanted), None)

    async def lease_supervisor(self, timeout: float) -> PooledAgent:
        """A supervisor no other run is using (waits for one); give it back with
        :meth:`release_supervisor`."""
        if not self.supervisors:
            raise LookupError("the simulation has no supervisors")
        return await asyncio.wait_for(self._free_supervisors.get(), timeout)

    def release_supervisor(self, pooled: PooledAgent) -> None:
        self._free_supervisors.put_nowait(pooled)

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(
            *(p.agent.close() for p in (*self.agents, *self.supervisors)), return_exceptions=True
        )
