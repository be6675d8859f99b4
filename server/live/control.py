"""Remote-control consent: a sub-state machine of a connecting or active session.

    none ──request──▶ requested ──grant──▶ granted ──revoke/release──▶ none
      ▲                  │                  │   ▲
      └──────deny────────┘        disconnect│   │same session back within the lease
                                            ▼   │
                                         suspended ──lease over / revoke──▶ none

Only the customer's device can grant (the agent can only ask); revocation, a session's end or a
lease running out return to ``none`` at once, and from ``none`` consent must be asked again. The
device enforces consent itself; this record is the server's second line (it refuses to relay
input unless ``granted``) and the audit trail of who allowed what, when.
"""

from __future__ import annotations

from typing import Any

import structlog

from signaling import ErrorCode, ProtocolError

from .machine import audit
from .records import Actor, AuditEvent, ControlState, LiveSession, SessionState

__all__ = ["CONTROL_ALLOWED", "IllegalControlTransition", "change_control"]

log = structlog.get_logger("mayday.control")

C = ControlState
CONTROL_ALLOWED: dict[ControlState, frozenset[ControlState]] = {
    C.NONE: frozenset({C.REQUESTED}),
    # requested -> requested: asking again while the dialog is open re-sends it.
    C.REQUESTED: frozenset({C.GRANTED, C.NONE, C.REQUESTED}),
    C.GRANTED: frozenset({C.NONE, C.SUSPENDED}),
    C.SUSPENDED: frozenset({C.GRANTED, C.NONE}),
}
_LIVE = (SessionState.CONNECTING, SessionState.ACTIVE)


class IllegalControlTransition(ProtocolError):
    def __init__(self, session: LiveSession, to: ControlState) -> None:
        super().__init__(
            ErrorCode.CONFLICT,
            f"control of session {session.id} is {session.control.value}; "
            f"it cannot become {to.value}",
        )


# The control sub-state's own transition function, built as :func:`~.machine.transition` is
# (check, log ``old -> new``, audit); the keywords after ``to`` are passed on to audit as they are.
def change_control(
    session: LiveSession,
    to: ControlState,
    *,
    actor: Actor,
    at: float,
    kind: str,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Move the control sub-state, or raise without touching the session.

    ``kind`` names the audit event (``control.granted``, ``control.revoked``, ...): several
    causes lead to the same state, and the timeline must say which one it was.
    """
    old = session.control
    if to is not C.NONE and session.state not in _LIVE:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"session {session.id} is {session.state.value}: no remote control"
        )
    if to not in CONTROL_ALLOWED[old]:
        raise IllegalControlTransition(session, to)
    session.control = to
    if to is not C.SUSPENDED:
        session.control_lease_until = None
        session.control_lost_at = None
    if to is C.NONE:
        session.control_request_id = None
    log.info(
        "session.control",
        session_id=session.id,
        transition=f"{old.value} -> {to.value}",
        actor=actor.label(),
        kind=kind,
        reason=reason,
    )
    return audit(session, kind, actor=actor, at=at, reason=reason, detail=detail)
