"""The supervisors' live wallboard: the queue, every account and what it is doing, and the desk's
figures for today, the last hour and each hour of today (``server/figures.py``).

One :class:`LiveWallboard` per server process (the desk's ``wallboard``). Supervisors subscribe
with ``wallboard.subscribe``; each process keeps its own subscribed sockets and, while it has any,
recomputes the picture from the live store about once a second (:data:`PUSH_INTERVAL_S`) and pushes
``wallboard.update`` to each socket whose last picture differs. Recomputing from the store rather
than hearing of changes is what makes the changes of every process sharing a Redis store reach this
process's supervisors. The records (the sessions of today, the accounts) are read at most every
:data:`RECORDS_REFRESH_S`, and at once when a live session is gone (it ended): the live store's
sessions are laid over them in between. A failed recompute is logged and tried again on the next
tick; it never reaches the sockets.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import structlog

from signaling import ACCOUNT_ROLES, AccountRole, Event
from signaling import models as m

from ..figures import (
    HOUR_S,
    SessionFacts,
    facts_of_rows,
    figures,
    hourly_figures,
    local_midnight,
    merge_live,
    timezone_name,
)
from ..identity import AgentIdentity
from ..live.records import WAITING_STATES, AgentPresence, LiveSession
from ..tables import AgentRow
from .context import DeskContext
from .queue import QUEUE_ENTRIES_SHOWN, queue_entry

__all__ = ["PUSH_INTERVAL_S", "RECORDS_REFRESH_S", "LiveWallboard", "agent_state"]

log = structlog.get_logger("mayday.wallboard")

_ROLES: dict[str, AccountRole] = {role: role for role in ACCOUNT_ROLES}

PUSH_INTERVAL_S = 1.0
"""How often a process with subscribers recomputes the wallboard (and pushes it if it changed)."""
RECORDS_REFRESH_S = 5.0
"""How old the records read for the figures (today's sessions, the accounts) may get."""
FAILURE_BACKOFF_S = 5.0
"""Pause after a failed recompute (the store or the database away)."""


def agent_state(presence: AgentPresence | None) -> m.AgentDeskState:
    """What the wallboard shows an account doing; no presence (or a lost socket): offline."""
    if presence is None or not presence.connected:
        return "offline"
    if presence.session_id is not None:
        return "in_session"
    if presence.ring_id is not None:
        return "ringing"
    if presence.wrapup_until is not None:
        return "wrapup"
    return presence.status


@dataclass
class _Recorded:
    """What was last read from the records, and when."""

    read_at: float
    midnight: float
    facts: list[SessionFacts]
    accounts: list[AgentRow]


@dataclass(eq=False)
class LiveWallboard:
    context: DeskContext
    _subscribers: dict[str, str] = field(default_factory=dict, init=False)
    """Subscribed socket ids of this process, and the account each belongs to."""
    _last_sent: dict[str, Any] = field(default_factory=dict, init=False)
    """Per socket: what its last picture showed (:func:`_what_it_shows`)."""
    _recorded: _Recorded | None = field(default=None, init=False)
    _live_ids: set[str] = field(default_factory=set, init=False)
    _running: bool = field(default=False, init=False)

    # --- subscriptions ----------------------------------------------------------------------------

    async def subscribe(self, agent: AgentIdentity, sid: str) -> m.Wallboard:
        """The picture now; pushes follow to ``sid`` while it changes."""
        board = await self.current()
        self._subscribers[sid] = agent.id
        self._last_sent[sid] = _what_it_shows(board)
        if not self._running:
            self._running = True
            self.context.background.spawn(self._push_loop(), name="wallboard")
        log.info("wallboard.subscribed", agent_id=agent.id, subscribers=len(self._subscribers))
        return board

    async def unsubscribe_event(self, agent: AgentIdentity, sid: str) -> None:
        """``wallboard.unsubscribe``."""
        self.unsubscribe(sid)

    def unsubscribe(self, sid: str) -> None:
        """No more pushes to ``sid`` (also when it disconnects)."""
        if self._subscribers.pop(sid, None) is not None:
            log.info("wallboard.unsubscribed", subscribers=len(self._subscribers))
        self._last_sent.pop(sid, None)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def _push_loop(self) -> None:
        try:
            while self._subscribers:
                await asyncio.sleep(PUSH_INTERVAL_S)
                if not self._subscribers:
                    break
                try:
                    await self._push()
                except Exception:
                    log.exception("wallboard.recompute_failed")
                    await asyncio.sleep(FAILURE_BACKOFF_S)
        finally:
            self._running = False

    async def _push(self) -> None:
        board = await self.current()
        shown = _what_it_shows(board)
        data = board.model_dump(mode="json")
        for sid, agent_id in list(self._subscribers.items()):
            if self._last_sent.get(sid) == shown or sid not in self._subscribers:
                continue
            self._last_sent[sid] = shown
            await self.context.emit.send_raw(
                "agent", agent_id, Event.WALLBOARD_UPDATE, data, local=True
            )

    # --- the picture ------------------------------------------------------------------------------

    async def current(self) -> m.Wallboard:
        """The wallboard as it stands now."""
        store = self.context.store
        now = self.context.clock()
        live = await store.live_sessions()
        presences = {presence.agent_id: presence for presence in await store.agents()}
        recorded = await self._records(now, live)
        service_level_s = self.context.settings.service_level_s
        midnight = recorded.midnight
        facts = merge_live(recorded.facts, live, min(midnight, now - HOUR_S), now + 1.0)
        hours = hourly_figures(facts, midnight, now=now, service_level_s=service_level_s)
        return m.Wallboard(
            at=now,
            service_level_s=service_level_s,
            timezone=timezone_name(),
            queue=await self._queue(),
            queue_length=sum(1 for session in live if session.state in WAITING_STATES),
            agents=await self._agents(recorded.accounts, presences, facts, midnight),
            today=figures(facts, midnight, now, now=now, service_level_s=service_level_s),
            last_hour=figures(facts, now - HOUR_S, now, now=now, service_level_s=service_level_s),
            hours=hours,
        )

    async def _records(self, now: float, live: list[LiveSession]) -> _Recorded:
        """Today's sessions and the accounts from the records, read again when they are
        :data:`RECORDS_REFRESH_S` old, a new day began, or a live session is gone (ended).

        The last hour may reach back before midnight: it is read from there too."""
        live_ids = {session.id for session in live}
        gone = bool(self._live_ids - live_ids)
        self._live_ids = live_ids
        midnight = local_midnight(now)
        recorded = self._recorded
        if (
            recorded is None
            or gone
            or recorded.midnight != midnight
            or now - recorded.read_at >= RECORDS_REFRESH_S
            or now < recorded.read_at
        ):
            records = self.context.records
            since = min(midnight, now - HOUR_S)
            rows = await records.sessions_created_between(since, now + 1.0)
            recorded = _Recorded(
                read_at=now,
                midnight=midnight,
                facts=facts_of_rows(rows),
                accounts=await records.list_agents(),
            )
            self._recorded = recorded
        return recorded

    async def _queue(self) -> list[m.WallboardTicket]:
        waiting = await self.context.store.waiting(limit=QUEUE_ENTRIES_SHOWN)
        tickets = []
        for index, session in enumerate(waiting):
            entry = queue_entry(session, position=index + 1)
            tickets.append(
                m.WallboardTicket(
                    ticket_id=entry.ticket_id,
                    position=entry.position,
                    waiting_since=entry.waiting_since,
                    locale=entry.locale,
                    language=session.language,
                    topic=entry.topic,
                    kind="callback" if entry.callback else "live",
                    state=entry.state,
                    customer=m.WallboardCustomer(
                        id=session.device_id, name=entry.device_name, kind=entry.kind
                    ),
                )
            )
        return tickets

    async def _agents(
        self,
        accounts: list[AgentRow],
        presences: dict[str, AgentPresence],
        facts: list[SessionFacts],
        midnight: float,
    ) -> list[m.WallboardAgent]:
        taken: dict[str, int] = {}
        for leg in facts:
            if leg.agent_id is not None and (leg.accepted_at or 0.0) >= midnight:
                taken[leg.agent_id] = taken.get(leg.agent_id, 0) + 1
        board = []
        for account in accounts:
            presence = presences.get(account.id)
            state = agent_state(presence)
            since = None
            if presence is not None:
                since = presence.status_since
                if state == "offline" and presence.lost_at is not None:
                    since = presence.lost_at
            session_id = None
            if presence is not None and state in ("in_session", "ringing"):
                session_id = presence.session_id or await self._rung_session(presence)
            board.append(
                m.WallboardAgent(
                    id=account.id,
                    name=account.shown_name,
                    role=_ROLES.get(account.role, "agent"),
                    state=state,
                    since=since,
                    session_id=session_id,
                    sessions_today=taken.get(account.id, 0),
                )
            )
        board.sort(key=lambda agent: (agent.name.casefold(), agent.id))
        return board

    async def _rung_session(self, presence: AgentPresence) -> str | None:
        """The session an agent is being rung for."""
        if presence.ring_id is None:
            return None
        ring = await self.context.store.get_ring(presence.ring_id)
        return None if ring is None else ring.session_id


def _what_it_shows(board: m.Wallboard) -> Any:
    """The picture without what moves with the clock alone (its time, the ends of the windows
    that end now, the start of the last hour): a push only when something else changed."""
    data = board.model_dump(mode="json")
    data.pop("at", None)
    for key in ("today", "last_hour"):
        data[key].pop("start" if key == "last_hour" else "end", None)
        data[key].pop("end", None)
    if data["hours"]:
        data["hours"][-1].pop("end", None)
    return data
