"""A session between its two parties: media relayed between them, its connection state, and its
end, by a party or by the system, in whatever state it is."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import structlog

from signaling import ErrorCode, Event, ProtocolError, Role
from signaling import models as m

from ..identity import AgentIdentity, DeviceIdentity, Identity
from ..live import ops
from ..live.machine import audit
from ..live.records import WAITING_STATES, Actor, ControlState, LiveSession, SessionState
from ..live.store import StaleRead, Txn
from .context import DeskContext
from .control import RemoteControl
from .queue import QueuePublisher
from .rings import Rings
from .sweeper import Sweeper

__all__ = ["Sessions"]

log = structlog.get_logger("mayday.desk")

_RETRIES = 8


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
        """Forward SDP or ICE to the other party of the sender's own session, and nobody else."""
        session = await self.context.session_of_party(sender, payload.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"session {session.id} is {session.state.value}; media starts after the accept",
            )
        if isinstance(sender, DeviceIdentity):
            assert session.agent_id is not None
            target: tuple[Role, str] = ("agent", session.agent_id)
        else:
            target = ("device", session.device_id)
        await self.context.emit.send_raw(
            target[0], target[1], event, payload.model_dump(mode="json", exclude_none=True)
        )

    async def rtc_state(self, sender: Identity, report: m.RtcState) -> None:
        session = await self.context.session_of_party(sender, report.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            return
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
        store = self.context.store
        for _ in range(_RETRIES):
            session = await store.get_session(session_id)
            if session is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
            ring = await store.get_ring(session.ring_id) if session.ring_id else None
            now = self.context.clock()
            try:
                ended, closed_ring = await store.atomically(
                    partial(
                        ops.end_session, session_id=session_id, actor=actor, reason=reason, now=now
                    ),
                    sessions=[session_id],
                    agents=[session.agent_id, ring.agent_id if ring else None],
                    rings=[session.ring_id],
                )
            except StaleRead:
                continue
            break
        else:
            raise ProtocolError(ErrorCode.CONFLICT, f"session {session_id} keeps changing; retry")
        # Recorded before anyone is told, so what they look up is there.
        stored = self.context.writer.save(ended)
        log.info(
            "session.ended",
            session_id=ended.id,
            by=actor.label(),
            reason=reason,
            device_id=ended.device_id,
            agent_id=ended.agent_id,
        )
        if ended.accepted_at is not None and ended.ended_at is not None:
            handled = ended.ended_at - ended.accepted_at
            self.sweeper.note(handled_s=handled)
        self.context.background.cancel(("grace", "device", ended.device_id))
        if session.control is not ControlState.NONE:
            await self.control.tell_ended(ended)
        notice = m.SessionEnded(session_id=ended.id, reason=reason, ended_by=actor.kind)
        await self.context.emit.send("device", ended.device_id, Event.SESSION_ENDED, notice)
        if ended.agent_id:
            await self.context.emit.send("agent", ended.agent_id, Event.SESSION_ENDED, notice)
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
        return ended

    async def end_lost(self, session_id: str) -> None:
        """End a session whose party did not come back; it may have ended meanwhile."""
        try:
            await self.finish(session_id, actor=Actor.system(), reason="peer_lost")
        except ProtocolError as exc:
            log.info("session.already_over", session_id=session_id, reason=exc.message)
