"""Housekeeping that any server process may do for all of them.

Local timers fire on time; the sweeper catches what they miss. Every half second each process
asks the store what has come due (rings past their expiry, grace periods and control leases that
ran out) and handles it, whoever armed the timer, so a process that dies takes no deadline with
it. With a shared store it also records this process's heartbeat, notices processes that stopped
beating (their sockets count as lost as of their last beat), folds the batched estimate figures
into the shared record, and pushes the queue so that changes made by other processes reach this
one's sockets.

When the store is unreachable (Redis stopped), sweeps fail: the sweeper logs the first failure
with its traceback and the recovery, not every half-second attempt, and backs off up to
:data:`MAX_BACKOFF_S`. Nobody could beat during the outage, so right after it every other process
looks long dead: a process judges others dead only once it has itself been beating for
:data:`~server.nodes.DEAD_AFTER_S` without a gap (see :meth:`Sweeper._may_judge`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from ..live import ops
from ..live.records import Actor, SessionState
from ..live.store import Txn
from ..nodes import DEAD_AFTER_S, HEARTBEAT_INTERVAL_S, dead_nodes
from .context import DeskContext

__all__ = ["NODE_TIMEOUT_S", "SWEEP_INTERVAL_S", "DueHandler", "LeaseHandler", "Sweeper"]

log = structlog.get_logger("mayday.sweeper")

SWEEP_INTERVAL_S = HEARTBEAT_INTERVAL_S
"""How often each process looks for expired rings, grace periods and leases in the store."""
NODE_TIMEOUT_S = DEAD_AFTER_S
"""A process whose heartbeat is older than this is taken for dead; its sockets count as lost."""
CLAIM_TTL_S = 30.0
"""How long one process's claim on cleaning up after a dead one holds, should it die too."""
MAX_BACKOFF_S = 2.0
"""Longest pause between failed sweeps. Well below ``DEAD_AFTER_S``: after an outage every
process must be beating again before any other starts judging the dead."""


class DueHandler(Protocol):
    """What the sweeper hands what has come due, and the parties of a dead process, to (the desk
    does it). Deadlines go to the same methods the local timers call, so a deadline is handled
    alike whichever fires first. As a ``typing.Protocol`` must, it repeats the signatures it asks
    for (those of :class:`~.devices.Devices`, :class:`~.agents.Agents`, :class:`~.rings.Rings`)."""

    async def ring_timed_out(self, ring_id: str) -> None: ...

    async def device_grace_over(self, session_id: str) -> None: ...

    async def agent_grace_over(self, agent_id: str) -> None: ...

    async def device_lost(
        self,
        session_id: str,
        actor: Actor,
        reason: str,
        *,
        sid: str | None = None,
        node: str | None = None,
        at: float | None = None,
    ) -> None: ...

    async def agent_lost(
        self,
        agent_id: str,
        actor: Actor,
        *,
        sid: str | None = None,
        node: str | None = None,
        at: float | None = None,
    ) -> None: ...

    async def record_missed_disconnects(self) -> None: ...


class LeaseHandler(Protocol):
    """What the sweeper asks about suspended remote control (the desk's remote control does it)."""

    async def lease_over(self, session_id: str) -> bool: ...

    async def party_back(self, session_id: str, who: Actor, *, left: str | None = None) -> bool: ...


@dataclass(eq=False)
class Sweeper:
    context: DeskContext
    handler: DueHandler
    leases: LeaseHandler
    push_queue: Callable[[], None]
    _pending_arrivals: list[float] = field(default_factory=list, init=False)
    _pending_handled: list[float] = field(default_factory=list, init=False)
    _beating_since: float | None = field(default=None, init=False)
    """When this process's heartbeats last started to get through without a gap."""

    async def run_forever(self) -> None:
        pause = SWEEP_INTERVAL_S
        failing_since: float | None = None
        while True:
            await asyncio.sleep(pause)
            try:
                await self.sweep()
            except Exception:
                self._beating_since = None
                if failing_since is None:
                    failing_since = self.context.clock()
                    log.exception("sweep.failed", node=self.context.node)
                pause = min(pause * 2, MAX_BACKOFF_S)
                continue
            if failing_since is not None:
                log.warning(
                    "sweep.recovered",
                    node=self.context.node,
                    failed_for_s=round(self.context.clock() - failing_since, 1),
                )
                failing_since = None
            pause = SWEEP_INTERVAL_S

    async def sweep(self) -> None:
        """Handle what has come due, whoever armed the timer (it may have died).

        Local timers fire on time; this catches what they miss: timers of a process that died,
        and, with a shared store, changes made by other processes (queue pushes).
        """
        now = self.context.clock()
        await self.context.store.heartbeat(self.context.node, now)
        if self._beating_since is None:
            self._beating_since = now
        if self._may_judge(now):
            # Sockets that closed while the store was away (:mod:`.missed`): lost as of then.
            # Not before every process hears the others again (their Socket.IO fan-out
            # re-subscribes within seconds of Redis coming back): the other party must be told.
            await self.handler.record_missed_disconnects()
            if self.context.store.shared:
                await self._notice_dead_nodes(now)
        due = await self.context.store.due(now, grace_s=self.context.settings.grace_period_s)
        for ring_id in due.rings:
            await self.handler.ring_timed_out(ring_id)
        for session_id in due.lost_sessions:
            await self.handler.device_grace_over(session_id)
        for agent_id in due.lost_agents:
            await self.handler.agent_grace_over(agent_id)
        for session_id in due.expired_leases:
            await self.leases.lease_over(session_id)
        for session_id in due.suspended:
            await self.leases.party_back(session_id, Actor.system())
        if self.context.store.shared:
            await self.flush_stats()
            self.push_queue()

    def _may_judge(self, now: float) -> bool:
        """Only a process whose own beats got through for the last ``DEAD_AFTER_S`` may take
        silence for death: had the store been unreachable for it, it was for the others too (a
        Redis outage), and their last beats say nothing about their sockets. After an outage
        each process beats again within ``MAX_BACKOFF_S``, well before anyone judges."""
        return self._beating_since is not None and now - self._beating_since >= NODE_TIMEOUT_S

    async def _notice_dead_nodes(self, now: float) -> None:
        """Sockets held by a process that stopped beating are lost, as of its last heartbeat.

        Remote control is suspended and the lease and grace clocks start from that beat, not
        from now, so a crash noticed late never stretches the customer's consent. Exactly one
        process deals with each dead one (it claims it first); only when some process is
        overdue does this read the live records.
        """
        for node, last_beat in (
            await dead_nodes(self.context.store, now, me=self.context.node)
        ).items():
            if not await self.context.store.claim_node(
                node, by=self.context.node, ttl_s=CLAIM_TTL_S
            ):
                continue  # another process is on it
            log.warning("node.dead", node=node, last_beat=last_beat, noticed_by=self.context.node)
            reason = f"server process {node} stopped"
            for session in await self.context.store.live_sessions():
                if (
                    session.device_node == node
                    and session.device_lost_at is None
                    and session.state is not SessionState.ENDED
                ):
                    await self.handler.device_lost(
                        session.id, Actor.system(), reason, node=node, at=last_beat
                    )
            for agent in await self.context.store.agents():
                if agent.node == node and agent.lost_at is None:
                    await self.handler.agent_lost(
                        agent.agent_id, Actor.system(), node=node, at=last_beat
                    )
            await self.context.store.forget_node(node)

    def note(self, *, arrival_at: float | None = None, handled_s: float | None = None) -> None:
        """Fold an arrival or a handling time into the estimate's figures, off the hot path.

        Every process writes the same small record, so with a shared store this is where their
        transactions would collide most: there the figures are gathered here and folded in once
        per sweep; with a store of its own, a process folds them in at once.
        """
        if arrival_at is not None:
            self._pending_arrivals.append(arrival_at)
        if handled_s is not None:
            self._pending_handled.append(handled_s)
        if not self.context.store.shared:
            self.context.background.spawn(self.flush_stats(), name="stats")

    async def flush_stats(self) -> None:
        arrivals, self._pending_arrivals = self._pending_arrivals, []
        handled, self._pending_handled = self._pending_handled, []
        if not arrivals and not handled:
            return

        def note(txn: Txn) -> None:
            assert txn.stats is not None
            for at in arrivals:
                ops.note_arrival(txn.stats, at)
            for seconds in handled:
                ops.note_handling_time(txn.stats, seconds)

        await self.context.store.atomically(note, stats=True)
