"""The customer's device at the desk: it connects (or comes back), asks for help or cancels, and
drops off, with a grace period to return before its session ends without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from ..identity import DeviceIdentity
from ..ids import new_id
from ..live.machine import audit
from ..live.ops import AGENT_LOST
from ..live.records import WAITING_STATES, Actor, LiveSession, SessionState
from ..live.store import StaleRead, Txn
from ..live.transfer import TRANSFERRED
from .context import DeskContext, since
from .control import RemoteControl
from .parties import party_moved, send_session_started
from .queue import QueuePublisher
from .rings import Rings
from .sessions import Sessions
from .sweeper import Sweeper

__all__ = ["MISSED_END_NOTICE_S", "Devices"]

log = structlog.get_logger("mayday.desk")

_ENDED_BY: dict[str, Literal["device", "agent", "system"]] = {"device": "device", "agent": "agent"}
"""A record's ``ended_by`` as ``session.ended`` says it (anything else: the system)."""

MISSED_END_NOTICE_S = 3600.0
"""A device reconnecting this long after its session ended without it is still told so."""


@dataclass(eq=False)
class Devices:
    """The device's lifecycle, the mirror of :class:`~.agents.Agents` (see there). The fields are
    the parts it calls on, as :class:`~server.desk.HelpDesk` wires them; the sweeper takes note
    of each arrival for the wait estimate."""

    context: DeskContext
    queue: QueuePublisher
    rings: Rings
    control: RemoteControl
    sessions: Sessions
    sweeper: Sweeper

    async def device_connected(self, device: DeviceIdentity, sid: str) -> None:
        context = self.context
        older = await context.emit.join(sid, "device", device.id)
        session = await context.store.session_for_device(device.id)
        if session is None:
            await context.emit.drop(older, "device")
            await self._tell_missed_end(device)
            return
        now = context.clock()

        def reattach(txn: Txn) -> tuple[LiveSession, str | None, float | None, str | None]:
            live = txn.session(session.id)
            previous_sid, lost_at = live.device_sid, live.device_lost_at
            previous_node = live.device_node
            live.device_sid = sid
            live.device_node = context.node
            live.device_lost_at = None
            if lost_at is not None:
                audit(
                    live,
                    "peer.back",
                    actor=device.actor(),
                    at=now,
                    reason="device reconnected",
                    detail={"peer": "device"},
                )
            return live, previous_sid, lost_at, previous_node

        try:
            live, previous_sid, lost_at, previous_node = await context.store.atomically(
                reattach, sessions=[session.id]
            )
        except ProtocolError:
            await context.emit.drop(older, "device")
            return
        was_lost = lost_at is not None
        context.background.cancel(("grace", "device", device.id))
        replaced = [previous_sid] if previous_sid != sid and not was_lost else []
        await context.emit.drop([*older, *replaced], "device")
        context.writer.save(live)
        log.info("device.connected", device_id=device.id, session_id=live.id, resumed=was_lost)
        if live.state in WAITING_STATES:
            if (
                live.requeued_from is not None
                and lost_at is not None
                and lost_at <= live.created_at
            ):
                await self._tell_requeued(live)  # it was away when its agent was lost
            self.queue.forget_ticket(live.id)
            self.queue.request()
            self.rings.request_route()
        else:
            await send_session_started(context, live, to=("device",), resumed=True)
            if was_lost:
                if not await self.control.party_back(live.id, device.actor()):
                    await self.control.tell_current(live.id, ("device",))
            elif replaced and previous_node not in (None, context.node):
                await party_moved(
                    context, self.control, live.id, "device", device.actor(), previous_node
                )
            else:
                await self.control.tell_current(live.id, ("device",))
            if live.agent_id and was_lost:
                await context.emit.send(
                    "agent",
                    live.agent_id,
                    Event.SESSION_PEER,
                    m.SessionPeer(session_id=live.id, peer="device", connected=True),
                )

    async def _tell_requeued(self, ticket: LiveSession) -> None:
        """The session this ticket replaces ended while the device was away, its agent lost
        (``agent_lost``) or handing the customer on (``transferred``): it learns so first, as it
        would have then; its ``ticket.update`` follows (§9, §19.4)."""
        assert ticket.requeued_from is not None
        if ticket.handed_on is not None:
            ended = m.SessionEnded(
                session_id=ticket.requeued_from, reason=TRANSFERRED, ended_by="agent"
            )
        else:
            ended = m.SessionEnded(
                session_id=ticket.requeued_from, reason=AGENT_LOST, ended_by="system"
            )
        await self.context.emit.send("device", ticket.device_id, Event.SESSION_ENDED, ended)

    async def _tell_missed_end(self, device: DeviceIdentity) -> None:
        """A device back after its session ended without it learns of the end: its grace period
        ran out (``peer_lost``), or the session was ended (by the agent, say) while the device
        was away, e.g. reconnecting through another server process during a rolling restart."""
        last = await self.context.records.latest_session_of_device(device.id)
        if last is None or last.ended_at is None or last.end_reason is None:
            return
        if self.context.clock() - last.ended_at > MISSED_END_NOTICE_S:
            return
        if last.end_reason != "peer_lost" and (
            last.ended_by == "device" or not await self._away_at_end(last.id)
        ):
            return  # it was there (it ended the session itself), and was told
        await self.context.emit.send(
            "device",
            device.id,
            Event.SESSION_ENDED,
            m.SessionEnded(
                session_id=last.id,
                reason=last.end_reason,
                ended_by=_ENDED_BY.get(last.ended_by or "", "system"),
            ),
        )

    async def _away_at_end(self, session_id: str) -> bool:
        """Whether the device's socket was lost (and not back) when the session ended."""
        away = False
        for event in await self.context.records.session_events(session_id):
            if event.kind in ("peer.lost", "peer.back") and event.detail.get("peer") == "device":
                away = event.kind == "peer.lost"
        return away

    async def device_disconnected(
        self, device: DeviceIdentity, sid: str, *, at: float | None = None
    ) -> None:
        session = await self.context.store.session_for_device(device.id)
        if session is None or session.device_sid != sid:
            return
        await self.device_lost(session.id, device.actor(), "device disconnected", sid=sid, at=at)

    async def device_lost(
        self,
        session_id: str,
        actor: Actor,
        reason: str,
        *,
        sid: str | None = None,
        node: str | None = None,
        at: float | None = None,
    ) -> None:
        """The device's socket is gone (it disconnected, or its server process died).

        ``at`` is when it was last known alive (a dead process's last heartbeat): the grace
        period and the control lease run from then.
        """
        now = self.context.clock()
        lost_at = now if at is None else min(at, now)

        def lose(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            if live.device_lost_at is not None or live.state is SessionState.ENDED:
                raise StaleRead("device already lost")
            if (sid is not None and live.device_sid != sid) or (
                node is not None and live.device_node != node
            ):
                raise StaleRead("device already replaced")
            live.device_lost_at = lost_at
            detail = {**since(lost_at, now), "peer": "device"}
            audit(live, "peer.lost", actor=actor, at=now, reason=reason, detail=detail)
            return live

        try:
            live = await self.context.store.atomically(lose, sessions=[session_id])
        except (ProtocolError, StaleRead):
            return
        self.context.writer.save(live)
        grace = self.context.settings.grace_period_s
        log.info(
            "device.lost",
            device_id=live.device_id,
            session_id=live.id,
            grace_s=grace,
            reason=reason,
        )
        if live.ring_id:
            await self.rings.close_ring(live.ring_id, reason="peer_lost", actor=Actor.system())
        if live.agent_id and live.state not in WAITING_STATES:
            await self.control.party_lost(live.id, actor, at=lost_at)
            await self.context.emit.send(
                "agent",
                live.agent_id,
                Event.SESSION_PEER,
                m.SessionPeer(
                    session_id=live.id,
                    peer="device",
                    connected=False,
                    grace_s=round(max(0.0, lost_at + grace - now), 1),
                ),
            )
        self.context.background.call_later(
            ("grace", "device", live.device_id),
            max(0.0, lost_at + grace - now),
            lambda: self.device_grace_over(live.id),
        )

    async def device_grace_over(self, session_id: str) -> None:
        session = await self.context.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            return
        lost_at = session.device_lost_at
        if lost_at is None:
            return
        remaining = lost_at + self.context.settings.grace_period_s - self.context.clock()
        if remaining > 0:
            self.context.background.call_later(
                ("grace", "device", session.device_id),
                remaining,
                lambda: self.device_grace_over(session_id),
            )
            return
        await self.sessions.end_lost(session_id)

    async def request_help(
        self, device: DeviceIdentity, sid: str, request: m.HelpRequest
    ) -> m.Ticket:
        existing = await self.context.store.session_for_device(device.id)
        if existing is not None:
            if existing.state in WAITING_STATES:
                return await self.queue.ticket_of(existing.id)
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"you are already in session {existing.id}; end it before asking for help again",
            )
        now = self.context.clock()
        session = LiveSession(
            id=new_id("ses"),
            device_id=device.id,
            device_name=device.name,
            device_kind=device.kind,
            topic=request.topic,
            locale=request.locale,
            created_at=now,
            queue_score=now,
            device_sid=sid,
            device_node=self.context.node,
        )
        audit(
            session,
            "help.requested",
            actor=device.actor(),
            at=now,
            detail={"topic": request.topic, "locale": request.locale},
        )

        def enqueue(txn: Txn) -> None:
            txn.sessions[session.id] = session

        await self.context.store.atomically(enqueue)
        log.info("help.requested", device_id=device.id, session_id=session.id, topic=request.topic)
        self.context.writer.save(session)
        self.sweeper.note(arrival_at=now)
        try:
            ticket = await self.queue.ticket_of(session.id)
        except ProtocolError:
            # Another process's agent took the customer before we could look: they are next,
            # and session.started is on its way.
            ticket = m.Ticket(id=session.id, state="ringing", position=1, estimated_wait_s=0)
        self.rings.request_route()
        self.queue.request()
        return ticket

    async def cancel_help(self, device: DeviceIdentity, ticket_id: str) -> None:
        session = await self.context.session_of_party(device, ticket_id)
        if session.state not in WAITING_STATES:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"ticket {ticket_id} is {session.state.value}; use session.end to end a session",
            )
        await self.sessions.finish(ticket_id, actor=device.actor(), reason="cancelled")
