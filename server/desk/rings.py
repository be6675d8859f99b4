"""Routing and the life of a ring: from a waiting customer rung at an agent to accepted, declined,
timed out or called off.

A routing pass runs after every change that could make a ring possible; passes never overlap.
Every decision is taken inside ``store.atomically`` (:func:`server.live.ops.open_ring`,
:func:`~server.live.ops.close_ring`, :func:`~server.live.ops.accept_ring`), and each ring arms a
local timer that checks back on the store when it should have been answered (the sweeper
catches the timers of a process that died).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol

import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from ..identity import AgentIdentity
from ..ids import new_id
from ..live import ops
from ..live.records import Actor, LiveSession, RingRecord, SessionState
from ..live.store import StaleRead
from ..routing import Coverage, plan_rings
from .callbacks import CALLBACK_MISSED, announce_callback, tell_callback_over
from .context import DeskContext
from .parties import send_session_started
from .queue import QueuePublisher, queue_entry

__all__ = ["EndTicket", "Rings"]


class EndTicket(Protocol):
    async def __call__(self, session_id: str, *, actor: Actor, reason: str) -> object: ...


log = structlog.get_logger("mayday.desk")


@dataclass(eq=False)
class Rings:
    context: DeskContext
    queue: QueuePublisher
    end_ticket: EndTicket | None = None
    """Ends a ticket and tells everyone (``Sessions.finish``, set by the desk once it is built):
    for a callback missed once too often."""
    _route_requested: bool = field(default=False, init=False)
    _routing: bool = field(default=False, init=False)

    # --- routing --------------------------------------------------------------------------------

    def request_route(self) -> None:
        """Ask for a routing pass; passes never overlap, and one more runs if asked meanwhile."""
        self._route_requested = True
        if not self._routing:
            self._routing = True
            self.context.background.spawn(self._route_loop(), name="route")

    async def _route_loop(self) -> None:
        try:
            while self._route_requested:
                self._route_requested = False
                await self._route_once()
        finally:
            self._routing = False

    async def _route_once(self) -> None:
        store = self.context.store
        roster = await store.roster()
        now = self.context.clock()
        overdue = [
            agent.agent_id
            for agent in roster.wrapping()
            if agent.wrapup_until is not None and agent.wrapup_until <= now
        ]
        for agent_id in overdue:
            # Its timer was armed by a process that is gone, or fires late: done now.
            await self.end_wrapup(agent_id, done=False)
            self._route_requested = True
        if overdue:
            roster = await store.roster()
        free = roster.free()
        if not free:
            return  # nobody to ring: no need to read the queue
        line = await store.line()
        settings = self.context.settings
        coverage = roster.kept(Coverage.of_roster)
        plan = plan_rings(
            line,
            free,
            now=now,
            decline_hold_s=settings.decline_hold_s,
            overflow_s=settings.overflow_s,
            callback_retry_s=settings.callback_retry_s,
            coverage=coverage,
        )
        if not plan:
            return
        # Read before the first await below: the line is the store's own, kept up to date.
        positions = {session_id: line.position(session_id) or 0 for session_id, _ in plan}
        callbacks = {
            session_id
            for session_id, _ in plan
            if (waiting := line.get(session_id)) is not None and waiting.callback_at is not None
        }
        for session_id, agent_id in plan:
            ring_id = new_id("rng")
            now = self.context.clock()
            callback = session_id in callbacks
            timeout = settings.callback_ring_s if callback else settings.ring_timeout_s
            try:
                session, agent, ring = await store.atomically(
                    partial(
                        ops.open_ring,
                        session_id=session_id,
                        agent_id=agent_id,
                        ring_id=ring_id,
                        now=now,
                        timeout_s=timeout,
                    ),
                    sessions=[session_id],
                    agents=[agent_id],
                )
            except ProtocolError:
                self._route_requested = True
                continue
            if session.rung_at == now:
                self.context.metrics.time_to_ring.observe(now - session.created_at)
            widened = coverage.widened(session, now=now, overflow_s=settings.overflow_s)
            entry = queue_entry(session, position=positions[session_id], widened=widened)
            if ring.callback:
                who = m.AgentInfo(id=agent.agent_id, name=agent.name)
                await announce_callback(self.context, session, ring, who, entry)
            else:
                await self.context.emit.send(
                    "agent",
                    agent_id,
                    Event.RING,
                    m.Ring(ring_id=ring_id, ticket=entry, timeout_s=timeout),
                )
            self.context.background.call_later(
                ("ring", ring_id), timeout, partial(self.ring_timed_out, ring_id)
            )
            log.info("ring.started", session_id=session_id, agent_id=agent_id, ring_id=ring_id)
            self.context.writer.save(session)
            self.queue.request()

    # --- the agent's answer ---------------------------------------------------------------------

    async def accept_ring(self, agent: AgentIdentity, ring_id: str) -> LiveSession:
        ring = await self.context.store.get_ring(ring_id)
        if ring is None:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, f"ring {ring_id} is over (cancelled, timed out or taken)"
            )
        if ring.agent_id != agent.id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"ring {ring_id} was offered to another agent")
        if ring.callback:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"ring {ring_id} is a callback: the customer answers it (ring.decline withdraws)",
            )
        return await self.connect(ring, agent.actor())

    async def connect(self, ring: RingRecord, by: Actor) -> LiveSession:
        """The ring is answered (by its agent, or by the customer of a callback): the session
        starts connecting and both parties are told."""
        ring_id = ring.ring_id
        now = self.context.clock()
        session = await self.context.store.atomically(
            lambda txn: ops.accept_ring(txn, ring_id, ring.agent_id, now=now, by=by),
            rings=[ring_id],
            sessions=[ring.session_id],
            agents=[ring.agent_id],
        )
        self.context.background.cancel(("ring", ring_id))
        if ring.callback:
            self.context.metrics.callback_answer_time.observe(now - ring.started_at)
            self.context.metrics.callbacks.labels(outcome="answered").inc()
        else:
            self.context.metrics.time_to_accept.observe(now - ring.started_at)
        log.info("ring.accepted", agent_id=ring.agent_id, session_id=session.id, ring_id=ring_id)
        await send_session_started(self.context, session, to=("device", "agent"), resumed=False)
        self.context.writer.save(session)
        self.queue.request()
        return session

    async def decline_ring(self, agent: AgentIdentity, ring_id: str) -> None:
        ring = await self.context.store.get_ring(ring_id)
        if ring is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"ring {ring_id} is over")
        if ring.agent_id != agent.id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"ring {ring_id} was offered to another agent")
        if await self.close_ring(ring_id, reason="declined", actor=agent.actor()):
            # When the hold is over this agent may be rung for the customer again.
            self.context.background.call_later(
                ("decline-hold", ring_id),
                self.context.settings.decline_hold_s,
                self.request_route_soon,
            )

    async def request_route_soon(self) -> None:
        self.request_route()

    async def take(self, agent: AgentIdentity, ticket_id: str) -> LiveSession:
        """``queue.take``: the agent serves a waiting customer they picked from the queue."""
        now = self.context.clock()
        session = await self.context.store.atomically(
            lambda txn: ops.take_ticket(txn, ticket_id, agent.id, now=now),
            sessions=[ticket_id],
            agents=[agent.id],
        )
        self.context.background.cancel(("wrapup", agent.id))
        log.info("queue.taken", agent_id=agent.id, session_id=session.id)
        await send_session_started(self.context, session, to=("device", "agent"), resumed=False)
        self.context.writer.save(session)
        self.queue.request()
        return session

    # --- wrap-up --------------------------------------------------------------------------------

    async def start_wrapup(self, agent_id: str, until: float) -> None:
        """Tell the agent their after-call work started; make them available when it is over."""
        await self.context.emit.send(
            "agent",
            agent_id,
            Event.PRESENCE_UPDATE,
            m.PresenceUpdate(status="wrapup", reason="session ended", until=until),
        )
        self.context.background.call_later(
            ("wrapup", agent_id),
            max(0.0, until - self.context.clock()),
            partial(self.end_wrapup, agent_id, done=False),
        )

    async def end_wrapup(self, agent_id: str, *, done: bool) -> bool:
        """End the agent's wrap-up (they are ``done``, or its time is over); ``True`` if it was
        on. The agent is told their presence, and routing may ring them again."""
        now = self.context.clock()
        try:
            agent = await self.context.store.atomically(
                lambda txn: ops.end_wrapup(txn, agent_id, now=now, done=done), agents=[agent_id]
            )
        except (ProtocolError, StaleRead):
            return False
        self.context.background.cancel(("wrapup", agent_id))
        log.info("agent.wrapup_over", agent_id=agent_id, done=done)
        if not done:
            await self.context.emit.send(
                "agent",
                agent_id,
                Event.PRESENCE_UPDATE,
                m.PresenceUpdate(status=agent.status, reason="wrap-up time is over"),
            )
        self.request_route()
        self.queue.request()
        return True

    # --- ending a ring --------------------------------------------------------------------------

    async def ring_timed_out(self, ring_id: str) -> None:
        ring = await self.context.store.get_ring(ring_id)
        if ring is None:
            return
        remaining = ring.expires_at - self.context.clock()
        if remaining > 0:
            self.context.background.call_later(
                ("ring", ring_id), remaining, lambda: self.ring_timed_out(ring_id)
            )
            return
        if await self.close_ring(ring_id, reason="timeout", actor=Actor.system()) and (
            not ring.callback
        ):
            await self.context.emit.send(
                "agent",
                ring.agent_id,
                Event.PRESENCE_UPDATE,
                m.PresenceUpdate(status="away", reason="ring not answered"),
            )

    async def close_ring(
        self,
        ring_id: str,
        *,
        reason: Literal["timeout", "declined", "peer_lost", "callback_declined"],
        actor: Actor,
    ) -> bool:
        """Close a ring unless it is already over; ``True`` if this call closed it.

        A callback's ring tells the customer too; a missed callback past the retries ends the
        ticket (``callback_missed``) through :attr:`end_ticket`."""
        ring = await self.context.store.get_ring(ring_id)
        if ring is None:
            return False
        now = self.context.clock()
        try:
            _, session, _ = await self.context.store.atomically(
                lambda txn: ops.close_ring(txn, ring_id, reason=reason, actor=actor, now=now),
                rings=[ring_id],
                sessions=[ring.session_id],
                agents=[ring.agent_id],
            )
        except (ProtocolError, StaleRead):
            return False
        self.context.background.cancel(("ring", ring_id))
        log.info("ring.closed", ring_id=ring_id, agent_id=ring.agent_id, reason=reason)
        if ring.callback:
            await tell_callback_over(self.context, ring, reason, session)
        else:
            await self.context.emit.send(
                "agent",
                ring.agent_id,
                Event.RING_CANCELLED,
                m.RingCancelled(
                    ring_id=ring_id, reason="declined" if reason == "callback_declined" else reason
                ),
            )
        if session is not None:
            self.context.writer.save(session)
            if (
                ring.callback
                and session.state is SessionState.QUEUED
                and session.callback_missed > self.context.settings.callback_retries
                and self.end_ticket is not None
            ):
                await self.end_ticket(session.id, actor=Actor.system(), reason=CALLBACK_MISSED)
            elif ring.callback and session.callback_missed_at == now:
                # Missed just now: ring the customer again when the retry pause is over.
                self.context.background.call_later(
                    ("callback-retry", session.id),
                    self.context.settings.callback_retry_s,
                    self.request_route_soon,
                )
        self.request_route()
        self.queue.request()
        return True
