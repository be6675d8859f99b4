"""Supervisors in live sessions (§19.3): watch, join, leave, and who is told.

The rules are :mod:`server.live.watch`'s; this part applies them in the store and tells everyone
concerned what changed: the customer first (the promise is that a customer always knows who can
see their screen), then the session's agent and the watchers. The screen reaches a watcher over a
peer connection the device offers it; relaying those messages is :class:`~.sessions.Sessions`'s
(``relay``), which asks :func:`watcher_of` whether a sender is a watcher.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from ..ice import ice_servers
from ..identity import AgentIdentity, Identity
from ..live.records import AgentPresence, LiveSession, SessionState
from ..live.store import StaleRead
from ..live.watch import leave_session, watch_session
from .context import DeskContext

__all__ = ["Watching", "session_of_party_or_watcher", "watcher_of"]

log = structlog.get_logger("mayday.desk")

_RETRIES = 8


def watcher_of(session: LiveSession, agent_id: str) -> m.Watcher | None:
    """The supervisor ``agent_id`` as a watcher of ``session``, if it is one."""
    return session.watchers.get(agent_id)


async def session_of_party_or_watcher(
    context: DeskContext, sender: Identity, session_id: str
) -> tuple[LiveSession, m.Watcher | None]:
    """The session ``sender`` is a party of, or watches: (the session, the watcher or ``None``).

    The one place a watcher is let past the party check (media relay, connection reports, chat):
    anyone else gets the party check's own refusal.
    """
    try:
        return await context.session_of_party(sender, session_id), None
    except ProtocolError as exc:
        if exc.code is not ErrorCode.NOT_PARTY or not isinstance(sender, AgentIdentity):
            raise
        session = await context.store.get_session(session_id)
        watcher = watcher_of(session, sender.id) if session is not None else None
        if session is None or watcher is None:
            raise
        return session, watcher


@dataclass(eq=False)
class Watching:
    context: DeskContext

    async def watch(self, supervisor: AgentIdentity, request: m.SessionWatch) -> m.WatchStarted:
        """Start watching (or switch between watching and joined); the device's offer follows."""
        now = self.context.clock()
        for _ in range(_RETRIES):
            presence = await self._presence(supervisor.id)
            try:
                session, left = await self.context.store.atomically(
                    lambda txn: watch_session(
                        txn,
                        request.session_id,
                        txn.agent(supervisor.id),
                        request.mode,
                        now=now,
                    ),
                    sessions=[request.session_id, presence.watching],
                    agents=[supervisor.id],
                )
            except StaleRead:
                continue
            break
        else:
            raise ProtocolError(ErrorCode.CONFLICT, "the session keeps changing; retry")
        log.info(
            "session.watched",
            session_id=session.id,
            supervisor_id=supervisor.id,
            mode=request.mode,
            left=left.id if left else None,
        )
        if left is not None:
            self.context.writer.save(left)
            await self._tell(left, also=supervisor.id)
        self.context.writer.save(session)
        await self._tell(session)
        settings = self.context.settings
        return m.WatchStarted(
            session_id=session.id,
            mode=request.mode,
            agent=(
                m.AgentInfo(id=session.agent_id, name=session.agent_name or "")
                if session.agent_id
                else None
            ),
            device=m.DeviceInfo(
                id=session.device_id, name=session.device_name, kind=session.device_kind
            ),
            topic=session.topic,
            locale=session.locale,
            state="active" if session.state is SessionState.ACTIVE else "connecting",
            ice_servers=ice_servers(settings, f"agent-{supervisor.id}"),
            ice_transport_policy=settings.ice_transport_policy,
            watchers=list(session.watchers.values()),
        )

    async def leave(self, supervisor: AgentIdentity, session_id: str, reason: str) -> None:
        """Stop watching ``session_id``; nothing to do if the supervisor was not watching it."""
        await self._leave(supervisor.id, session_id, reason)

    async def gone(self, presence: AgentPresence) -> None:
        """A supervisor's socket is gone: it watches nothing any more (a watcher who comes back
        watches again by asking again; the customer is not left thinking someone looks on)."""
        if presence.watching is not None:
            await self._leave(presence.agent_id, presence.watching, "disconnected")

    async def _leave(self, agent_id: str, session_id: str, reason: str) -> None:
        now = self.context.clock()
        try:
            session = await self.context.store.atomically(
                lambda txn: leave_session(
                    txn, session_id, txn.agent(agent_id), now=now, reason=reason
                ),
                sessions=[session_id],
                agents=[agent_id],
            )
        except (ProtocolError, StaleRead) as exc:
            log.info(
                "session.leave_skipped", session_id=session_id, agent_id=agent_id, why=str(exc)
            )
            return
        if session is None:
            return
        log.info("session.left", session_id=session_id, supervisor_id=agent_id, reason=reason)
        self.context.writer.save(session)
        await self._tell(session, also=agent_id)

    async def _presence(self, agent_id: str) -> AgentPresence:
        presence = await self.context.store.get_agent(agent_id)
        if presence is None:
            raise ProtocolError(ErrorCode.CONFLICT, "your console is not signed in to the desk")
        return presence

    async def _tell(self, session: LiveSession, *, also: str | None = None) -> None:
        """Who watches now, to the customer first, then the agent and every watcher (``also``:
        the one who just left, so its console knows it is out)."""
        if session.state is SessionState.ENDED:
            return
        update = m.SessionWatchers(session_id=session.id, watchers=list(session.watchers.values()))
        emit = self.context.emit
        await emit.send("device", session.device_id, Event.SESSION_WATCHERS, update)
        agents = {session.agent_id, *session.watchers, also} - {None}
        for agent_id in sorted(a for a in agents if a is not None):
            await emit.send("agent", agent_id, Event.SESSION_WATCHERS, update)
