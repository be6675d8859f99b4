"""Handing a customer on: the session's agent transfers it to a colleague or back to the queue.

The customer does not start over. In one store transaction the session ends (``transferred``, by
its agent, who goes into wrap-up as after any session) and the customer gets a new ticket at the
head of the queue, as a customer whose agent was lost does (:func:`.ops.requeue_session`): the
device stays connected, waits a moment, and the next agent's session starts with a new media
connection. Remote control ends with the session: consent was given to a person.

Kept as two sessions rather than one that changes agents: each has one agent, one handle time
and one rating, so the records, the figures and "an agent reads the sessions it took part in"
need no exceptions; ``previous_session_id`` and the ``transferred`` timeline lines link them.
"""

from __future__ import annotations

from signaling import ErrorCode, ProtocolError
from signaling import models as m

from .machine import audit
from .ops import REQUEUE_PRIORITY_S, end_session
from .records import Actor, LiveSession, RingRecord, SessionState
from .store import Txn

__all__ = ["TRANSFERRED", "transfer_session"]

TRANSFERRED = "transferred"
"""End reason of a session its agent handed on."""


def transfer_session(
    txn: Txn,
    session_id: str,
    ticket_id: str,
    *,
    actor: Actor,
    request: m.SessionTransfer,
    now: float,
    wrapup_s: float,
    reserve_s: float,
) -> tuple[LiveSession, RingRecord | None, LiveSession]:
    """End the session as transferred and open the customer's next ticket ``ticket_id``.

    ``actor`` is the session's agent. To a named colleague, that colleague must be free to take
    a ring right now (signed in, available, not in a session, ringing or wrapping up): the ticket
    is kept for them for ``reserve_s``, long enough for one ring. Refused with ``conflict`` (and
    nothing changes) if the session is not running or the colleague is not free.
    """
    session = txn.session(session_id)
    if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
        raise ProtocolError(ErrorCode.CONFLICT, f"session {session_id} is not running")
    if session.agent_id != actor.id:
        raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not the agent of session {session_id}")
    target = None
    if request.to == "agent":
        assert request.agent_id is not None  # the model's rule
        if request.agent_id == actor.id:
            raise ProtocolError(ErrorCode.CONFLICT, "you are helping this customer already")
        target = txn.agent(request.agent_id)
        if not target.routable:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"{target.name} cannot take a customer right now (not available, or busy)",
            )
    ended, ring = end_session(
        txn, session_id, actor=actor, reason=TRANSFERRED, now=now, wrapup_s=wrapup_s
    )
    assert actor.id is not None
    handed_on = m.HandOn(
        previous_session_id=ended.id,
        from_agent=m.AgentInfo(id=actor.id, name=actor.name or ""),
        to=request.to,
        to_agent=m.AgentInfo(id=target.agent_id, name=target.name) if target else None,
        note=request.note,
        at=now,
    )
    pressed_at = ended.pressed_at
    ticket = LiveSession(
        id=ticket_id,
        device_id=ended.device_id,
        device_name=ended.device_name,
        device_kind=ended.device_kind,
        topic=request.topic or ended.topic,
        locale=request.locale or ended.locale,
        created_at=now,
        queue_score=pressed_at - REQUEUE_PRIORITY_S,
        waiting_since=pressed_at,
        requeued_from=ended.id,
        handed_on=handed_on,
        reserved_for=target.agent_id if target else None,
        reserved_until=now + reserve_s if target else None,
        # The handing agent is out of it for the decline hold, as if it had declined them.
        declined_at={actor.id: now},
        device_sid=ended.device_sid,
        device_node=ended.device_node,
        device_lost_at=ended.device_lost_at,
    )
    detail = {
        "to": request.to,
        **({"agent_id": target.agent_id, "agent_name": target.name} if target else {}),
        "topic": ticket.topic,
        "locale": ticket.locale,
        **({"note": request.note} if request.note else {}),
    }
    audit(ended, TRANSFERRED, actor=actor, at=now, detail={"next_session_id": ticket_id, **detail})
    audit(
        ticket,
        TRANSFERRED,
        actor=actor,
        at=now,
        detail={"previous_session_id": ended.id, "waiting_since": pressed_at, **detail},
    )
    txn.sessions[ticket_id] = ticket
    return ended, ring, ticket
