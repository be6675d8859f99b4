"""The help desk's operations on live records, as pure functions over a :class:`Txn`.

Each function checks everything it relies on (the ring still belongs to this agent, the session is
still waiting, ...) before it changes anything, raising :class:`ProtocolError` otherwise, so the store
can run it atomically and another process's concurrent change shows up as a refusal, not a
corruption. Audit events are appended to the session's timeline through :mod:`.machine`.
"""

from __future__ import annotations

import math

from signaling import ErrorCode, ProtocolError

from .control import change_control
from .machine import audit, transition
from .records import (  # an import list: the stores (memory.py, redis.py) name the same types
    Actor,
    AgentPresence,
    ControlState,
    LiveSession,
    RingRecord,
    SessionState,
    Stats,
)
from .store import StaleRead, Txn

__all__ = [
    "AGENT_LOST",
    "ARRIVAL_TAU_S",
    "CALLBACK_MISSES",
    "HANDLING_TIME_WEIGHT",
    "REQUEUE_PRIORITY_S",
    "accept_ring",
    "close_ring",
    "end_session",
    "end_wrapup",
    "mark_active",
    "note_arrival",
    "note_handling_time",
    "open_ring",
    "request_callback",
    "requeue_session",
    "take_ticket",
]

S = SessionState
ARRIVAL_TAU_S = 900.0
"""Time constant of the decayed arrival rate: about the last quarter hour counts."""
HANDLING_TIME_WEIGHT = 0.2
"""Weight of the newest session in the handling-time average."""
AGENT_LOST = "agent_lost"
"""End reason of a session whose agent did not come back within the grace period."""
CALLBACK_MISSES = frozenset({"timeout", "callback_declined"})
"""How a callback's ring ends when the customer lets it pass or says "not now"."""
REQUEUE_PRIORITY_S = 1e9
"""How far ahead of its first press a requeued ticket is scored (about 32 years): ahead of every
customer not yet served, and requeued customers among themselves in the order they first pressed."""


def open_ring(
    txn: Txn, session_id: str, agent_id: str, ring_id: str, *, now: float, timeout_s: float
) -> tuple[LiveSession, AgentPresence, RingRecord]:
    """Offer a queued customer to an available agent: exactly one ring per agent and per session."""
    session, agent = txn.session(session_id), txn.agent(agent_id)
    if session.state is not S.QUEUED or not session.device_connected:
        raise ProtocolError(ErrorCode.CONFLICT, f"session {session_id} is not waiting to be rung")
    if not agent.routable:
        raise ProtocolError(ErrorCode.CONFLICT, f"agent {agent_id} cannot take a ring now")
    callback = session.callback_at is not None
    reason = f"calling the customer back for {agent.name}" if callback else f"ringing {agent.name}"
    transition(session, S.RINGING, actor=Actor.system(), at=now, reason=reason)
    session.ring_id = ring_id
    agent.ring_id = ring_id
    agent.status_since = now
    ring = RingRecord(
        ring_id=ring_id,
        session_id=session_id,
        agent_id=agent_id,
        started_at=now,
        expires_at=now + timeout_s,
        callback=callback,
    )
    txn.rings[ring_id] = ring
    return session, agent, ring


def accept_ring(
    txn: Txn, ring_id: str, agent_id: str, *, now: float, by: Actor | None = None
) -> LiveSession:
    """The agent takes the ring (or, for a callback, the customer ``by`` answers it): the session
    starts connecting and the agent is busy."""
    ring = txn.ring(ring_id)
    if ring.agent_id != agent_id:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"ring {ring_id} was offered to another agent")
    if now > ring.expires_at:
        raise ProtocolError(ErrorCode.CONFLICT, f"ring {ring_id} has timed out")
    session, agent = txn.session(ring.session_id), txn.agent(agent_id)
    if session.ring_id != ring_id or agent.ring_id != ring_id:
        raise ProtocolError(ErrorCode.CONFLICT, f"ring {ring_id} is no longer current")
    reason = "callback answered" if ring.callback else "ring accepted"
    transition(session, S.CONNECTING, actor=by or _agent_actor(agent), at=now, reason=reason)
    session.ring_id = None
    session.agent_id = agent.agent_id
    session.agent_name = agent.name
    agent.ring_id = None
    agent.session_id = session.id
    agent.status_since = now
    txn.rings[ring_id] = None
    return session


def close_ring(
    txn: Txn, ring_id: str, *, reason: str, actor: Actor, now: float
) -> tuple[RingRecord, LiveSession | None, AgentPresence | None]:
    """End a ring without an accept (declined, timed out, agent gone); the customer waits on.

    An agent who let a ring time out is set ``away``: they are not at their desk, and ringing
    them again would only keep the next customer waiting for another timeout.

    A callback's ring (§20.3) rings the customer while the agent is held: its ``timeout`` and
    ``callback_declined`` are the customer's, counted in ``callback_missed`` (the desk ends the
    ticket past the retries), and leave the agent available.
    """
    ring = txn.ring(ring_id)
    if ring.session_id not in txn.sessions or ring.agent_id not in txn.agents:
        raise StaleRead(f"ring {ring_id} was read without its session or agent")
    session = txn.sessions[ring.session_id]
    agent = txn.agents[ring.agent_id]
    if session is not None and session.ring_id == ring_id:
        session.ring_id = None
        if reason == "declined":
            session.declined_at[ring.agent_id] = now
        if ring.callback and reason in CALLBACK_MISSES:
            session.callback_missed += 1
            session.callback_missed_at = now
        if session.reserved_for == ring.agent_id:  # a handed-on customer: now anyone's
            session.reserved_for = session.reserved_until = None
        audit(
            session,
            f"ring.{reason}",
            actor=actor,
            at=now,
            reason=reason,
            detail={"agent_id": ring.agent_id},
        )
        if session.state is S.RINGING:
            transition(session, S.QUEUED, actor=actor, at=now, reason=f"ring {reason}")
    if agent is not None and agent.ring_id == ring_id:
        agent.ring_id = None
        agent.status_since = now
        if reason == "timeout" and not ring.callback:
            agent.status = "away"
    txn.rings[ring_id] = None
    return ring, session, agent


def request_callback(txn: Txn, session_id: str, *, actor: Actor, now: float) -> LiveSession:
    """The waiting customer chose "Call me back": off the line, with the place kept (the ticket
    stays in the queue; routing rings the customer instead of an agent). Asking twice changes
    nothing."""
    session = txn.session(session_id)
    if session.state is S.RINGING and session.callback_at is None:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"an agent is being connected to ticket {session_id} right now"
        )
    if session.state not in (S.QUEUED, S.RINGING):
        raise ProtocolError(ErrorCode.CONFLICT, f"ticket {session_id} is no longer waiting")
    if session.callback_at is None:
        session.callback_at = now
        audit(session, "callback.requested", actor=actor, at=now)
    return session


def take_ticket(txn: Txn, session_id: str, agent_id: str, *, now: float) -> LiveSession:
    """The agent takes a waiting customer from the queue by hand: the session starts connecting.

    Allowed for any waiting customer the agent sees, whatever routing would do (the agent declined
    them before, is set away, is wrapping up): taking is a deliberate act. Not while the customer
    is being rung (the ring decides), nor while the agent has a ring or a session of their own.
    """
    session, agent = txn.session(session_id), txn.agent(agent_id)
    if session.state is S.RINGING:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"ticket {session_id} is being rung at an agent right now"
        )
    if session.state is not S.QUEUED:
        raise ProtocolError(ErrorCode.CONFLICT, f"ticket {session_id} is no longer waiting")
    if session.callback_at is not None:
        raise ProtocolError(
            ErrorCode.CONFLICT,
            f"ticket {session_id} asked for a callback: the server rings the customer for the "
            "next free agent, who may be you",
        )
    if not session.device_connected:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"the customer of ticket {session_id} is disconnected right now"
        )
    if not agent.connected or agent.ring_id is not None or agent.session_id is not None:
        raise ProtocolError(
            ErrorCode.CONFLICT, "answer your ring or end your session before taking another"
        )
    actor = _agent_actor(agent)
    transition(
        session, S.RINGING, actor=actor, at=now, reason=f"taken from the queue by {agent.name}"
    )
    transition(session, S.CONNECTING, actor=actor, at=now, reason="taken from the queue")
    session.agent_id = agent.agent_id
    session.agent_name = agent.name
    agent.session_id = session.id
    agent.wrapup_until = None
    agent.status_since = now
    return session


def end_wrapup(txn: Txn, agent_id: str, *, now: float, done: bool) -> AgentPresence:
    """End the agent's wrap-up: they said they are ``done``, or its time is over (else refused,
    as :class:`StaleRead`, so a late timer after a new wrap-up changes nothing)."""
    agent = txn.agent(agent_id)
    if agent.wrapup_until is None or (not done and now < agent.wrapup_until):
        raise StaleRead(f"agent {agent_id} is not wrapping up, or not done yet")
    agent.wrapup_until = None
    agent.status_since = now
    return agent


def end_session(
    txn: Txn, session_id: str, *, actor: Actor, reason: str, now: float, wrapup_s: float = 0.0
) -> tuple[LiveSession, RingRecord | None]:
    """End a session in any state but ``ended``: cancels its ring and frees its agent.

    An agent who served the session (it was accepted) goes into wrap-up for ``wrapup_s``: no
    rings until they are done (:func:`end_wrapup`) or the time passes.
    """
    session = txn.session(session_id)
    served = session.state in (S.CONNECTING, S.ACTIVE)
    ring = txn.rings.get(session.ring_id) if session.ring_id else None
    linked_agents = [session.agent_id, ring.agent_id if ring else None]
    if (session.ring_id and ring is None) or any(
        agent_id and agent_id not in txn.agents for agent_id in linked_agents
    ):
        raise StaleRead(f"session {session_id} changed while it was being ended")
    if session.control is not ControlState.NONE:
        change_control(
            session, ControlState.NONE, actor=actor, at=now, kind="control.ended", reason=reason
        )
    transition(session, S.ENDED, actor=actor, at=now, reason=reason)
    for agent in txn.agents.values():
        if agent is None:
            continue
        if ring is not None and agent.ring_id == ring.ring_id:
            agent.ring_id = None
            agent.status_since = now
        if agent.session_id == session_id:
            agent.session_id = None
            agent.idle_since = now
            agent.status_since = now
            if served and wrapup_s > 0 and agent.lost_at is None:
                agent.wrapup_until = now + wrapup_s
    if ring is not None:
        txn.rings[ring.ring_id] = None
    session.ring_id = None
    return session, ring


def requeue_session(
    txn: Txn, session_id: str, ticket_id: str, *, agent_id: str, now: float
) -> tuple[LiveSession, RingRecord | None, LiveSession]:
    """The agent of a running session did not come back in time: end the session
    (``agent_lost``, by the system) and, in the same step, put its customer back at the head of
    the queue with a new ticket ``ticket_id``, so that no crash can end the one without the other.

    Only while ``agent_id`` is the session's agent and still lost: an agent who came back, or a
    session that ended meanwhile, is refused with ``conflict`` and nothing changes.
    """
    session, agent = txn.session(session_id), txn.agent(agent_id)
    if (
        session.state not in (S.CONNECTING, S.ACTIVE)
        or session.agent_id != agent_id
        or agent.session_id != session_id
        or agent.lost_at is None
    ):
        raise ProtocolError(
            ErrorCode.CONFLICT, f"session {session_id} is not waiting for its lost agent"
        )
    ended, ring = end_session(txn, session_id, actor=Actor.system(), reason=AGENT_LOST, now=now)
    pressed_at = ended.pressed_at
    ticket = LiveSession(
        id=ticket_id,
        device_id=ended.device_id,
        device_name=ended.device_name,
        device_kind=ended.device_kind,
        topic=ended.topic,
        locale=ended.locale,
        created_at=now,
        queue_score=pressed_at - REQUEUE_PRIORITY_S,
        waiting_since=pressed_at,
        requeued_from=ended.id,
        device_sid=ended.device_sid,
        device_node=ended.device_node,
        device_lost_at=ended.device_lost_at,
    )
    audit(
        ticket,
        "requeued",
        actor=Actor.system(),
        at=now,
        reason=AGENT_LOST,
        detail={
            "previous_session_id": ended.id,
            "agent_id": agent_id,
            "topic": ended.topic,
            "locale": ended.locale,
            "waiting_since": pressed_at,
        },
    )
    audit(
        ended,
        "requeued",
        actor=Actor.system(),
        at=now,
        reason=AGENT_LOST,
        detail={"next_session_id": ticket_id},
    )
    txn.sessions[ticket_id] = ticket
    return ended, ring, ticket


def mark_active(txn: Txn, session_id: str, *, actor: Actor, now: float) -> bool:
    """The first report of a connected peer makes a connecting session active; later ones no-op."""
    session = txn.session(session_id)
    if session.state is not S.CONNECTING:
        return False
    transition(session, S.ACTIVE, actor=actor, at=now, reason="media connected")
    return True


def note_arrival(stats: Stats, now: float) -> None:
    """Fold one help request into the decayed arrival rate."""
    stats.arrival_rate = arrival_rate(stats, now) + 1.0 / ARRIVAL_TAU_S
    stats.arrival_at = now


def arrival_rate(stats: Stats, now: float) -> float:
    elapsed = max(0.0, now - stats.arrival_at)
    return stats.arrival_rate * math.exp(-elapsed / ARRIVAL_TAU_S)


def note_handling_time(stats: Stats, seconds: float) -> None:
    """Fold one session's accepted → ended time into the handling-time average."""
    if stats.handled == 0:
        stats.handling_time_s = seconds
    else:
        w = HANDLING_TIME_WEIGHT
        stats.handling_time_s = (1 - w) * stats.handling_time_s + w * seconds
    stats.handled += 1


def _agent_actor(agent: AgentPresence) -> Actor:
    return Actor(kind="agent", id=agent.agent_id, name=agent.name)
