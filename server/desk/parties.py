"""What the device's and the agent's lifecycles share: telling a party its session (re)started,
and a party whose socket moved to this process from another one."""

from __future__ import annotations

from signaling import Event, ProtocolError, Role
from signaling import models as m

from ..ice import ice_servers
from ..live.machine import audit
from ..live.records import Actor, LiveSession, SessionState
from ..live.store import Txn
from ..nodes import last_seen
from .context import DeskContext, since
from .control import RemoteControl

__all__ = ["party_moved", "send_session_started"]


async def send_session_started(
    context: DeskContext, session: LiveSession, *, to: tuple[Role, ...], resumed: bool
) -> None:
    assert session.agent_id is not None
    assert session.agent_name is not None
    settings = context.settings
    for role in to:
        identity_id = session.device_id if role == "device" else session.agent_id
        started = m.SessionStarted(
            session_id=session.id,
            agent=m.AgentInfo(id=session.agent_id, name=session.agent_name),
            device=m.DeviceInfo(
                id=session.device_id, name=session.device_name, kind=session.device_kind
            ),
            topic=session.topic,
            locale=session.locale,
            organisation=settings.organisation,
            ice_servers=ice_servers(settings, f"{role}-{identity_id}"),
            ice_transport_policy=settings.ice_transport_policy,
            state="active" if session.state is SessionState.ACTIVE else "connecting",
            resumed=resumed,
            handed_on=session.handed_on if role == "agent" else None,
        )
        await context.emit.send(role, identity_id, Event.SESSION_STARTED, started)
        if resumed and session.watchers:
            # A reloaded page or a restarted device knows nothing of who watches: tell it again,
            # and it offers each watcher a connection anew (§19.3).
            watchers = m.SessionWatchers(
                session_id=session.id, watchers=list(session.watchers.values())
            )
            await context.emit.send(role, identity_id, Event.SESSION_WATCHERS, watchers)


async def party_moved(
    context: DeskContext,
    control: RemoteControl,
    session_id: str,
    role: Role,
    actor: Actor,
    from_node: str,
) -> None:
    """A party's new socket replaced one held by another process, before anyone noticed it lost.

    That process may have died (the usual reason to reconnect elsewhere), so the old socket
    counts as lost from that process's last heartbeat and back now: remote control passes
    through ``suspended`` and resumes only under the lease rules, never silently kept.
    """
    now = context.clock()
    lost_at = last_seen(await context.store.beats(), from_node, now)

    def note(txn: Txn) -> LiveSession:
        live = txn.session(session_id)
        audit(
            live,
            "peer.moved",
            actor=actor,
            at=now,
            reason=f"{role} reconnected through another server process",
            detail={"from": from_node, **since(lost_at, now)},
        )
        return live

    try:
        context.writer.save(await context.store.atomically(note, sessions=[session_id]))
    except ProtocolError:
        return  # the session ended meanwhile
    changed = await control.party_lost(session_id, actor, at=lost_at)
    changed = await control.party_back(session_id, actor, left=from_node) or changed
    if not changed:
        await control.tell_current(session_id, (role,))
