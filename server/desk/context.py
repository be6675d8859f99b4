"""What the desk's parts share, so that none of them needs the desk itself.

Each part of the desk (rings, remote control, queue pushes, the sweeper, the party lifecycles)
gets this one small record: the live store every decision is taken in, the ways out (sockets,
the durable record writer, timers), the settings, and which process this is. A part that must
call back into another gets that part, or a ``typing.Protocol`` of the few methods it calls, never
the :class:`~server.desk.HelpDesk`: that is what keeps the desk's modules free of import circles.

Each part is a ``@dataclass(eq=False)`` whose fields are what it is given: this context first,
then the parts it calls on. ``eq=False`` keeps a part what it is, one object compared and hashed
by identity, rather than equal to another part given the same things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from signaling import ErrorCode, ProtocolError

from ..emitter import Emitter
from ..identity import DeviceIdentity, Identity
from ..live.records import LiveSession, SessionState
from ..live.store import LiveStore
from ..metrics import Metrics
from ..records import Records
from ..settings import Settings
from ..tasks import Background
from ..writer import RecordWriter

__all__ = ["DeskContext", "since"]

log = structlog.get_logger("mayday.desk")


@dataclass(frozen=True)
class DeskContext:
    store: LiveStore
    records: Records
    writer: RecordWriter
    emit: Emitter
    background: Background
    settings: Settings
    metrics: Metrics
    node: str
    """This server process, as recorded with the sockets it holds."""
    clock: Callable[[], float]

    async def session_of_party(self, party: Identity, session_id: str) -> LiveSession:
        session = await self.store.get_session(session_id)
        if session is None or session.state is SessionState.ENDED:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no live session {session_id}")
        is_party = (
            session.device_id == party.id
            if isinstance(party, DeviceIdentity)
            else session.agent_id == party.id
        )
        if not is_party:
            log.warning(
                "session.not_party", session_id=session_id, role=party.role, identity=party.id
            )
            raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not a party of session {session_id}")
        return session


def since(lost_at: float, now: float) -> dict[str, float]:
    """Audit detail for a loss noticed after the fact (a dead process's last heartbeat)."""
    return {"since": lost_at} if lost_at < now else {}
