"""Pushing the queue to agents and tickets to customers.

Each process pushes to the sockets it holds (agents connected to it, devices whose socket it
holds), through python-socketio without the Redis queue; what changed elsewhere reaches it through
the sweeper's periodic push. Pushes are coalesced over a short window and deduplicated, so a burst
of changes costs one push and an unchanged queue costs none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from .. import estimate
from ..hours import DeskHours
from ..live import ops
from ..live.records import WAITING_STATES, AgentPresence, LiveSession, SessionState, Stats
from ..live.roster import AgentRoster
from ..routing import Coverage
from .context import DeskContext

__all__ = ["QUEUE_ENTRIES_SHOWN", "QueuePublisher", "queue_entry", "queue_recipients"]

QUEUE_PUBLISH_DELAY_S = 0.05
"""Queue and ticket pushes are coalesced over this window, so a burst costs one push."""
SHARED_QUEUE_PUBLISH_DELAY_S = 0.25
"""The same with a shared store, where reading the queue means parsing it from Redis."""
QUEUE_ENTRIES_SHOWN = 200
TICKET_EXACT_POSITIONS = 50
"""Customers this near the front see every move of their place at once (see :func:`_due`)."""
TICKET_REFRESH_PER_POSITION_S = 0.01
TICKET_REFRESH_MAX_S = 30.0
PUSH_CHUNK = 200
"""Tickets worked out between two turns of the event loop during a push."""
QUEUE_IN_SESSION_REFRESH_S = 2.0
"""An agent in a session gets ``queue.update`` at most this often (the latest queue then): they
cannot take anyone meanwhile, and on a desk of a thousand agents, most in a session, pushing them
every change would cost more than all the routing."""
PUSH_DUTY = 4.0
"""The next push waits at least this many times what the last one took: a push of a big queue
takes at most about a fifth of the process's time, whatever the queue's length."""


@dataclass(eq=False)
class QueuePublisher:
    context: DeskContext
    _pending: bool = field(default=False, init=False)
    _last_ticket: dict[str, _Sent[_TicketKey]] = field(default_factory=dict, init=False)
    _last_queue_update: m.QueueUpdate | None = field(default=None, init=False)
    _queue_version: int = field(default=0, init=False)
    """Counts the changes of ``_last_queue_update``."""
    _agents_sent: dict[str, _Sent[int]] = field(default_factory=dict, init=False)
    """The version of the queue each agent here was last sent, and when."""
    _held: set[str] = field(default_factory=set, init=False)
    _last_cost_s: float = field(default=0.0, init=False)
    """What the last push took, in seconds (the next one waits ``PUSH_DUTY`` times that)."""
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
        """Push the queue and tickets soon; requests within the window make one push.

        The window grows with what the last push cost (``PUSH_DUTY``): a big queue is pushed
        less often, so pushing never takes more than a share of the process's time."""
        if self._pending:
            return
        self._pending = True
        delay = SHARED_QUEUE_PUBLISH_DELAY_S if self.context.store.shared else QUEUE_PUBLISH_DELAY_S
        delay = max(delay, self._last_cost_s * PUSH_DUTY)
        self.context.background.call_later("queue-publish", delay, self._publish)

    async def _publish(self) -> None:
        self._pending = False
        started = time.perf_counter()
        waiting = await self.context.store.waiting()
        roster = await self.context.store.roster()
        stats = await self.context.store.stats()
        maker = _TicketMaker(roster, stats, self._routing())
        now = time.monotonic()
        next_due: float | None = None  # the soonest a held-back place is due
        for index, session in enumerate(waiting):
            if index % PUSH_CHUNK == PUSH_CHUNK - 1:
                await asyncio.sleep(0)  # a ring or an accept waits for one chunk at most
            if session.device_node != self.context.node or session.id in self._held:
                continue  # the process holding that device's socket tells it
            position = index + 1
            key = maker.key(session, position)
            last = self._last_ticket.get(session.id)
            if last is not None and not _due(last, key, position, now):
                if key != last.key:
                    due_at = last.at + _refresh_s(position)
                    next_due = due_at if next_due is None else min(next_due, due_at)
                continue
            ticket = maker.ticket(session, key)
            self._arm_wakes(ticket)
            self._last_ticket[session.id] = _Sent(key, now)
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
        update = _queue_update(waiting, roster, stats, self._routing(), maker.coverage)
        if update != self._last_queue_update:
            self._last_queue_update = update
            self._queue_version += 1
        agents_due = await self._push_queue(update, roster.agents(), now)
        self._last_cost_s = time.perf_counter() - started
        due = [at for at in (next_due, agents_due) if at is not None]
        if due:
            # Places held back (and agents in a session) are pushed when due, even if nothing
            # else moves meanwhile.
            self.context.background.call_later(
                "queue-refresh", max(0.0, min(due) - time.monotonic()), self._refresh
            )

    async def _push_queue(
        self, update: m.QueueUpdate, agents: list[AgentPresence], now: float
    ) -> float | None:
        """Send the queue to the agents here who are due it; returns when the next agent held
        back is due, if any (see :func:`queue_recipients`)."""
        recipients, next_due = queue_recipients(
            agents, self._agents_sent, version=self._queue_version, node=self.context.node, now=now
        )
        await self.context.emit.send_local_many("agent", recipients, Event.QUEUE_UPDATE, update)
        return next_due

    async def _refresh(self) -> None:
        self.request()

    async def snapshot(self) -> m.QueueUpdate:
        waiting = await self.context.store.waiting()
        roster = await self.context.store.roster()
        return _queue_update(
            waiting,
            roster,
            await self.context.store.stats(),
            self._routing(),
            roster.kept(Coverage.of_roster),
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
        roster = await self.context.store.roster()
        maker = _TicketMaker(roster, await self.context.store.stats(), self._routing())
        key = maker.key(session, position)
        ticket = maker.ticket(session, key)
        self._arm_wakes(ticket)
        self._last_ticket[ticket.id] = _Sent(key, time.monotonic())
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


_TicketKey = tuple[
    Literal["queued", "ringing"],
    int,
    int | None,
    int,
    bool,
    float | None,
    bool,
    float | None,
    tuple[float, int, int] | None,
]
"""What the customer sees of a ticket (:meth:`_TicketMaker.key`): a push only when it changed."""
_POSITION, _WAIT = 1, 2
"""The parts of a ticket's key that move whenever anyone ahead is served."""
_Key = TypeVar("_Key")


@dataclass(frozen=True)
class _Sent(Generic[_Key]):
    key: _Key
    """What was sent: a ticket's key, or the version of the queue an agent was sent."""
    at: float
    """``time.monotonic()`` of the push."""


def queue_recipients(
    agents: list[AgentPresence],
    sent: dict[str, _Sent[int]],
    *,
    version: int,
    node: str,
    now: float,
) -> tuple[list[str], float | None]:
    """The agents connected to ``node`` who are sent this ``version`` of the queue now, and when
    the next one held back is due (``None``: nobody is).

    Every agent gets each version once; an agent in a session at most every
    ``QUEUE_IN_SESSION_REFRESH_S``, then the latest. ``sent`` (agent id → the version sent and
    when) is updated for the recipients and forgets the agents no longer connected here."""
    recipients: list[str] = []
    next_due: float | None = None
    here: set[str] = set()
    for agent in agents:
        if agent.node != node or not agent.connected:
            continue
        here.add(agent.agent_id)
        last = sent.get(agent.agent_id)
        if last is not None and last.key == version:
            continue
        if agent.session_id is not None and last is not None:
            due_at = last.at + QUEUE_IN_SESSION_REFRESH_S
            if now < due_at:
                next_due = due_at if next_due is None else min(next_due, due_at)
                continue
        recipients.append(agent.agent_id)
        sent[agent.agent_id] = _Sent(version, now)
    for gone in [agent_id for agent_id in sent if agent_id not in here]:
        del sent[gone]
    return recipients, next_due


def _due(last: _Sent[_TicketKey], key: _TicketKey, position: int, now: float) -> bool:
    """Whether a ticket that changed since ``last`` is pushed now.

    Anything but the place and the wait is pushed at once. The place and the wait alone are, near
    the front; further back a customer sees them refreshed every ``position`` hundredths of a
    second (at most ``TICKET_REFRESH_MAX_S``): at place 3,000 the place moves by a few every half
    minute, and 10,000 waiting customers cost hundreds of pushes a second, not tens of thousands.
    """
    if key == last.key:
        return False
    moved = key[:_POSITION] + key[_WAIT + 1 :] == last.key[:_POSITION] + last.key[_WAIT + 1 :]
    if not moved or position <= TICKET_EXACT_POSITIONS:
        return True
    return now - last.at >= _refresh_s(position)


def _refresh_s(position: int) -> float:
    """How often a place this far back is refreshed when it only moved (see :func:`_due`)."""
    return min(TICKET_REFRESH_MAX_S, position * TICKET_REFRESH_PER_POSITION_S)


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


class _TicketMaker:
    """Each customer's ticket for one push: the wait counts only the agents who can serve that
    customer (language and topic; every agent once routing widened), and is unknown while nobody
    can or too little has been observed.

    The key (what the customer sees) comes first and costs a few lookups; the ticket itself is
    built only for the tickets that are pushed."""

    def __init__(self, roster: AgentRoster, stats: Stats, routing: _Routing) -> None:
        self.coverage = roster.kept(Coverage.of_roster)
        self._roster = roster
        self._stats = stats
        self._routing = routing
        self._free_in: dict[int, int] = {}
        """Free agents of each list coverage hands out, by its id."""

    def key(self, session: LiveSession, position: int) -> _TicketKey:
        routing, coverage = self._routing, self.coverage
        # Nobody signed in at all is "nobody available" (agents_online 0), not a mismatch.
        widen_at = coverage.widens_at(session, overflow_s=routing.overflow_s)
        widened = widen_at is not None and routing.now >= widen_at
        serving = coverage.staffed if widened else coverage.serving(session)
        # An agent being rung is about to take a customer: count them with the free ones (as
        # they are now: the coverage's records are as they were when it was made).
        free = self._free_in.get(id(serving))
        if free is None:
            free = self._free_in[id(serving)] = self._free_among(serving)
        ringing = session.state is SessionState.RINGING
        wait: float | None
        if ringing or 0 < position <= free:
            wait = 0.0
        elif self._stats.handled < MIN_HANDLED_FOR_ESTIMATE:
            wait = None
        else:
            wait = estimate.wait_at_position(
                position,
                staffed=len(serving),
                free=free,
                handling_time_s=self._stats.handling_time_s,
            )
        callback = None
        if session.callback_at is not None:
            tries_left = max(0, routing.callback_retries - session.callback_missed)
            callback = (session.callback_at, session.callback_missed, tries_left)
        return (
            "ringing" if ringing else "queued",
            position,
            None if wait is None else round(wait),
            len(serving),
            widen_at is None,
            None if widened else widen_at,
            widened,
            # Closed, and nobody signed in to serve anyway (a desk working late serves on).
            routing.opens_at if not coverage.staffed else None,
            callback,
        )

    def _free_among(self, agents: list[AgentPresence]) -> int:
        free = 0
        for agent in agents:
            current = self._roster.get(agent.agent_id)
            free += current is not None and (current.routable or current.ring_id is not None)
        return free

    @staticmethod
    def ticket(session: LiveSession, key: _TicketKey) -> m.Ticket:
        state, position, wait, online, matched, widens_at, widened, opens_at, callback = key
        return m.Ticket(
            id=session.id,
            state=state,
            position=position,
            estimated_wait_s=wait,
            agents_online=online,
            matched=matched,
            widens_at=widens_at,
            widened=widened,
            opens_at=opens_at,
            callback=None
            if callback is None
            else m.CallbackInfo(
                requested_at=callback[0], missed=callback[1], tries_left=callback[2]
            ),
        )


def _queue_update(
    waiting: list[LiveSession],
    roster: AgentRoster,
    stats: Stats,
    routing: _Routing,
    coverage: Coverage,
) -> m.QueueUpdate:
    now = routing.now
    staffed = len(roster.staffed)
    free = len(roster.free())
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
