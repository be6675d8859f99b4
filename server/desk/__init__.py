"""The help desk: what happens when customers ask for help and agents answer.

The desk turns socket events into store operations (:mod:`server.live.ops`), runs the router after
every change that could make a ring possible, keeps the queue and tickets pushed to whoever needs
them, and arms the timers (ring timeouts, grace periods) that check back on the store later.
It never keeps live state of its own: every decision is taken inside ``store.atomically``.

Durable history is handed to the :class:`~server.writer.RecordWriter`, never awaited here, so the
help press → ring path touches memory (or Redis) only.

:class:`HelpDesk` is the one entry point (for the sockets, the REST API and the app) and composes
the parts, each in a module of its own that sees a :class:`~server.desk.context.DeskContext` (or a
``typing.Protocol``), never the desk:

* :mod:`.devices` and :mod:`.agents`: each party's lifecycle (connect, lose, grace, come back);
* :mod:`.rings`: the routing loop and each ring's life;
* :mod:`.callbacks`: callback instead of waiting, rung at the customer when an agent is free;
* :mod:`.sessions`: media relay, connection state and the end of a session;
* :mod:`.control`: remote control with the customer's consent;
* :mod:`.queue`: queue and ticket pushes;
* :mod:`.sweeper`: deadlines and dead processes, whoever armed or held them.

Chat, notes and rating are small enough to stay here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from ..emitter import Emitter
from ..identity import AgentIdentity, DeviceIdentity, Identity
from ..live.machine import audit, count_kind
from ..live.records import WAITING_STATES, Actor, LiveSession, SessionState
from ..live.store import LiveStore, Txn
from ..metrics import Metrics
from ..records import Records
from ..settings import Settings
from ..tasks import Background
from ..writer import RecordWriter
from .agents import Agents
from .callbacks import Callbacks
from .context import DeskContext
from .control import RemoteControl
from .devices import Devices
from .missed import MissedLosses
from .queue import QueuePublisher
from .rings import Rings
from .sessions import Sessions
from .sweeper import Sweeper
from .wallboard import LiveWallboard
from .watching import Watching, session_of_party_or_watcher

__all__ = ["HelpDesk"]

log = structlog.get_logger("mayday.desk")

MAX_CHAT_LINES = 500
"""Chat lines one session keeps. Every line lives in the session's live record until it ends, so
a party flooding the chat must not grow it (and every read of it) without end."""


class HelpDesk:
    """The desk's one entry point: it builds the parts and passes each call to the one that does it.

    The methods below that only pass a call on repeat their part's signature on purpose: callers
    (the sockets, the REST API, the sweeper's :class:`~.sweeper.DueHandler`) see one object, and
    no part sees another part it does not need.
    """

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
        self.context = context = DeskContext(
            store=store,
            records=records,
            writer=writer,
            emit=emitter,
            background=Background(),
            settings=settings,
            metrics=metrics,
            node=node,
            clock=clock,
        )
        self.queue = QueuePublisher(context)
        self.wallboard = LiveWallboard(context)
        """The supervisors' live wallboard (``server/desk/wallboard.py``)."""
        self.control = RemoteControl(context)
        self._missed = MissedLosses(clock)
        self.sweeper = Sweeper(
            context, handler=self, leases=self.control, push_queue=self.queue.request
        )
        self._rings = Rings(context, queue=self.queue)
        self._sessions = Sessions(
            context,
            control=self.control,
            rings=self._rings,
            queue=self.queue,
            sweeper=self.sweeper,
        )
        self._devices = Devices(
            context,
            queue=self.queue,
            rings=self._rings,
            control=self.control,
            sessions=self._sessions,
            sweeper=self.sweeper,
        )
        self._rings.end_ticket = self._sessions.finish
        self.queue.on_wake = self._rings.request_route
        self.callbacks = Callbacks(context, queue=self.queue, rings=self._rings)
        """Callback instead of waiting (``server/desk/callbacks.py``, protocol §20.3)."""
        self._watching = Watching(context)
        self._agents = Agents(
            context,
            queue=self.queue,
            rings=self._rings,
            control=self.control,
            sessions=self._sessions,
            watching=self._watching,
        )

    def start(self) -> None:
        self.context.background.spawn(self.sweeper.run_forever(), name="sweeper")

    async def close(self) -> None:
        await self.context.background.close()

    # --- devices (:mod:`.devices`) --------------------------------------------------------------

    async def device_connected(self, device: DeviceIdentity, sid: str) -> None:
        await self._devices.device_connected(device, sid)

    async def device_disconnected(self, device: DeviceIdentity, sid: str) -> None:
        await self._disconnected(device, sid)

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
        await self._devices.device_lost(session_id, actor, reason, sid=sid, node=node, at=at)

    async def device_grace_over(self, session_id: str) -> None:
        await self._devices.device_grace_over(session_id)

    async def request_help(
        self, device: DeviceIdentity, sid: str, request: m.HelpRequest
    ) -> m.Ticket:
        return await self._devices.request_help(device, sid, request)

    async def cancel_help(self, device: DeviceIdentity, ticket_id: str) -> None:
        await self._devices.cancel_help(device, ticket_id)

    # --- agents (:mod:`.agents`) ----------------------------------------------------------------

    async def agent_connected(self, agent: AgentIdentity, sid: str) -> None:
        await self._agents.agent_connected(agent, sid)

    async def agent_disconnected(self, agent: AgentIdentity, sid: str) -> None:
        await self._disconnected(agent, sid)

    # --- disconnects the store missed (:mod:`.missed`) ----------------------------------------

    async def _disconnected(self, who: Identity, sid: str) -> None:
        at = self.context.clock()
        try:
            await self._record_disconnect(who, sid, at)
        except Exception:
            self._missed.note(who, sid, at)  # the store is away: recorded when it is back
            raise

    async def _record_disconnect(self, who: Identity, sid: str, at: float) -> None:
        if isinstance(who, DeviceIdentity):
            await self._devices.device_disconnected(who, sid, at=at)
        elif isinstance(who, AgentIdentity):
            await self._agents.agent_disconnected(who, sid, at=at)

    async def record_missed_disconnects(self) -> None:
        await self._missed.retry(self._record_disconnect)

    async def agent_lost(
        self,
        agent_id: str,
        actor: Actor,
        *,
        sid: str | None = None,
        node: str | None = None,
        at: float | None = None,
    ) -> None:
        await self._agents.agent_lost(agent_id, actor, sid=sid, node=node, at=at)

    async def agent_grace_over(self, agent_id: str) -> None:
        await self._agents.agent_grace_over(agent_id)

    async def set_presence(
        self, agent: AgentIdentity, status: Literal["available", "away"]
    ) -> None:
        await self._agents.set_presence(agent, status)

    # --- rings (:mod:`.rings`) ------------------------------------------------------------------

    def request_route(self) -> None:
        self._rings.request_route()

    async def accept_ring(self, agent: AgentIdentity, ring_id: str) -> LiveSession:
        return await self._rings.accept_ring(agent, ring_id)

    async def decline_ring(self, agent: AgentIdentity, ring_id: str) -> None:
        await self._rings.decline_ring(agent, ring_id)

    async def take(self, agent: AgentIdentity, ticket_id: str) -> LiveSession:
        return await self._rings.take(agent, ticket_id)

    async def ring_timed_out(self, ring_id: str) -> None:
        await self._rings.ring_timed_out(ring_id)

    # --- sessions (:mod:`.sessions`) ------------------------------------------------------------

    async def end_by_party(self, party: Identity, session_id: str, reason: str) -> LiveSession:
        return await self._sessions.end_by_party(party, session_id, reason)

    async def transfer(self, agent: AgentIdentity, request: m.SessionTransfer) -> LiveSession:
        return await self._sessions.transfer(agent, request)

    # --- supervisors in sessions (:mod:`.watching`) ----------------------------------------------

    async def watch(self, supervisor: AgentIdentity, request: m.SessionWatch) -> m.WatchStarted:
        return await self._watching.watch(supervisor, request)

    async def leave_watch(self, supervisor: AgentIdentity, session_id: str) -> None:
        await self._watching.leave(supervisor, session_id, "left")

    async def relay(
        self, sender: Identity, event: Event, payload: m.RtcOffer | m.RtcAnswer | m.RtcIce
    ) -> None:
        await self._sessions.relay(sender, event, payload)

    async def rtc_state(self, sender: Identity, report: m.RtcState) -> None:
        await self._sessions.rtc_state(sender, report)

    async def finish(self, session_id: str, *, actor: Actor, reason: str) -> LiveSession:
        return await self._sessions.finish(session_id, actor=actor, reason=reason)

    async def session(self, session_id: str) -> LiveSession | None:
        return await self.context.store.get_session(session_id)

    async def current_session_of_agent(self, agent_id: str) -> LiveSession | None:
        """The live session the agent is in now, if any."""
        presence = await self.context.store.get_agent(agent_id)
        if presence is None or presence.session_id is None:
            return None
        session = await self.context.store.get_session(presence.session_id)
        if session is None or session.state is SessionState.ENDED or session.agent_id != agent_id:
            return None
        return session

    async def session_of_party(self, party: Identity, session_id: str) -> LiveSession:
        return await self.context.session_of_party(party, session_id)

    # --- chat, notes, rating --------------------------------------------------------------------

    async def chat(self, party: Identity, payload: m.ChatSend) -> m.ChatMessage:
        """A chat line goes into the session's timeline, then to everyone in the session: its
        two parties and its watchers. A supervisor writes once it joined (not while watching)."""
        session, sender = await self._chat_sender(party, payload.session_id)
        if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
            raise ProtocolError(ErrorCode.CONFLICT, "chat opens once the agent has accepted")
        now = self.context.clock()

        def write(txn: Txn) -> tuple[LiveSession, int]:
            live = txn.session(session.id)
            if count_kind(live, "chat") >= MAX_CHAT_LINES:
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    f"this session's chat is full ({MAX_CHAT_LINES} lines); "
                    "talk, or end the session and start a new one",
                )
            detail = {
                "text": payload.text,
                **({"supervisor": True} if sender == "supervisor" else {}),
            }
            event = audit(live, "chat", actor=party.actor(), at=now, detail=detail)
            return live, event.seq

        live, seq = await self.context.store.atomically(write, sessions=[session.id])
        self.context.writer.save(live)
        message = m.ChatMessage(
            session_id=live.id,
            seq=seq,
            sender=sender,
            name=party.name,
            text=payload.text,
            at=now,
        )
        await self.context.emit.send("device", live.device_id, Event.CHAT_MESSAGE, message)
        for agent_id in [live.agent_id, *live.watchers]:
            if agent_id:
                await self.context.emit.send("agent", agent_id, Event.CHAT_MESSAGE, message)
        return message

    async def _chat_sender(
        self, party: Identity, session_id: str
    ) -> tuple[LiveSession, Literal["device", "agent", "supervisor"]]:
        """The session a chat line is for, and who writes it: a party, or a joined supervisor."""
        session, watcher = await session_of_party_or_watcher(self.context, party, session_id)
        if watcher is None:
            return session, party.role
        if watcher.mode != "join":
            raise ProtocolError(
                ErrorCode.FORBIDDEN, "you watch this session; join it to write in its chat"
            )
        return session, "supervisor"

    async def note(self, agent: AgentIdentity, payload: m.SessionNote) -> None:
        """The agent's notes replace the previous ones; kept with the session's record."""
        session = await self.session_of_party(agent, payload.session_id)
        if session.state in WAITING_STATES:
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not in session {session.id}")

        def write(txn: Txn) -> LiveSession:
            live = txn.session(session.id)
            live.notes = payload.text
            return live

        # Acknowledged notes are recorded notes, even if this process dies right after the ack.
        live = await self.context.store.atomically(write, sessions=[session.id])
        await self.context.writer.save_and_wait(live)

    async def note_screenshot(
        self, session_id: str, *, actor: Actor, at: float, detail: dict[str, Any]
    ) -> None:
        """A screenshot was kept with the session's record: a ``screenshot`` line in its
        timeline. A session that ended in between keeps the screenshot listed with its record."""

        def write(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            audit(live, "screenshot", actor=actor, at=at, detail=detail)
            return live

        try:
            self.context.writer.save(
                await self.context.store.atomically(write, sessions=[session_id])
            )
        except ProtocolError:
            log.info("screenshot.after_end", session_id=session_id)

    async def rate(self, device: DeviceIdentity, rate: m.SessionRate) -> None:
        """Store the customer's rating (and comment) with the session's record, once the session
        is over, and show them to the session's agent in their wrap-up (``session.rated``)."""
        session_id = rate.session_id
        live = await self.context.store.get_session(session_id)
        if live is not None and live.device_id != device.id:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no ended session {session_id} of yours")
        if live is not None and live.state is not SessionState.ENDED:
            raise ProtocolError(ErrorCode.CONFLICT, "rate the session after it has ended")
        await self.context.writer.flush()
        if not await self.context.records.rate_session(
            session_id,
            device.id,
            rate.rating,
            at=self.context.clock(),
            device_name=device.name,
            comment=rate.comment,
            solved=rate.solved,
        ):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no ended session {session_id} of yours")
        log.info("session.rated", session_id=session_id, device_id=device.id, rating=rate.rating)
        if live is None:  # gone from the live store already: the record knows the agent
            row = await self.context.records.session(session_id)
            agent_id = row.agent_id if row is not None else None
        else:
            agent_id = live.agent_id
        if agent_id is not None:
            await self.context.emit.send(
                "agent",
                agent_id,
                Event.SESSION_RATED,
                m.SessionRated(
                    session_id=session_id,
                    rating=rate.rating,
                    comment=rate.comment,
                    solved=rate.solved,
                ),
            )
