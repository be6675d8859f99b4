"""A supervisor in a live session: watching it, joined to it, leaving it (§19.3).

Pure functions over a :class:`Txn`, like :mod:`.ops`. A supervisor watches one session at a time
(its presence's ``watching``): watching another leaves the first. A session keeps at most
:data:`MAX_WATCHERS`, each costing the customer's device one more encoded stream. Every change is
a line in the session's timeline, so the record says who saw what and when.
"""

from __future__ import annotations

from signaling import ErrorCode, ProtocolError
from signaling import models as m

from .machine import audit
from .records import Actor, AgentPresence, LiveSession, SessionState
from .store import Txn

__all__ = ["MAX_WATCHERS", "leave_session", "watch_session"]

MAX_WATCHERS = 3
"""Supervisors one session shows its screen to at once, besides its agent."""


def watch_session(
    txn: Txn, session_id: str, supervisor: AgentPresence, mode: m.WatchMode, *, now: float
) -> tuple[LiveSession, LiveSession | None]:
    """Start watching ``session_id`` (or change how): (the session, the one it left, if any).

    Refused while the session is not running, for its own agent, and over :data:`MAX_WATCHERS`.
    """
    session = txn.session(session_id)
    if session.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
        raise ProtocolError(ErrorCode.CONFLICT, f"session {session_id} is not running")
    if session.agent_id == supervisor.agent_id:
        raise ProtocolError(ErrorCode.CONFLICT, "you are this session's agent already")
    actor = Actor(kind="agent", id=supervisor.agent_id, name=supervisor.name)
    current = session.watchers.get(supervisor.agent_id)
    if current is None and len(session.watchers) >= MAX_WATCHERS:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"{MAX_WATCHERS} supervisors watch this session already"
        )
    left = None
    if supervisor.watching not in (None, session_id):
        left = _leave(
            txn, supervisor.watching, supervisor, actor, now=now, reason="watches another"
        )
    if current is not None and current.mode == mode:
        return session, left
    session.watchers[supervisor.agent_id] = m.Watcher(
        id=supervisor.agent_id,
        name=supervisor.name,
        mode=mode,
        since=current.since if current is not None else now,
    )
    supervisor.watching = session_id
    kind = "supervisor.joined" if mode == "join" else "supervisor.watching"
    audit(session, kind, actor=actor, at=now, detail={"mode": mode})
    return session, left


def leave_session(
    txn: Txn, session_id: str, supervisor: AgentPresence, *, now: float, reason: str
) -> LiveSession | None:
    """Stop watching: the session, or ``None`` if the supervisor was not watching it (a leave
    that finds nothing to do changes nothing, so a repeated one is harmless)."""
    actor = Actor(kind="agent", id=supervisor.agent_id, name=supervisor.name)
    return _leave(txn, session_id, supervisor, actor, now=now, reason=reason)


def _leave(
    txn: Txn, session_id: str, supervisor: AgentPresence, actor: Actor, *, now: float, reason: str
) -> LiveSession | None:
    if supervisor.watching == session_id:
        supervisor.watching = None
    session = txn.sessions.get(session_id)
    if session is None or supervisor.agent_id not in session.watchers:
        return None
    del session.watchers[supervisor.agent_id]
    if session.state is not SessionState.ENDED:
        audit(session, "supervisor.left", actor=actor, at=now, reason=reason)
    return session
