"""Pushing the queue to agents and tickets to customers.

Each process pushes to the sockets it holds (agents connected to it, devices whose socket it
holds), through python-socketio without the Redis queue; what changed elsewhere reaches it through
the sweeper's periodic push. Pushes are coalesced over a short window and deduplicated, so a burst
of changes costs one push and an unchanged queue costs none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from .. import estimate
from ..hours import DeskHours
from ..live import ops
from ..live.records import WAITING_STATES, AgentPresence, LiveSession, SessionState, Stats
from ..routing import Coverage
from .context import DeskContext

__all__ = ["QUEUE_ENTRIES_SHOWN", "QueuePublisher", "queue_entry"]

QUEUE_PUBLISH_DELAY_S = 0.05
"""Queue and ticket pushes are coalesced over this window, so a burst costs one push."""
SHARED_QUEUE_PUBLISH_DELAY_S = 0.25
"""The same with a shared store, where reading the queue means parsing it from Redis."""
QUEUE_ENTRIES_SHOWN = 200


@dataclass(eq=False)
class QueuePublisher:
    context: DeskContext
    _pending: bool = field(default=False, init=False)
    _last_ticket: dict[str, _TicketKey] = field(default_factory=dict, init=False)
    _last_queue_update: m.QueueUpdate | None = field(default=None, init=False)
    _held: set[str] = field(default_factory=set, init=False)
    on_wake: Callable[[], None] | None = None
    """Asks for a routing pass (set by the desk): at a wake-up, routing may ring someone new."""

    def hold(self, session_id: str) -> None:
        """Push nothing for this ticket until :meth:`release`: its first ``ticket.update`` is
        sent by whoever holds it, after what must come first (``session.ended`` of the session
        a requeued ticket replaces)."""
        self._held.add(session_id)

    def release(self, session_id: str) -> None:
        self._held.discard(session_id)

    def forget_ticket(self, session_id: str) -> None:
        """The next push re-sends this ticket (its device reconnected)."""
        self._last_ticket.pop(session_id, None)

    def request(self) -> None:
        """Push the queue and tickets soon; requests within the window make one push."""
        if self._pending:
            return
        self._pending = True
        delay = SHARED_QUEUE_PUBLISH_DELAY_S if self.context.store.shared else QUEUE_PUBLISH_DELAY_S
        self.context.background.call_later("queue-publish", delay, self._publish)

    async def _publish(self) -> None:
        self._pending = False
        waiting = await self.context.store.waiting()
        agents = await self.context.store.agents()
        stats = await self.context.store.stats()
        tickets = _tickets(waiting, agents, stats, self._routing())
        for session, ticket in zip(waiting, tickets, strict=True):
            if session.device_node != self.context.node or ticket.id in self._held:
                continue  # the process holding that device's socket tells it
            self._arm_wakes(ticket)
            key = _ticket_key(ticket)
            if self._last_ticket.get(ticket.id) != key:
                self._last_ticket[ticket.id] = key
                await self.context.emit.send(
                    "device",
                    session.device_id,
                    Event.TICKET_UPDATE,
                    m.TicketUpdate(ticket=ticket),
                    local=True,
                )
        waiting_ids = {s.id for s in waiting}
        for stale in [k for k in self._last_ticket if k not in waiting_ids]:
            del self._last_ticket[stale]
        update = _queue_update(waiting, agents, stats, self._routing())
        if update != self._last_queue_update:
            self._last_queue_update = update
            await self.context.emit.broadcast_agents(Event.QUEUE_UPDATE, update)

    async def snapshot(self) -> m.QueueUpdate:
        waiting = await self.context.store.waiting()
        return _queue_update(
            waiting,
            await self.context.store.agents(),
            await self.context.store.stats(),
            self._routing(),
        )

    def _routing(self) -> _Routing:
        """What a push needs to know of the clock, the overflow and the opening hours."""
        settings, now = self.context.settings, self.context.clock()
        opens_at = DeskHours.of(settings.opening_hours, settings.time_zone).opens_at(now)
        return _Routing(
            now=now,
            overflow_s=settings.overflow_s,
            callback_retries=settings.callback_retries,
            opens_at=opens_at,
        )

    def _arm_wakes(self, ticket: m.Ticket) -> None:
        """The ticket changes by itself when routing widens or the desk opens: push then."""
        if ticket.widens_at is not None:
            self.wake_at(ticket.widens_at, f"{ticket.id}:widens")
        if ticket.opens_at is not None:
            self.wake_at(ticket.opens_at, f"{ticket.id}:opens")

    def wake_at(self, at: float, key: str) -> None:
        """Route and push again at ``at``: routing widens, or the desk opens, then."""
        delay = max(0.0, at - self.context.clock()) + WAKE_MARGIN_S

        async def wake() -> None:
            self.request()
            if self.on_wake is not None:
                self.on_wake()

        self.context.background.call_later(("wake", key), delay, wake)

    async def refresh_gauges(self) -> None:
        """Set the state gauges from the store; called when /metrics is scraped."""
        sessions = await self.context.store.live_sessions()
        for state in SessionState:
            self.context.metrics.sessions.labels(state=state.value).set(
                sum(1 for s in sessions if s.state is state)
            )
        self.context.metrics.queue_length.set(sum(1 for s in sessions if s.state in WAITING_STATES))
        agents = await self.context.store.agents()
        for status in ("available", "away"):
            self.context.metrics.agents.labels(status=status).set(
                sum(1 for a in agents if a.connected and a.status == status)
            )

    async def ticket_of(self, session_id: str) -> m.Ticket:
        """One customer's ticket, from the queue index: no need to read the whole queue."""
        session = await self.context.store.get_session(session_id)
        position = await self.context.store.position(session_id)
        if session is None or position is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"ticket {session_id} is no longer waiting")
        agents = await self.context.store.agents()
        routing = self._routing()
        ticket = _tickets([session], agents, await self.context.store.stats(), routing, position)[0]
        self._arm_wakes(ticket)
        self._last_ticket[ticket.id] = _ticket_key(ticket)
        return ticket


WAKE_MARGIN_S = 0.05
"""A wake-up timer fires this much after its moment, so the clock has surely passed it."""


@dataclass(frozen=True)
class _Routing:
    now: float
    overflow_s: float
    callback_retries: int
    opens_at: float | None
    """When the desk opens next, while it is closed (``server/hours.py``)."""


_TicketKey = tuple[object, ...]


def _ticket_key(ticket: m.Ticket) -> _TicketKey:
    """What the customer sees of a ticket: a push only when it changed."""
    callback = ticket.callback
    return (
        ticket.state,
        ticket.position,
        ticket.estimated_wait_s,
        ticket.agents_online,
        ticket.matched,
        ticket.widens_at,
        ticket.widened,
        ticket.opens_at,
        None if callback is None else (callback.missed, callback.tries_left),
    )


def queue_entry(session: LiveSession, position: int, *, widened: bool = False) -> m.QueueEntry:
    return m.QueueEntry(
        ticket_id=session.id,
        topic=session.topic,
        locale=session.locale,
        device_name=session.device_name,
        state="ringing" if session.state is SessionState.RINGING else "queued",
        position=position,
        waiting_since=session.pressed_at,
        kind=session.device_kind,
        handed_on=session.handed_on,
        callback=session.callback_at is not None,
        widened=widened,
    )


MIN_HANDLED_FOR_ESTIMATE = 3
"""Sessions handled before a wait is estimated: until then the handling time is a guess, and
customers are told the wait is unknown rather than a made-up number."""


def _tickets(
    waiting: list[LiveSession],
    agents: list[AgentPresence],
    stats: Stats,
    routing: _Routing,
    first_position: int = 1,
) -> list[m.Ticket]:
    """Each customer's ticket: the wait counts only the agents who can serve that customer
    (language and topic; every agent once routing widened), and is unknown while nobody can or
    too little has been observed."""
    tickets = []
    coverage = Coverage(agents)
    free_in: dict[int, int] = {}  # free agents of each list coverage hands out, by its id
    for index, session in enumerate(waiting):
        # Nobody signed in at all is "nobody available" (agents_online 0), not a mismatch.
        widen_at = coverage.widens_at(session, overflow_s=routing.overflow_s)
        widened = widen_at is not None and routing.now >= widen_at
        serving = coverage.staffed if widened else coverage.serving(session)
        position = index + first_position
        # An agent being rung is about to take a customer: count them with the free ones.
        free = free_in.get(id(serving))
        if free is None:
            free = free_in[id(serving)] = sum(1 for a in serving if a.routable or a.ring_id)
        if session.state is SessionState.RINGING or 0 < position <= free:
            wait: float | None = 0.0
        elif stats.handled < MIN_HANDLED_FOR_ESTIMATE:
            wait = None
        else:
            wait = estimate.wait_at_position(
                position, staffed=len(serving), free=free, handling_time_s=stats.handling_time_s
            )
        tickets.append(
            m.Ticket(
                id=session.id,
                state="ringing" if session.state is SessionState.RINGING else "queued",
                position=index + first_position,
                estimated_wait_s=None if wait is None else round(wait),
                agents_online=len(serving),
                matched=widen_at is None,
                widens_at=None if widened else widen_at,
                widened=widened,
                # Closed, and nobody signed in to serve anyway (a desk working late serves on).
                opens_at=routing.opens_at if not coverage.staffed else None,
                callback=_callback(session, routing),
            )
        )
    return tickets


def _callback(session: LiveSession, routing: _Routing) -> m.CallbackInfo | None:
    if session.callback_at is None:
        return None
    return m.CallbackInfo(
        requested_at=session.callback_at,
        missed=session.callback_missed,
        tries_left=max(0, routing.callback_retries - session.callback_missed),
    )


def _queue_update(
    waiting: list[LiveSession], agents: list[AgentPresence], stats: Stats, routing: _Routing
) -> m.QueueUpdate:
    now = routing.now
    staffed = sum(1 for a in agents if a.staffed)
    free = sum(1 for a in agents if a.routable)
    wait = (
        None
        if stats.handled < MIN_HANDLED_FOR_ESTIMATE
        else estimate.wait_for_new_arrival(
            staffed=staffed,
            free=free,
            queued=len(waiting),
            arrival_rate=ops.arrival_rate(stats, now),
            handling_time_s=stats.handling_time_s,
        )
    )
    coverage = Coverage(agents)
    return m.QueueUpdate(
        length=len(waiting),
        entries=[
            queue_entry(
                s,
                position=i + 1,
                widened=coverage.widened(s, now=now, overflow_s=routing.overflow_s),
            )
            for i, s in enumerate(waiting[:QUEUE_ENTRIES_SHOWN])
        ],
        agents_available=free,
        estimated_wait_s=None if wait is None else round(wait, 1),
    )
