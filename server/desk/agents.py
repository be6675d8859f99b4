"""The agent at the desk: signs in (or comes back to its session), sets its presence, and drops
off, with a grace period to return before it is signed out and its session ends, its customer
going back to the head of the queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import structlog

from signaling import Event, ProtocolError
from signaling import models as m

from ..identity import AgentIdentity
from ..live.machine import audit
from ..live.records import Actor, AgentPresence, LiveSession, SessionState
from ..live.store import StaleRead, Txn
from .context import DeskContext, since
from .control import RemoteControl
from .parties import party_moved, send_session_started
from .queue import QueuePublisher
from .rings import Rings
from .sessions import Sessions
from .watching import Watching

__all__ = ["Agents"]

log = structlog.get_logger("mayday.desk")


@dataclass(eq=False)
class Agents:
    """The agent's lifecycle, step for step the mirror of :class:`~.devices.Devices` (connect or
    come back, get lost, grace over) but over the agent's presence record where the device's is
    its session: alike on purpose, so that the two read side by side. The fields are the parts
    it calls on, as :class:`~server.desk.HelpDesk` wires them."""

    context: DeskContext
    queue: QueuePublisher
    rings: Rings
    control: RemoteControl
    sessions: Sessions
    watching: Watching

    async def agent_connected(self, agent: AgentIdentity, sid: str) -> None:
        context = self.context
        older = await context.emit.join(sid, "agent", agent.id)
        now = context.clock()

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
            if was_lost or previous_sid is None:  # back from offline (the wallboard's state)
                presence.status_since = now
            presence.sid = sid
            presence.node = context.node
            presence.lost_at = None
            presence.name = agent.name  # a display name changed since (mayday agents set)
            presence.languages = list(agent.languages)
            presence.skills = list(agent.skills)
            return presence, previous_sid, was_lost, previous_node

        presence, previous_sid, was_lost, previous_node = await context.store.atomically(
            attach, agents=[agent.id]
        )
        context.background.cancel(("grace", "agent", agent.id))
        replaced = [previous_sid] if previous_sid != sid and not was_lost else []
        await context.emit.drop([*older, *replaced], "agent")
        log.info("agent.connected", agent_id=agent.id, status=presence.status, resumed=was_lost)
        await context.emit.send(
            "agent",
            agent.id,
            Event.PRESENCE_UPDATE,
            m.PresenceUpdate(status=presence.status, reason="connected")
            if presence.wrapup_until is None
            else m.PresenceUpdate(status="wrapup", reason="connected", until=presence.wrapup_until),
        )
        await context.emit.send("agent", agent.id, Event.QUEUE_UPDATE, await self.queue.snapshot())
        if presence.session_id:
            moved_from = previous_node if replaced and previous_node != context.node else None
            await self._agent_rejoins(
                agent, presence.session_id, was_lost=was_lost, moved_from=moved_from
            )
        self.rings.request_route()
        self.queue.request()

    async def _agent_rejoins(
        self, agent: AgentIdentity, session_id: str, *, was_lost: bool, moved_from: str | None
    ) -> None:
        """A reconnected (or replacing) agent socket gets its session back; the device re-offers."""
        session = await self.context.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            return
        if was_lost:
            session = await self._agent_back_in_session(session.id, agent.actor())
        await send_session_started(self.context, session, to=("agent",), resumed=True)
        if was_lost:
            if not await self.control.party_back(session.id, agent.actor()):
                await self.control.tell_current(session.id, ("agent",))
        elif moved_from is not None:
            await party_moved(
                self.context, self.control, session.id, "agent", agent.actor(), moved_from
            )
        else:
            await self.control.tell_current(session.id, ("agent",))
        # Lost or replaced, the agent's new socket has no media yet: the device offers again.
        await self.context.emit.send(
            "device",
            session.device_id,
            Event.SESSION_PEER,
            m.SessionPeer(session_id=session.id, peer="agent", connected=True),
        )

    async def agent_disconnected(
        self, agent: AgentIdentity, sid: str, *, at: float | None = None
    ) -> None:
        await self.agent_lost(agent.id, agent.actor(), sid=sid, at=at)

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

        ``at`` is when it was last known alive, as for :meth:`Devices.device_lost
        <server.desk.devices.Devices.device_lost>`.
        """
        now = self.context.clock()
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
            presence.status_since = lost_at
            return presence

        try:
            presence = await self.context.store.atomically(lose, agents=[agent_id])
        except (ProtocolError, StaleRead):
            return
        grace = self.context.settings.grace_period_s
        log.info("agent.lost", agent_id=agent_id, session_id=presence.session_id, grace_s=grace)
        if presence.ring_id:
            await self.rings.close_ring(presence.ring_id, reason="peer_lost", actor=Actor.system())
        if presence.session_id:
            await self._tell_device_agent_lost(actor, presence.session_id, grace, lost_at)
        await self.watching.gone(presence)
        self.context.background.call_later(
            ("grace", "agent", agent_id),
            max(0.0, lost_at + grace - now),
            lambda: self.agent_grace_over(agent_id),
        )
        self.queue.request()

    async def _tell_device_agent_lost(
        self, actor: Actor, session_id: str, grace: float, lost_at: float
    ) -> None:
        try:
            session = await self._agent_lost_in_session(session_id, actor, lost_at=lost_at)
        except ProtocolError:
            return  # the session ended meanwhile: nobody to tell
        await self.control.party_lost(session_id, actor, at=lost_at)
        await self.context.emit.send(
            "device",
            session.device_id,
            Event.SESSION_PEER,
            m.SessionPeer(
                session_id=session.id,
                peer="agent",
                connected=False,
                grace_s=round(max(0.0, lost_at + grace - self.context.clock()), 1),
            ),
        )

    async def agent_grace_over(self, agent_id: str) -> None:
        presence = await self.context.store.get_agent(agent_id)
        if presence is None or presence.lost_at is None:
            return
        remaining = presence.lost_at + self.context.settings.grace_period_s - self.context.clock()
        if remaining > 0:
            self.context.background.call_later(
                ("grace", "agent", agent_id), remaining, lambda: self.agent_grace_over(agent_id)
            )
            return
        if presence.session_id:
            # The customer is not dropped: told, and first in line for the next agent (§9).
            await self.sessions.requeue_agent_lost(presence.session_id, agent_id)

        def sign_out(txn: Txn) -> None:
            current = txn.agents.get(agent_id)
            if current is not None and current.lost_at is not None and not current.session_id:
                txn.agents[agent_id] = None

        await self.context.store.atomically(sign_out, agents=[agent_id])
        log.info("agent.signed_out", agent_id=agent_id, reason="grace period over")
        self.queue.request()

    async def set_presence(
        self, agent: AgentIdentity, status: Literal["available", "away"]
    ) -> None:
        now = self.context.clock()

        def change(txn: Txn) -> None:
            presence = txn.agent(agent.id)
            if presence.status != status and status == "available" and not presence.session_id:
                presence.idle_since = now
            shown = presence.session_id is None and presence.ring_id is None  # on the wallboard
            if shown and (presence.status != status or presence.wrapup_until is not None):
                presence.status_since = now
            presence.status = status
            presence.wrapup_until = None  # setting a presence is being done with the wrap-up

        await self.context.store.atomically(change, agents=[agent.id])
        self.context.background.cancel(("wrapup", agent.id))
        log.info("agent.presence", agent_id=agent.id, status=status)
        self.rings.request_route()
        self.queue.request()

    # --- the agent's socket in its session's record ---------------------------------------------

    async def _agent_lost_in_session(
        self, session_id: str, actor: Actor, *, lost_at: float
    ) -> LiveSession:
        """Record in the session that the agent's socket is lost, since ``lost_at``."""
        now = self.context.clock()

        def note(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            live.agent_lost_at = lost_at
            audit(
                live,
                "peer.lost",
                actor=actor,
                at=now,
                reason="agent disconnected",
                detail={**since(lost_at, now), "peer": "agent"},
            )
            return live

        return await self._write(note, session_id)

    async def _agent_back_in_session(self, session_id: str, actor: Actor) -> LiveSession:
        """Record in the session that the agent's socket is back."""
        now = self.context.clock()

        def note(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            live.agent_lost_at = None
            audit(
                live,
                "peer.back",
                actor=actor,
                at=now,
                reason="agent reconnected",
                detail={"peer": "agent"},
            )
            return live

        return await self._write(note, session_id)

    async def _write(self, change: Callable[[Txn], LiveSession], session_id: str) -> LiveSession:
        live = await self.context.store.atomically(change, sessions=[session_id])
        self.context.writer.save(live)
        return live
