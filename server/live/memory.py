"""The default live store: plain objects in this process's memory.

Atomicity comes from the event loop: :meth:`atomically` never awaits between reading and writing.
It hands the operation deep copies, so an operation that raises half-way leaves nothing changed.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from .line import WaitingLine
from .records import (  # an import list: redis.py and ops.py name the same types
    AgentPresence,
    ControlState,
    LiveSession,
    RingRecord,
    SessionState,
    Stats,
)
from .roster import AgentRoster
from .store import Due, LiveStore, Txn

__all__ = ["MAX_FAILURE_KEYS", "MemoryStore"]

T = TypeVar("T")

MAX_FAILURE_KEYS = 10_000
"""Failure counters kept at most; beyond it the expired, then the smallest counts are dropped."""


class MemoryStore(LiveStore):
    def __init__(self, default_handling_time_s: float) -> None:
        self._sessions: dict[str, LiveSession] = {}
        self._roster = AgentRoster()
        self._rings: dict[str, RingRecord] = {}
        self._stats = Stats(handling_time_s=default_handling_time_s)
        self._line = WaitingLine()
        self._by_device: dict[str, str] = {}
        self._device_lost: dict[str, LiveSession] = {}
        self._suspended: dict[str, LiveSession] = {}
        """Live sessions whose device is away, and those whose control is suspended with a
        lease: what :meth:`due` looks at each second (not all 10,000 live sessions)."""
        self._failures: dict[str, tuple[int, float]] = {}
        """Failure counters: key -> (count, monotonic time it is forgotten)."""

    # LiveStore.atomically's signature, repeated here as an override must.
    async def atomically(
        self,
        fn: Callable[[Txn], T],
        *,
        sessions: Iterable[str | None] = (),
        agents: Iterable[str | None] = (),
        rings: Iterable[str | None] = (),
        stats: bool = False,
    ) -> T:
        txn = Txn(
            sessions={k: _copy(self._sessions.get(k)) for k in sessions if k},
            agents={k: _copy(self._roster.get(k)) for k in agents if k},
            rings={k: _copy(self._rings.get(k)) for k in rings if k},
            stats=self._stats.model_copy() if stats else None,
        )
        result = fn(txn)
        for session_id, session in txn.sessions.items():
            self._put_session(session_id, session)
        for agent_id, agent in txn.agents.items():
            self._roster.put(agent_id, agent)
        for ring_id, ring in txn.rings.items():
            _put(self._rings, ring_id, ring)
        if txn.stats is not None:
            self._stats = txn.stats
        return result

    def _put_session(self, session_id: str, session: LiveSession | None) -> None:
        old = self._sessions.pop(session_id, None)
        self._line.put(session_id, session)
        if old is not None and self._by_device.get(old.device_id) == session_id:
            del self._by_device[old.device_id]
        self._device_lost.pop(session_id, None)
        self._suspended.pop(session_id, None)
        if session is None:
            return
        self._sessions[session_id] = session
        if session.state is not SessionState.ENDED:
            self._by_device[session.device_id] = session_id
            if session.device_lost_at is not None:
                self._device_lost[session_id] = session
            if (
                session.control is ControlState.SUSPENDED
                and session.control_lease_until is not None
            ):
                self._suspended[session_id] = session

    async def get_session(self, session_id: str) -> LiveSession | None:
        return _copy(self._sessions.get(session_id))

    async def session_for_device(self, device_id: str) -> LiveSession | None:
        session_id = self._by_device.get(device_id)
        return _copy(self._sessions.get(session_id)) if session_id else None

    async def waiting(self, limit: int | None = None) -> list[LiveSession]:
        # The records themselves, not copies (read-only, see LiveStore.waiting): a queue push
        # reads every waiting customer, and copying 10,000 of them cost more than the push.
        # A change never alters a stored record in place: atomically stores new objects.
        return self._line.sessions(limit)

    async def line(self) -> WaitingLine:
        return self._line

    async def position(self, session_id: str) -> int | None:
        return self._line.position(session_id)

    async def live_sessions(self) -> list[LiveSession]:
        # Shallow copies, read-only: only metrics and operator views use this.
        return [session.model_copy() for session in self._sessions.values()]

    async def get_agent(self, agent_id: str) -> AgentPresence | None:
        return _copy(self._roster.get(agent_id))

    async def agents(self) -> list[AgentPresence]:
        # The records themselves, read-only (see LiveStore.agents), as for waiting(): a queue
        # push reads them all, and copying 1,000 agents cost more than the push.
        return self._roster.agents()

    async def roster(self) -> AgentRoster:
        return self._roster

    async def get_ring(self, ring_id: str) -> RingRecord | None:
        return _copy(self._rings.get(ring_id))

    async def stats(self) -> Stats:
        return self._stats.model_copy()

    async def due(self, now: float, *, grace_s: float) -> Due:
        cutoff = now - grace_s
        suspended = list(self._suspended.values())
        return Due(
            rings=[r.ring_id for r in self._rings.values() if r.expires_at <= now],
            lost_sessions=[
                s.id
                for s in self._device_lost.values()
                if s.device_lost_at is not None and s.device_lost_at <= cutoff
            ],
            lost_agents=[
                a.agent_id
                for a in self._roster.agents()
                if a.lost_at is not None and a.lost_at <= cutoff
            ],
            expired_leases=[
                s.id
                for s in suspended
                if s.control_lease_until is not None and s.control_lease_until <= now
            ],
            suspended=[
                s.id
                for s in suspended
                if s.control_lease_until is not None and s.control_lease_until > now
            ],
        )

    async def forget_session(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.state is SessionState.ENDED:
            self._put_session(session_id, None)

    async def count_failure(self, key: str, window_s: float) -> int:
        now = time.monotonic()
        count, until = self._live_failures(key, now)
        if count == 0:  # a new window
            until = now + window_s
            if len(self._failures) >= MAX_FAILURE_KEYS:
                self._forget_old_failures(now)
        self._failures[key] = (count + 1, until)
        return count + 1

    async def failures(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        count, until = self._live_failures(key, now)
        return count, until - now

    async def clear_failures(self, key: str) -> None:
        self._failures.pop(key, None)

    def _live_failures(self, key: str, now: float) -> tuple[int, float]:
        count, until = self._failures.get(key, (0, now))
        return (count, until) if until > now else (0, now)

    def _forget_old_failures(self, now: float) -> None:
        """Bound the table: someone trying many names must not grow it without end.

        Expired counters go first; if it is still full, the smallest tenth (a name locked out
        has the largest counts), so flooding the table with new names cannot unlock the one
        attacked. A tenth at a time keeps a flood from paying for a full scan per new name.
        """
        self._failures = {k: v for k, v in self._failures.items() if v[1] > now}
        if len(self._failures) < MAX_FAILURE_KEYS:
            return
        excess = len(self._failures) - MAX_FAILURE_KEYS + MAX_FAILURE_KEYS // 10
        for key, _ in heapq.nsmallest(excess, self._failures.items(), key=lambda kv: kv[1]):
            del self._failures[key]


R = TypeVar("R", LiveSession, AgentPresence, RingRecord)
V = TypeVar("V")


def _copy(record: R | None) -> R | None:
    return None if record is None else record.model_copy(deep=True)


def _put(table: dict[str, V], key: str, value: V | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
