"""The help desk: what happens when customers ask for help and agents answer.

The desk turns socket events into store operations (:mod:`server.live.ops`), runs the router after
every change that could make a ring possible, keeps the queue and tickets pushed to whoever needs
them, and arms the timers (ring timeouts, grace periods) that check back on the store later.
It never keeps live state of its own: every decision is taken inside ``store.atomically``.

Durable history is handed to the :class:`~server.writer.RecordWriter`, never awaited here, so the
help press → ring path touches memory (or Redis) only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Literal

import structlog

from signaling import ErrorCode, Event, ProtocolError, Role
from signaling import models as m

from .emitter import Emitter
from .ice import ice_servers
from .identity import AgentIdentity, DeviceIdentity, Identity
from .ids import new_id
from .live import ops
from .live.machine import audit, count_kind
from .live.records import (
    WAITING_STATES,
    Actor,
    AgentPresence,
    ControlState,
    LiveSession,
    SessionState,
)
from .live.store import LiveStore, StaleRead, Txn
from .metrics import Metrics
from .nodes import last_seen
from .queue_push import QueuePublisher, queue_entry
from .records import Records
from .remote_control import RemoteControl
from .routing import plan_rings
from .settings import Settings
from .sweeper import Sweeper
from .tasks import Background
from .writer import RecordWriter

__all__ = ["HelpDesk"]

log = structlog.get_logger("mayday.desk")

ROUTING_WINDOW = 200
"""A routing pass considers the first this many waiting customers: further back, a customer is
only rung before those ahead when no agent can take any of them, which the next pass revisits."""
MAX_CHAT_LINES = 500
"""Chat lines one session keeps. Every line lives in the session's live record until it ends, so
a party flooding the chat must not grow it (and every read of it) without end."""
MISSED_END_NOTICE_S = 3600.0
"""A device reconnecting this long after its session ended without it is still told so."""
_RETRIES = 8


class HelpDesk:
    def __init__(
        self,
        *,
        store: LiveStore,
        records: Records,
        writer: RecordWriter,
        emitter: Emitter,
        settings: Settings,
        metrics: Metrics,
        node: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.node = node
        """This server process, as recorded with the sockets it holds."""
        self.records = records
        self.writer = writer
        self.emit = emitter
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.background = Background()
        self._route_requested = False
        self._routing = False
        self.queue = QueuePublisher(self)
        self.sweeper = Sweeper(self)
        self.control = RemoteControl(self)

    def start(self) -> None:
        self.background.spawn(self.sweeper.run_forever(), name="sweeper")

    async def close(self) -> None:
        await self.background.close()

    # --- devices ------------------------------------------------------------------------------

    async def device_connected(self, device: DeviceIdentity, sid: str) -> None:
        older = await self.emit.join(sid, "device", device.id)
        session = await self.store.session_for_device(device.id)
        if session is None:
            await self.emit.drop(older, "device")
            await self._tell_missed_end(device)
            return
        now = self.clock()

        def reattach(txn: Txn) -> tuple[LiveSession, str | None, bool, str | None]:
            live = txn.session(session.id)
            previous_sid, was_lost = live.device_sid, live.device_lost_at is not None
            previous_node = live.device_node
            live.device_sid = sid
            live.device_node = self.node
            live.device_lost_at = None
            if was_lost:
                audit(live, "peer.back", actor=device.actor(), at=now, reason="device reconnected")
            return live, previous_sid, was_lost, previous_node

        try:
            live, previous_sid, was_lost, previous_node = await self.store.atomically(
                reattach, sessions=[session.id]
            )
        except ProtocolError:
            await self.emit.drop(older, "device")
            return
        self.background.cancel(("grace", "device", device.id))
        replaced = [previous_sid] if previous_sid != sid and not was_lost else []
        await self.emit.drop([*older, *replaced], "device")
        self.writer.save(live)
        log.info("device.connected", device_id=device.id, session_id=live.id, resumed=was_lost)
        if live.state in WAITING_STATES:
            self.queue.forget_ticket(live.id)
            self.queue.request()
            self.request_route()
        else:
            await self._send_session_started(live, to=("device",), resumed=True)
            if was_lost:
                if not await self.control.party_back(live.id, device.actor()):
                    await self.control.tell_current(live.id, ("device",))
            elif replaced and previous_node not in (None, self.node):
                await self._party_moved(live.id, "device", device.actor(), previous_node)
            else:
                await self.control.tell_current(live.id, ("device",))
            if live.agent_id and was_lost:
                await self.emit.send(
                    "agent",
                    live.agent_id,
                    Event.SESSION_PEER,
                    m.SessionPeer(session_id=live.id, peer="device", connected=True),
                )

    async def _tell_missed_end(self, device: DeviceIdentity) -> None:
        """A device back after its session ended without it (grace over) learns of the end."""
        last = await self.records.latest_session_of_device(device.id)
        if last is None or last.ended_at is None or last.end_reason != "peer_lost":
            return
        if self.clock() - last.ended_at > MISSED_END_NOTICE_S:
            return
        await self.emit.send(
            "device",
            device.id,
            Event.SESSION_ENDED,
            m.SessionEnded(session_id=last.id, reason="peer_lost", ended_by="system"),
        )

    async def device_disconnected(self, device: DeviceIdentity, sid: str) -> None:
        session = await self.store.session_for_device(device.id)
        if session is None or session.device_sid != sid:
            return
        await self.device_lost(session.id, device.actor(), "device disconnected", sid=sid)

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
        now = self.clock()
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
            audit(
                live, "peer.lost", actor=actor, at=now, reason=reason, detail=_since(lost_at, now)
            )
            return live

        try:
            live = await self.store.atomically(lose, sessions=[session_id])
        except (ProtocolError, StaleRead):
            return
        self.writer.save(live)
        grace = self.settings.grace_period_s
        log.info(
            "device.lost",
            device_id=live.device_id,
            session_id=live.id,
            grace_s=grace,
            reason=reason,
        )
        if live.ring_id:
            await self._close_ring(live.ring_id, reason="peer_lost", actor=Actor.system())
        if live.agent_id and live.state not in WAITING_STATES:
            await self.control.party_lost(live.id, actor, at=lost_at)
            await self.emit.send(
                "agent",
                live.agent_id,
                Event.SESSION_PEER,
                m.SessionPeer(session_id=live.id, peer="device", connected=False, grace_s=grace),
            )
        self.background.call_later(
            ("grace", "device", live.device_id),
            max(0.0, lost_at + grace - now),
            lambda: self.device_grace_over(live.id),
        )

    async def device_grace_over(self, session_id: str) -> None:
        session = await self.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            return
        lost_at = session.device_lost_at
        if lost_at is None:
            return
        remaining = lost_at + self.settings.grace_period_s - self.clock()
        if remaining > 0:
            self.background.call_later(
                ("grace", "device", session.device_id),
                remaining,
                lambda: self.device_grace_over(session_id),
            )
            return
        await self._end_lost(session_id)

    async def request_help(
        self, device: DeviceIdentity, sid: str, request: m.HelpRequest
    ) -> m.Ticket:
        existing = await self.store.session_for_device(device.id)
        if existing is not None:
            if existing.state in WAITING_STATES:
                return await self.queue.ticket_of(existing.id)
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"you are already in session {existing.id}; end it before asking for help again",
            )
        now = self.clock()
        session = LiveSession(
            id=new_id("ses"),
            device_id=device.id,
            device_name=device.name,
            topic=request.topic,
            locale=request.locale,
            created_at=now,
            queue_score=now,
            device_sid=sid,
            device_node=self.node,
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

        await self.store.atomically(enqueue)
        log.info("help.requested", device_id=device.id, session_id=session.id, topic=request.topic)
        self.writer.save(session)
        self.sweeper.note(arrival_at=now)
        try:
            ticket = await self.queue.ticket_of(session.id)
        except ProtocolError:
            # Another process's agent took the customer before we could look: they are next,
            # and session.started is on its way.
            ticket = m.Ticket(id=session.id, state="ringing", position=1, estimated_wait_s=0)
        self.request_route()
        self.queue.request()
        return ticket

    async def cancel_help(self, device: DeviceIdentity, ticket_id: str) -> None:
        session = await self.session_of_party(device, ticket_id)
        if session.state not in WAITING_STATES:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"ticket {ticket_id} is {session.state.value}; use session.end to end a session",
            )
        await self.finish(ticket_id, actor=device.actor(), reason="cancelled")

    # --- agents ---------------------------------------------------------------------------------

    async def agent_connected(self, agent: AgentIdentity, sid: str) -> None:
        older = await self.emit.join(sid, "agent", agent.id)
        now = self.clock()

        def attach(txn: Txn) -> tuple[AgentPresence, str | None, bool, str | None]:
            presence = txn.agents.get(agent.id)
            if presence is None:
                presence = AgentPresence(
                    agent_id=agent.id,
                    name=agent.name,
                    languages=list(agent.languages),
                    skills=list(agent.skills),
                    idle_since=now,
                )
                txn.agents[agent.id] = presence
            previous_sid, was_lost = presence.sid, presence.lost_at is not None
            previous_node = presence.node
            presence.sid = sid
            presence.node = self.node
            presence.lost_at = None
            presence.languages = list(agent.languages)
            presence.skills = list(agent.skills)
            return presence, previous_sid, was_lost, previous_node

        presence, previous_sid, was_lost, previous_node = await self.store.atomically(
            attach, agents=[agent.id]
        )
        self.background.cancel(("grace", "agent", agent.id))
        replaced = [previous_sid] if previous_sid != sid and not was_lost else []
        await self.emit.drop([*older, *replaced], "agent")
        log.info("agent.connected", agent_id=agent.id, status=presence.status, resumed=was_lost)
        await self.emit.send(
            "agent",
            agent.id,
            Event.PRESENCE_UPDATE,
            m.PresenceUpdate(status=presence.status, reason="connected"),
        )
        await self.emit.send("agent", agent.id, Event.QUEUE_UPDATE, await self.queue.snapshot())
        if presence.session_id:
            moved_from = previous_node if replaced and previous_node != self.node else None
            await self._agent_rejoins(
                agent, presence.session_id, was_lost=was_lost, moved_from=moved_from
            )
        self.request_route()
        self.queue.request()

    async def _agent_rejoins(
        self, agent: AgentIdentity, session_id: str, *, was_lost: bool, moved_from: str | None
    ) -> None:
        """A reconnected (or replacing) agent socket gets its session back; the device re-offers."""
        session = await self.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            return
        if was_lost:
            session = await self._audit_session(
                session.id, "peer.back", agent.actor(), "agent reconnected"
            )
        await self._send_session_started(session, to=("agent",), resumed=True)
        if was_lost:
            if not await self.control.party_back(session.id, agent.actor()):
                await self.control.tell_current(session.id, ("agent",))
        elif moved_from is not None:
            await self._party_moved(session.id, "agent", agent.actor(), moved_from)
        else:
            await self.control.tell_current(session.id, ("agent",))
        # Lost or replaced, the agent's new socket has no media yet: the device offers again.
        await self.emit.send(
            "device",
            session.device_id,
            Event.SESSION_PEER,
            m.SessionPeer(session_id=session.id, peer="agent", connected=True),
        )

    async def agent_disconnected(self, agent: AgentIdentity, sid: str) -> None:
        await self.agent_lost(agent.id, agent.actor(), sid=sid)

    async def agent_lost(
        self,
        agent_id: str,
        actor: Actor,
        *,
        sid: str | None = None,
        node: str | None = None,
        at: float | None = None,
    ) -> None:
        """The agent's socket is gone (it disconnected, or its server process died).

        ``at`` is when it was last known alive, as for :meth:`device_lost`.
        """
        now = self.clock()
        lost_at = now if at is None else min(at, now)

        def lose(txn: Txn) -> AgentPresence:
            presence = txn.agent(agent_id)
            if presence.lost_at is not None:
                raise StaleRead("agent already lost")
            if (sid is not None and presence.sid != sid) or (
                node is not None and presence.node != node
            ):
                raise StaleRead("agent already replaced")
            presence.lost_at = lost_at
            return presence

        try:
            presence = await self.store.atomically(lose, agents=[agent_id])
        except (ProtocolError, StaleRead):
            return
        grace = self.settings.grace_period_s
        log.info("agent.lost", agent_id=agent_id, session_id=presence.session_id, grace_s=grace)
        if presence.ring_id:
            await self._close_ring(presence.ring_id, reason="peer_lost", actor=Actor.system())
        if presence.session_id:
            await self._tell_device_agent_lost(actor, presence.session_id, grace, lost_at)
        self.background.call_later(
            ("grace", "agent", agent_id),
            max(0.0, lost_at + grace - now),
            lambda: self.agent_grace_over(agent_id),
        )
        self.queue.request()

    async def _tell_device_agent_lost(
        self, actor: Actor, session_id: str, grace: float, lost_at: float
    ) -> None:
        try:
            session = await self._audit_session(
                session_id, "peer.lost", actor, "agent disconnected", lost_at=lost_at
            )
        except ProtocolError:
            return  # the session ended meanwhile: nobody to tell
        await self.control.party_lost(session_id, actor, at=lost_at)
        await self.emit.send(
            "device",
            session.device_id,
            Event.SESSION_PEER,
            m.SessionPeer(session_id=session.id, peer="agent", connected=False, grace_s=grace),
        )

    async def agent_grace_over(self, agent_id: str) -> None:
        presence = await self.store.get_agent(agent_id)
        if presence is None or presence.lost_at is None:
            return
        remaining = presence.lost_at + self.settings.grace_period_s - self.clock()
        if remaining > 0:
            self.background.call_later(
                ("grace", "agent", agent_id), remaining, lambda: self.agent_grace_over(agent_id)
            )
            return
        if presence.session_id:
            await self._end_lost(presence.session_id)

        def sign_out(txn: Txn) -> None:
            current = txn.agents.get(agent_id)
            if current is not None and current.lost_at is not None and not current.session_id:
                txn.agents[agent_id] = None

        await self.store.atomically(sign_out, agents=[agent_id])
        log.info("agent.signed_out", agent_id=agent_id, reason="grace period over")
        self.queue.request()

    async def set_presence(
        self, agent: AgentIdentity, status: Literal["available", "away"]
    ) -> None:
        now = self.clock()

        def change(txn: Txn) -> None:
            presence = txn.agent(agent.id)
            if presence.status != status and status == "available" and not presence.session_id:
                presence.idle_since = now
            presence.status = status

        await self.store.atomically(change, agents=[agent.id])
        log.info("agent.presence", agent_id=agent.id, status=status)
        self.request_route()
        self.queue.request()

    async def accept_ring(self, agent: AgentIdentity, ring_id: str) -> LiveSession:
        ring = await self.store.get_ring(ring_id)
        if ring is None:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, f"ring {ring_id} is over (cancelled, timed out or taken)"
            )
        if ring.agent_id != agent.id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"ring {ring_id} was offered to another agent")
        now = self.clock()
        session = await self.store.atomically(
            lambda txn: ops.accept_ring(txn, ring_id, agent.id, now=now),
            rings=[ring_id],
            sessions=[ring.session_id],
            agents=[agent.id],
        )
        self.background.cancel(("ring", ring_id))
        self.metrics.time_to_accept.observe(now - ring.started_at)
        log.info("ring.accepted", agent_id=agent.id, session_id=session.id, ring_id=ring_id)
        await self._send_session_started(session, to=("device", "agent"), resumed=False)
        self.writer.save(session)
        self.queue.request()
        return session

    async def decline_ring(self, agent: AgentIdentity, ring_id: str) -> None:
        ring = await self.store.get_ring(ring_id)
        if ring is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"ring {ring_id} is over")
        if ring.agent_id != agent.id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"ring {ring_id} was offered to another agent")
        await self._close_ring(ring_id, reason="declined", actor=agent.actor())

    # --- both -----------------------------------------------------------------------------------

    async def end_by_party(self, party: Identity, session_id: str, reason: str) -> LiveSession:
        session = await self.session_of_party(party, session_id)
        if isinstance(party, AgentIdentity) and session.state in WAITING_STATES:
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not in session {session_id}")
        return await self.finish(session_id, actor=party.actor(), reason=reason)

    async def relay(
        self, sender: Identity, event: Event, payload: m.RtcOffer | m.RtcAnswer | m.RtcIce
    ) -> None:
        """Forward SDP or ICE to the other party of the sender's own session, and nobody else."""
        session = await self.session_of_party(sender, payload.session_id)
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
        await self.emit.send_raw(
            target[0], target[1], event, payload.model_dump(mode="json", exclude_none=True)
        )

    async def rtc_state(self, sender: Identity, report: m.RtcState) -> None:
        session = await self.session_of_party(sender, report.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            return
        now = self.clock()

        def apply(txn: Txn) -> LiveSession:
            live = txn.session(session.id)
            if report.state == "connected":
                ops.mark_active(txn, session.id, actor=sender.actor(), now=now)
            else:
                audit(live, f"rtc.{report.state}", actor=sender.actor(), at=now)
            return live

        live = await self.store.atomically(apply, sessions=[session.id])
        self.writer.save(live)

    async def finish(self, session_id: str, *, actor: Actor, reason: str) -> LiveSession:
        """End a session (or cancel a ticket) in whatever state it is, and tell everyone involved."""
        for _ in range(_RETRIES):
            session = await self.store.get_session(session_id)
            if session is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
            ring = await self.store.get_ring(session.ring_id) if session.ring_id else None
            now = self.clock()
            try:
                ended, closed_ring = await self.store.atomically(
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
        self.writer.save(ended)  # recorded before anyone is told, so what they look up is there
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
        self.background.cancel(("grace", "device", ended.device_id))
        if session.control is not ControlState.NONE:
            await self.control.tell_ended(ended)
        notice = m.SessionEnded(session_id=ended.id, reason=reason, ended_by=actor.kind)
        await self.emit.send("device", ended.device_id, Event.SESSION_ENDED, notice)
        if ended.agent_id:
            await self.emit.send("agent", ended.agent_id, Event.SESSION_ENDED, notice)
        if closed_ring is not None:
            self.background.cancel(("ring", closed_ring.ring_id))
            await self.emit.send(
                "agent",
                closed_ring.agent_id,
                Event.RING_CANCELLED,
                m.RingCancelled(ring_id=closed_ring.ring_id, reason="cancelled"),
            )
        self.request_route()
        self.queue.request()
        return ended

    async def chat(self, party: Identity, payload: m.ChatSend) -> m.ChatMessage:
        """A chat line goes into the session's timeline, then to both parties."""
        session = await self.session_of_party(party, payload.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            raise ProtocolError(ErrorCode.CONFLICT, "chat opens once the agent has accepted")
        now = self.clock()

        def write(txn: Txn) -> tuple[LiveSession, int]:
            live = txn.session(session.id)
            if count_kind(live, "chat") >= MAX_CHAT_LINES:
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    f"this session's chat is full ({MAX_CHAT_LINES} lines); "
                    "talk, or end the session and start a new one",
                )
            event = audit(live, "chat", actor=party.actor(), at=now, detail={"text": payload.text})
            return live, event.seq

        live, seq = await self.store.atomically(write, sessions=[session.id])
        self.writer.save(live)
        message = m.ChatMessage(
            session_id=live.id,
            seq=seq,
            sender=party.role,
            name=party.name,
            text=payload.text,
            at=now,
        )
        await self.emit.send("device", live.device_id, Event.CHAT_MESSAGE, message)
        if live.agent_id:
            await self.emit.send("agent", live.agent_id, Event.CHAT_MESSAGE, message)
        return message

    async def note(self, agent: AgentIdentity, payload: m.SessionNote) -> None:
        """The agent's notes replace the previous ones; kept with the session's record."""
        session = await self.session_of_party(agent, payload.session_id)
        if session.state in WAITING_STATES:
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not in session {session.id}")

        def write(txn: Txn) -> LiveSession:
            live = txn.session(session.id)
            live.notes = payload.text
            return live

        self.writer.save(await self.store.atomically(write, sessions=[session.id]))

    async def rate(self, device: DeviceIdentity, session_id: str, rating: int) -> None:
        """Store the customer's rating with the session's record (once the session is over)."""
        live = await self.store.get_session(session_id)
        if live is not None and live.device_id != device.id:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no ended session {session_id} of yours")
        if live is not None and live.state is not SessionState.ENDED:
            raise ProtocolError(ErrorCode.CONFLICT, "rate the session after it has ended")
        await self.writer.flush()
        if not await self.records.rate_session(
            session_id, device.id, rating, at=self.clock(), device_name=device.name
        ):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no ended session {session_id} of yours")
        log.info("session.rated", session_id=session_id, device_id=device.id, rating=rating)

    async def _end_lost(self, session_id: str) -> None:
        """End a session whose party did not come back; it may have ended meanwhile."""
        try:
            await self.finish(session_id, actor=Actor.system(), reason="peer_lost")
        except ProtocolError as exc:
            log.info("session.already_over", session_id=session_id, reason=exc.message)

    async def session(self, session_id: str) -> LiveSession | None:
        return await self.store.get_session(session_id)

    # --- routing --------------------------------------------------------------------------------

    def request_route(self) -> None:
        """Ask for a routing pass; passes never overlap, and one more runs if asked meanwhile."""
        self._route_requested = True
        if not self._routing:
            self._routing = True
            self.background.spawn(self._route_loop(), name="route")

    async def _route_loop(self) -> None:
        try:
            while self._route_requested:
                self._route_requested = False
                await self._route_once()
        finally:
            self._routing = False

    async def _route_once(self) -> None:
        agents = await self.store.agents()
        if not any(agent.routable for agent in agents):
            return  # nobody to ring: no need to read the queue
        waiting = await self.store.waiting(limit=ROUTING_WINDOW)
        positions = {session.id: index + 1 for index, session in enumerate(waiting)}
        for session_id, agent_id in plan_rings(waiting, agents):
            ring_id = new_id("rng")
            now = self.clock()
            timeout = self.settings.ring_timeout_s
            try:
                session, _agent, _ring = await self.store.atomically(
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
                self.metrics.time_to_ring.observe(now - session.created_at)
            await self.emit.send(
                "agent",
                agent_id,
                Event.RING,
                m.Ring(
                    ring_id=ring_id,
                    ticket=queue_entry(session, position=positions[session_id]),
                    timeout_s=timeout,
                ),
            )
            self.background.call_later(
                ("ring", ring_id), timeout, partial(self.ring_timed_out, ring_id)
            )
            log.info("ring.started", session_id=session_id, agent_id=agent_id, ring_id=ring_id)
            self.writer.save(session)
            self.queue.request()

    async def ring_timed_out(self, ring_id: str) -> None:
        ring = await self.store.get_ring(ring_id)
        if ring is None:
            return
        remaining = ring.expires_at - self.clock()
        if remaining > 0:
            self.background.call_later(
                ("ring", ring_id), remaining, lambda: self.ring_timed_out(ring_id)
            )
            return
        if await self._close_ring(ring_id, reason="timeout", actor=Actor.system()):
            await self.emit.send(
                "agent",
                ring.agent_id,
                Event.PRESENCE_UPDATE,
                m.PresenceUpdate(status="away", reason="ring not answered"),
            )

    async def _close_ring(
        self,
        ring_id: str,
        *,
        reason: Literal["timeout", "declined", "peer_lost"],
        actor: Actor,
    ) -> bool:
        """Close a ring unless it is already over; ``True`` if this call closed it."""
        ring = await self.store.get_ring(ring_id)
        if ring is None:
            return False
        now = self.clock()
        try:
            _, session, _ = await self.store.atomically(
                lambda txn: ops.close_ring(txn, ring_id, reason=reason, actor=actor, now=now),
                rings=[ring_id],
                sessions=[ring.session_id],
                agents=[ring.agent_id],
            )
        except (ProtocolError, StaleRead):
            return False
        self.background.cancel(("ring", ring_id))
        log.info("ring.closed", ring_id=ring_id, agent_id=ring.agent_id, reason=reason)
        await self.emit.send(
            "agent",
            ring.agent_id,
            Event.RING_CANCELLED,
            m.RingCancelled(ring_id=ring_id, reason=reason),
        )
        if session is not None:
            self.writer.save(session)
        self.request_route()
        self.queue.request()
        return True

    # --- helpers --------------------------------------------------------------------------------

    async def _party_moved(self, session_id: str, role: Role, actor: Actor, from_node: str) -> None:
        """A party's new socket replaced one held by another process, before anyone noticed it lost.

        That process may have died (the usual reason to reconnect elsewhere), so the old socket
        counts as lost from that process's last heartbeat and back now: remote control passes
        through ``suspended`` and resumes only under the lease rules, never silently kept.
        """
        now = self.clock()
        lost_at = last_seen(await self.store.beats(), from_node, now)

        def note(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            audit(
                live,
                "peer.moved",
                actor=actor,
                at=now,
                reason=f"{role} reconnected through another server process",
                detail={"from": from_node, **_since(lost_at, now)},
            )
            return live

        try:
            self.writer.save(await self.store.atomically(note, sessions=[session_id]))
        except ProtocolError:
            return  # the session ended meanwhile
        changed = await self.control.party_lost(session_id, actor, at=lost_at)
        changed = await self.control.party_back(session_id, actor, left=from_node) or changed
        if not changed:
            await self.control.tell_current(session_id, (role,))

    async def session_of_party(self, party: Identity, session_id: str) -> LiveSession:
        session = await self.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
        is_party = (
            session.device_id == party.id
            if isinstance(party, DeviceIdentity)
            else session.agent_id == party.id
        )
        if not is_party:
            log.warning(
                "session.not_party", session_id=session_id, role=party.role, identity=party.id
            )
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not a party of session {session_id}")
        return session

    async def _audit_session(
        self,
        session_id: str,
        kind: Literal["peer.lost", "peer.back"],
        actor: Actor,
        reason: str,
        *,
        lost_at: float | None = None,
    ) -> LiveSession:
        """Record the agent's socket lost (since ``lost_at``) or back in the session."""
        now = self.clock()

        def note(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            if kind == "peer.lost":
                live.agent_lost_at = now if lost_at is None else lost_at
                detail = _since(live.agent_lost_at, now)
            else:
                live.agent_lost_at = None
                detail = {}
            audit(live, kind, actor=actor, at=now, reason=reason, detail=detail)
            return live

        live = await self.store.atomically(note, sessions=[session_id])
        self.writer.save(live)
        return live

    async def _send_session_started(
        self, session: LiveSession, *, to: tuple[Role, ...], resumed: bool
    ) -> None:
        assert session.agent_id is not None
        assert session.agent_name is not None
        for role in to:
            identity_id = session.device_id if role == "device" else session.agent_id
            started = m.SessionStarted(
                session_id=session.id,
                agent=m.AgentInfo(id=session.agent_id, name=session.agent_name),
                device=m.DeviceInfo(id=session.device_id, name=session.device_name),
                topic=session.topic,
                locale=session.locale,
                organisation=self.settings.organisation,
                ice_servers=ice_servers(self.settings, f"{role}-{identity_id}"),
                ice_transport_policy=self.settings.ice_transport_policy,
                state="active" if session.state is SessionState.ACTIVE else "connecting",
                resumed=resumed,
            )
            await self.emit.send(role, identity_id, Event.SESSION_STARTED, started)


def _since(lost_at: float, now: float) -> dict[str, float]:
    """Audit detail for a loss noticed after the fact (a dead process's last heartbeat)."""
    return {"since": lost_at} if lost_at < now else {}
