"""The session state machine: ``queued → ringing → connecting → active → ended``.

This is the only place that changes ``LiveSession.state``. Each move is checked against the table
below, stamps the session's timestamps, and appends an audit event naming who moved it and why.
An illegal move raises before anything is touched, so a refused transition is never half-applied.
"""

from __future__ import annotations

from typing import Any

import structlog

from signaling import ErrorCode, ProtocolError

from .records import Actor, AuditEvent, LiveSession, SessionState

__all__ = ["ALLOWED", "IllegalTransition", "audit", "count_kind", "transition"]

log = structlog.get_logger("mayday.session")

S = SessionState
ALLOWED: dict[SessionState, frozenset[SessionState]] = {
    S.QUEUED: frozenset({S.RINGING, S.ENDED}),
    S.RINGING: frozenset({S.QUEUED, S.CONNECTING, S.ENDED}),
    S.CONNECTING: frozenset({S.ACTIVE, S.ENDED}),
    S.ACTIVE: frozenset({S.ENDED}),
    S.ENDED: frozenset(),
}


class IllegalTransition(ProtocolError):
    def __init__(self, session: LiveSession, to: SessionState) -> None:
        super().__init__(
            ErrorCode.CONFLICT,
            f"session {session.id} is {session.state.value}; it cannot become {to.value}",
        )
        self.from_state = session.state
        self.to_state = to


def audit(
    session: LiveSession,
    kind: str,
    *,
    actor: Actor,
    at: float,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append a non-transition event (a declined ring, a lost peer, ...) to the timeline."""
    event = AuditEvent(
        session_id=session.id,
        seq=len(session.timeline) + 1,
        at=at,
        actor=actor,
        kind=kind,
        reason=reason,
        detail=detail or {},
    )
    session.timeline.append(event)
    return event


def count_kind(session: LiveSession, kind: str) -> int:
    """How many events of ``kind`` the timeline holds: the caps on what parties add use it."""
    return sum(1 for event in session.timeline if event.kind == kind)


def transition(
    session: LiveSession, to: SessionState, *, actor: Actor, at: float, reason: str
) -> AuditEvent:
    """Move ``session`` to ``to`` or raise :class:`IllegalTransition` without touching it."""
    old = session.state
    if to not in ALLOWED[old]:
        raise IllegalTransition(session, to)
    session.state = to
    if to is S.RINGING and session.rung_at is None:
        session.rung_at = at
    elif to is S.CONNECTING:
        session.accepted_at = at
    elif to is S.ACTIVE:
        session.active_at = at
    elif to is S.ENDED:
        session.ended_at = at
        session.end_reason = reason
        session.ended_by = actor.kind
    event = AuditEvent(
        session_id=session.id,
        seq=len(session.timeline) + 1,
        at=at,
        actor=actor,
        kind="transition",
        from_state=old,
        to_state=to,
        reason=reason,
    )
    session.timeline.append(event)
    log.info(
        "session.transition",
        session_id=session.id,
        transition=f"{old.value} -> {to.value}",
        actor=actor.label(),
        reason=reason,
    )
    return event
