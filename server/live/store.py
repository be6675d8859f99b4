"""The one interface behind which all live state sits.

Every change goes through :meth:`LiveStore.atomically`: the store loads the named records, hands
copies to a pure function that checks and changes them (see :mod:`server.live.ops`), and writes the
result back only if the function returned, all at once. The in-memory store does that between two
awaits of a single event loop; the Redis store does it with ``WATCH``/``MULTI`` and retries, so two
processes routing at the same moment cannot both win. Nothing else writes live records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from signaling import ErrorCode, ProtocolError

from .line import WaitingLine
from .records import AgentPresence, LiveSession, RingRecord, Stats
from .roster import AgentRoster

__all__ = ["Due", "LiveStore", "StaleRead", "Txn"]

T = TypeVar("T")


class StaleRead(Exception):
    """The records an operation was given no longer link up (another change came in between).

    The caller reads again and retries; nothing was written.
    """


@dataclass
class Txn:
    """The records one atomic operation works on. Assign ``None`` to delete a record."""

    sessions: dict[str, LiveSession | None] = field(default_factory=dict)
    agents: dict[str, AgentPresence | None] = field(default_factory=dict)
    rings: dict[str, RingRecord | None] = field(default_factory=dict)
    stats: Stats | None = None

    def session(self, session_id: str) -> LiveSession:
        found = self.sessions.get(session_id)
        if found is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
        return found

    def agent(self, agent_id: str) -> AgentPresence:
        found = self.agents.get(agent_id)
        if found is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"agent {agent_id} is not signed in")
        return found

    def ring(self, ring_id: str) -> RingRecord:
        found = self.rings.get(ring_id)
        if found is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"ring {ring_id} is over")
        return found


@dataclass
class Due:
    """What has come due, for the sweeper: any process handles it, whoever armed the timer."""

    rings: list[str] = field(default_factory=list)
    """Rings past their expiry."""
    lost_sessions: list[str] = field(default_factory=list)
    """Sessions whose device has been gone longer than the grace period."""
    lost_agents: list[str] = field(default_factory=list)
    """Agents gone longer than the grace period."""
    expired_leases: list[str] = field(default_factory=list)
    """Sessions whose suspended control lease has run out."""
    suspended: list[str] = field(default_factory=list)
    """Sessions whose control is suspended with the lease still running: they resume as soon
    as both parties are connected to live processes."""


class LiveStore(ABC):
    """Live state of the help desk: sessions (with their queue order), agents, rings, stats."""

    shared = False
    """Whether other server processes share this store (then a dead process must be noticed)."""

    @abstractmethod
    async def atomically(
        self,
        fn: Callable[[Txn], T],
        *,
        sessions: Iterable[str | None] = (),
        agents: Iterable[str | None] = (),
        rings: Iterable[str | None] = (),
        stats: bool = False,
    ) -> T:
        """Run ``fn`` on copies of the named records and commit its changes atomically.

        ``None`` ids are skipped, so callers can pass optional links as they are. If ``fn`` raises,
        nothing is written.
        """

    @abstractmethod
    async def get_session(self, session_id: str) -> LiveSession | None: ...

    @abstractmethod
    async def session_for_device(self, device_id: str) -> LiveSession | None:
        """The device's session or ticket that has not ended, if any."""

    @abstractmethod
    async def waiting(self, limit: int | None = None) -> list[LiveSession]:
        """Queued and ringing sessions, first in line first (the first ``limit`` of them).

        Read-only: the records may be shared with the store (a push reads every waiting
        customer, often), so a caller must never change them; changes go through
        :meth:`atomically`."""

    @abstractmethod
    async def line(self) -> WaitingLine:
        """The same sessions as :meth:`waiting`, as a :class:`WaitingLine` (grouped by language
        and topic too, for routing). The store's own, brought up to date now: read it before
        awaiting anything else, and never change it."""

    @abstractmethod
    async def position(self, session_id: str) -> int | None:
        """1-based place of a waiting session in the queue, without reading the queue."""

    @abstractmethod
    async def live_sessions(self) -> list[LiveSession]:
        """Every session not yet forgotten, for metrics and operators (not for hot paths)."""

    @abstractmethod
    async def get_agent(self, agent_id: str) -> AgentPresence | None: ...

    @abstractmethod
    async def agents(self) -> list[AgentPresence]:
        """Every signed-in agent. Read-only, like :meth:`waiting`."""

    @abstractmethod
    async def roster(self) -> AgentRoster:
        """The agents as routing reads them (:mod:`.roster`): the free ones, those wrapping up,
        the staffed ones. The store's own, kept up to date (on Redis, as of this read): read
        it, never change it."""

    @abstractmethod
    async def get_ring(self, ring_id: str) -> RingRecord | None: ...

    @abstractmethod
    async def stats(self) -> Stats: ...

    @abstractmethod
    async def forget_session(self, session_id: str) -> None:
        """Drop an ended session once its record is durable."""

    @abstractmethod
    async def due(self, now: float, *, grace_s: float) -> Due:
        """Deadlines that have passed: see :class:`Due`."""

    async def heartbeat(self, node: str, now: float) -> None:  # noqa: B027 (one process: no-op)
        """Record that server process ``node`` is alive."""

    async def beats(self) -> dict[str, float]:
        """Every known server process and the time of its last heartbeat; none for a local store."""
        return {}

    async def claim_node(self, node: str, *, by: str, ttl_s: float) -> bool:
        """Claim the clean-up of dead process ``node`` for process ``by``; ``True`` for one
        claimant only. The claim lapses after ``ttl_s``, so a claimant that dies half-way
        leaves the work to the next one."""
        return True

    async def forget_node(self, node: str) -> None:  # noqa: B027 (one process: no-op)
        """A dead process has been dealt with."""

    @abstractmethod
    async def count_failure(self, key: str, window_s: float) -> int:
        """Count one failure under ``key``, atomically; the count lives ``window_s`` from the first.

        Returns the count including this failure.
        """

    @abstractmethod
    async def failures(self, key: str) -> tuple[int, float]:
        """The failures counted under ``key``, and the seconds until they are forgotten."""

    @abstractmethod
    async def clear_failures(self, key: str) -> None:
        """Forget the failures counted under ``key``."""

    async def close(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release connections; the in-memory store has none."""
