"""A session between its two parties: media relayed between them, its connection state, and its
end, by a party or by the system, in whatever state it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import structlog

from signaling import ErrorCode, Event, ProtocolError, Role
from signaling import models as m

from ..identity import AgentIdentity, DeviceIdentity, Identity
from ..ids import new_id
from ..live import ops
from ..live.machine import audit
from ..live.records import (
    WAITING_STATES,
    Actor,
    ControlState,
    LiveSession,
    RingRecord,
    SessionState,
)
from ..live.store import StaleRead, Txn
from ..live.transfer import TRANSFERRED, transfer_session
from .context import DeskContext
from .control import RemoteControl
from .queue import QueuePublisher
from .rings import Rings
from .sweeper import Sweeper
from .watching import session_of_party_or_watcher

__all__ = ["Sessions"]


def _transfer(
    now: float,
    txn: Txn,
    *,
    request: m.SessionTransfer,
    ticket_id: str,
    actor: Actor,
    wrapup_s: float,
    reserve_s: float,
) -> _Ending:
    return transfer_session(
        txn,
        request.session_id,
        ticket_id,
        actor=actor,
        request=request,
        now=now,
        wrapup_s=wrapup_s,
        reserve_s=reserve_s,
    )


log = structlog.get_logger("mayday.desk")

_RETRIES = 8

_Ending = tuple[LiveSession, RingRecord | None, LiveSession | None]
"""What an ending leaves: the ended session, the ring it closed, the customer's new ticket."""


@dataclass(eq=False)
class Sessions:
    """A session's media relay, its connection state and its end. The fields are the parts it
    calls on, as :class:`~server.desk.HelpDesk` wires them."""

    context: DeskContext
    control: RemoteControl
    rings: Rings
    queue: QueuePublisher
    sweeper: Sweeper

    async def end_by_party(self, party: Identity, session_id: str, reason: str) -> LiveSession:
        session = await self.context.session_of_party(party, session_id)
        if isinstance(party, AgentIdentity) and session.state in WAITING_STATES:
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not in session {session_id}")
        return await self.finish(session_id, actor=party.actor(), reason=reason)

    async def relay(
        self, sender: Identity, event: Event, payload: m.RtcOffer | m.RtcAnswer | m.RtcIce
    ) -> None:
        """Forward SDP or ICE to the other party of the sender's own connection, and nobody else.

        A connection is the session agent's, or a watching supervisor's (``watcher_id``, §19.3):
        the device names the watcher it offers to, and a watcher's answers and candidates reach
        the device marked with the watcher's own id, whatever it wrote, so nobody can speak for
        another's connection.
        """
        session, _ = await session_of_party_or_watcher(self.context, sender, payload.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"session {session.id} is {session.state.value}; media starts after the accept",
            )
        data = payload.model_dump(mode="json", exclude_none=True)
        if isinstance(sender, DeviceIdentity):
            watcher_id = payload.watcher_id
            if watcher_id is not None and watcher_id not in session.watchers:
                raise ProtocolError(
                    ErrorCode.NOT_FOUND, f"nobody {watcher_id} watches {session.id}"
                )
            assert session.agent_id is not None
            target: tuple[Role, str] = ("agent", watcher_id or session.agent_id)
        elif session.agent_id == sender.id:
            if payload.watcher_id is not None:
                raise ProtocolError(
                    ErrorCode.BAD_REQUEST, "watcher_id is for a watching supervisor's connection"
                )
            target = ("device", session.device_id)
        else:  # a watcher (session_of_party_or_watcher let it past)
            data["watcher_id"] = sender.id
            target = ("device", session.device_id)
        await self.context.emit.send_raw(target[0], target[1], event, data)

    async def rtc_state(self, sender: Identity, report: m.RtcState) -> None:
        session, _ = await session_of_party_or_watcher(self.context, sender, report.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            return
        if isinstance(sender, AgentIdentity) and session.agent_id != sender.id:
            return  # a watcher's connection says nothing about the session's
        now = self.context.clock()

        def apply(txn: Txn) -> LiveSession:
            live = txn.session(session.id)
            if report.state == "connected":
                ops.mark_active(txn, session.id, actor=sender.actor(), now=now)
            else:
                audit(live, f"rtc.{report.state}", actor=sender.actor(), at=now)
            return live

        live = await self.context.store.atomically(apply, sessions=[session.id])
        self.context.writer.save(live)

    async def finish(self, session_id: str, *, actor: Actor, reason: str) -> LiveSession:
        """End a session (or cancel a ticket) in whatever state it is, and tell everyone involved."""

        def end(now: float, txn: Txn) -> _Ending:
            ended, ring = ops.end_session(
                txn,
                session_id,
                actor=actor,
                reason=reason,
                now=now,
                wrapup_s=self.context.settings.wrapup_s,
            )
            return ended, ring, None

        ended, _ = await self._end(session_id, end, actor=actor, reason=reason)
        return ended

    async def requeue_agent_lost(self, session_id: str, agent_id: str) -> LiveSession | None:
        """The agent of a running session did not come back within the grace period: the session
        ends (``agent_lost``, by the system) and its customer, in the same store transaction, gets
        a new ticket at the head of the queue (:func:`~server.live.ops.requeue_session`). The
        device is told ``session.ended`` and then ``ticket.update``, in that order; then the
        router rings the next free matching agent. ``None`` if the session ended meanwhile or its
        agent came back."""
        ticket_id = new_id("ses")

        def requeue(now: float, txn: Txn) -> _Ending:
            return ops.requeue_session(txn, session_id, ticket_id, agent_id=agent_id, now=now)

        # No queue push may tell the device of its new ticket before session.ended is sent.
        self.queue.hold(ticket_id)
        try:
            _, ticket = await self._end(
                session_id, requeue, actor=Actor.system(), reason=ops.AGENT_LOST
            )
        except ProtocolError as exc:
            log.info("session.not_requeued", session_id=session_id, reason=exc.message)
            return None
        finally:
            self.queue.release(ticket_id)
        return ticket

    async def transfer(self, agent: AgentIdentity, request: m.SessionTransfer) -> LiveSession:
        """The agent hands its customer on (:func:`~server.live.transfer.transfer_session`): the
        session ends ``transferred`` and the customer's new ticket waits at the head of the queue,
        kept for the named colleague for about one ring. The device is told ``session.ended``
        and then ``ticket.update``, as after a lost agent; then the router rings. Returns the
        new ticket."""
        await self.context.session_of_party(agent, request.session_id)
        ticket_id = new_id("ses")
        settings = self.context.settings
        change = partial(
            _transfer,
            request=request,
            ticket_id=ticket_id,
            actor=agent.actor(),
            wrapup_s=settings.wrapup_s,
            # One ring, and a route pass's worth of slack before it.
            reserve_s=settings.ring_timeout_s + 5,
        )
        self.queue.hold(ticket_id)
        try:
            _, ticket = await self._end(
                request.session_id,
                change,
                actor=agent.actor(),
                reason=TRANSFERRED,
                also_agents=[request.agent_id],
            )
        finally:
            self.queue.release(ticket_id)
        assert ticket is not None
        log.info(
            "session.transferred",
            session_id=request.session_id,
            ticket_id=ticket.id,
            by=agent.id,
            to=request.to,
            to_agent=request.agent_id,
        )
        return ticket

    async def _end(
        self,
        session_id: str,
        change: Callable[[float, Txn], _Ending],
        *,
        actor: Actor,
        reason: str,
        also_agents: Sequence[str | None] = (),
    ) -> tuple[LiveSession, LiveSession | None]:
        """Apply ``change(now, txn)`` (an ending) atomically, record it, and tell everyone
        involved: (the ended session, the customer's new ticket if the change opened one)."""
        store = self.context.store
        for _ in range(_RETRIES):
            session = await store.get_session(session_id)
            if session is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
            ring = await store.get_ring(session.ring_id) if session.ring_id else None
            now = self.context.clock()
            try:
                ended, closed_ring, ticket = await store.atomically(
                    partial(change, now),
                    sessions=[session_id],
                    agents=[session.agent_id, ring.agent_id if ring else None, *also_agents],
                    rings=[session.ring_id],
                )
            except StaleRead:
                continue
            break
        else:
            raise ProtocolError(ErrorCode.CONFLICT, f"session {session_id} keeps changing; retry")
        # Recorded before anyone is told, so what they look up is there.
        stored = self.context.writer.save(ended)
        if ticket is not None:
            stored = self.context.writer.save(ticket)
        log.info(
            "session.ended",
            session_id=ended.id,
            by=actor.label(),
            reason=reason,
            device_id=ended.device_id,
            agent_id=ended.agent_id,
            requeued_as=ticket.id if ticket else None,
        )
        if ended.accepted_at is not None and ended.ended_at is not None:
            handled = ended.ended_at - ended.accepted_at
            self.sweeper.note(handled_s=handled)
        self.context.background.cancel(("grace", "device", ended.device_id))
        if session.control is not ControlState.NONE:
            await self.control.tell_ended(ended)
        notice = m.SessionEnded(session_id=ended.id, reason=reason, ended_by=actor.kind)
        await self.context.emit.send("device", ended.device_id, Event.SESSION_ENDED, notice)
        if ticket is not None:
            await self.context.emit.send(
                "device",
                ticket.device_id,
                Event.TICKET_UPDATE,
                m.TicketUpdate(ticket=await self._ticket(ticket.id)),
            )
        if ended.agent_id:
            await self.context.emit.send("agent", ended.agent_id, Event.SESSION_ENDED, notice)
            await self._wrapup(ended.agent_id)
        for watcher_id in ended.watchers:
            await self.context.emit.send("agent", watcher_id, Event.SESSION_ENDED, notice)
        if closed_ring is not None:
            self.context.background.cancel(("ring", closed_ring.ring_id))
            await self.context.emit.send(
                "agent",
                closed_ring.agent_id,
                Event.RING_CANCELLED,
                m.RingCancelled(ring_id=closed_ring.ring_id, reason="cancelled"),
            )
        self.rings.request_route()
        self.queue.request()
        # An end acknowledged is an end recorded, even if this process dies right after the ack.
        await self.context.writer.stored(stored)
        return ended, ticket

    async def _wrapup(self, agent_id: str) -> None:
        """Tell the agent of the wrap-up this end started (:func:`~server.live.ops.end_session`)."""
        if self.context.settings.wrapup_s <= 0:
            return
        agent = await self.context.store.get_agent(agent_id)
        if agent is not None and agent.wrapup_until is not None and agent.session_id is None:
            await self.rings.start_wrapup(agent_id, agent.wrapup_until)

    async def _ticket(self, ticket_id: str) -> m.Ticket:
        try:
            return await self.queue.ticket_of(ticket_id)
        except ProtocolError:
            # Another process's agent took the customer already: session.started is on its way.
            return m.Ticket(id=ticket_id, state="ringing", position=1, estimated_wait_s=0)

    async def end_lost(self, session_id: str) -> None:
        """End a session whose party did not come back; it may have ended meanwhile."""
        try:
            await self.finish(session_id, actor=Actor.system(), reason="peer_lost")
        except ProtocolError as exc:
            log.info("session.already_over", session_id=session_id, reason=exc.message)
