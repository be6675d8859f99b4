"""Housekeeping that any server process may do for all of them.

Local timers fire on time; the sweeper catches what they miss. Every half second each process
asks the store what has come due (rings past their expiry, grace periods and control leases that
ran out) and handles it, whoever armed the timer, so a process that dies takes no deadline with
it. With a shared store it also records this process's heartbeat, notices processes that stopped
beating (their sockets count as lost as of their last beat), folds the batched estimate figures into the shared
record, and pushes the queue so that changes made by other processes reach this one's sockets.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from .live import ops
from .live.records import Actor, SessionState
from .live.store import Txn
from .nodes import DEAD_AFTER_S, HEARTBEAT_INTERVAL_S, dead_nodes

if TYPE_CHECKING:
    from .desk import HelpDesk

__all__ = ["NODE_TIMEOUT_S", "SWEEP_INTERVAL_S", "Sweeper"]

log = structlog.get_logger("mayday.sweeper")

SWEEP_INTERVAL_S = HEARTBEAT_INTERVAL_S
"""How often each process looks for expired rings, grace periods and leases in the store."""
NODE_TIMEOUT_S = DEAD_AFTER_S
"""A process whose heartbeat is older than this is taken for dead; its sockets count as lost."""
CLAIM_TTL_S = 30.0
"""How long one process's claim on cleaning up after a dead one holds, should it die too."""


class Sweeper:
    def __init__(self, desk: HelpDesk) -> None:
        self.desk = desk
        self._pending_arrivals: list[float] = []
        self._pending_handled: list[float] = []

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep.failed", node=self.desk.node)

    async def sweep(self) -> None:
        """Handle what has come due, whoever armed the timer (it may have died).

        Local timers fire on time; this catches what they miss: timers of a process that died,
        and, with a shared store, changes made by other processes (queue pushes).
        """
        now = self.desk.clock()
        await self.desk.store.heartbeat(self.desk.node, now)
        if self.desk.store.shared:
            await self._notice_dead_nodes(now)
        due = await self.desk.store.due(now, grace_s=self.desk.settings.grace_period_s)
        for ring_id in due.rings:
            await self.desk.ring_timed_out(ring_id)
        for session_id in due.lost_sessions:
            await self.desk.device_grace_over(session_id)
        for agent_id in due.lost_agents:
            await self.desk.agent_grace_over(agent_id)
        for session_id in due.expired_leases:
            await self.desk.control.lease_over(session_id)
        for session_id in due.suspended:
            await self.desk.control.party_back(session_id, Actor.system())
        if self.desk.store.shared:
            await self.flush_stats()
            self.desk.queue.request()

    async def _notice_dead_nodes(self, now: float) -> None:
        """Sockets held by a process that stopped beating are lost, as of its last heartbeat.

        Remote control is suspended and the lease and grace clocks start from that beat, not
        from now, so a crash noticed late never stretches the customer's consent. Exactly one
        process deals with each dead one (it claims it first); only when some process is
        overdue does this read the live records.
        """
        for node, last_beat in (await dead_nodes(self.desk.store, now, me=self.desk.node)).items():
            if not await self.desk.store.claim_node(node, by=self.desk.node, ttl_s=CLAIM_TTL_S):
                continue  # another process is on it
            log.warning("node.dead", node=node, last_beat=last_beat, noticed_by=self.desk.node)
            reason = f"server process {node} stopped"
            for session in await self.desk.store.live_sessions():
                if (
                    session.device_node == node
                    and session.device_lost_at is None
                    and session.state is not SessionState.ENDED
                ):
                    await self.desk.device_lost(
                        session.id, Actor.system(), reason, node=node, at=last_beat
                    )
            for agent in await self.desk.store.agents():
                if agent.node == node and agent.lost_at is None:
                    await self.desk.agent_lost(
                        agent.agent_id, Actor.system(), node=node, at=last_beat
                    )
            await self.desk.store.forget_node(node)

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
        if not self.desk.store.shared:
            self.desk.background.spawn(self.flush_stats(), name="stats")

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

        await self.desk.store.atomically(note, stats=True)
