"""Remote control with the customer's consent, as the server sees it.

The customer's device is the enforcement point: it shows the dialog, applies input only while its
own consent holds, and drops everything else. The server is the second line and the record:

* only the session's agent can ask, and only the session's device can answer, for the request
  that is open now (a stale or foreign ``request_id`` is refused);
* ``control.input`` is relayed to the device only while consent is ``granted``; anything else is
  refused with ``forbidden`` and written to the timeline;
* a party dropping off suspends control at once; the same session coming back within the lease
  (``MAYDAY_CONTROL_LEASE_S``, default 10 s) resumes it without a new dialog, after that consent
  is gone and must be asked again;
* every request, grant, denial, revocation, release, suspension, expiry and dropped input is an
  audit event of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog

from signaling import ErrorCode, Event, ProtocolError, Role
from signaling import models as m

from ..identity import AgentIdentity, DeviceIdentity
from ..ids import new_id
from ..live.control import change_control
from ..live.machine import audit, count_kind
from ..live.records import Actor, ControlState, LiveSession, SessionState
from ..live.store import Txn
from ..nodes import vouched_for
from .context import DeskContext

__all__ = ["MAX_INPUT_NOTES", "RemoteControl"]

log = structlog.get_logger("mayday.control")

C = ControlState
T = TypeVar("T")

MAX_INPUT_NOTES = 50
"""Refused (and dropped) input batches written to one session's timeline, each kind. An agent
hammering a control it does not have, or a device reporting drops in a loop, is recorded up to
here, the last entry saying so; the refusals themselves go on."""


@dataclass(eq=False)
class RemoteControl:
    context: DeskContext

    # --- agent ----------------------------------------------------------------------------------

    async def request(self, agent: AgentIdentity, session_id: str) -> m.ControlState:
        session = await self.context.session_of_party(agent, session_id)
        if session.control is C.GRANTED:
            raise ProtocolError(ErrorCode.CONFLICT, "you already have control of this session")
        request_id = new_id("ctl")
        now = self.context.clock()

        def ask(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            change_control(
                live,
                C.REQUESTED,
                actor=agent.actor(),
                at=now,
                kind="control.requested",
                detail={"request_id": request_id},
            )
            live.control_request_id = request_id
            return live

        live = await self._apply(ask, session_id)
        await self.context.emit.send(
            "device",
            live.device_id,
            Event.CONTROL_REQUEST,
            m.ControlRequest(
                session_id=session_id,
                request_id=request_id,
                agent=m.AgentInfo(id=agent.id, name=agent.name),
                organisation=self.context.settings.organisation,
            ),
        )
        return await self._publish(live, "requested")

    async def release(self, agent: AgentIdentity, session_id: str) -> m.ControlState:
        await self.context.session_of_party(agent, session_id)
        return await self._to_none(session_id, agent.actor(), "released")

    async def input(self, agent: AgentIdentity, payload: m.ControlInput) -> None:
        session = await self.context.session_of_party(agent, payload.session_id)
        if session.control is not C.GRANTED:
            await self._note_input(
                session,
                "control.input_refused",
                agent.actor(),
                reason=f"control is {session.control.value}",
                detail={"seq": payload.seq, "count": len(payload.events)},
            )
            if session.control is C.SUSPENDED:
                advice = "a party is reconnecting; control resumes by itself within the lease"
            elif session.control is C.REQUESTED:
                advice = "wait for the customer's answer (control.state granted)"
            else:
                advice = "send control.request and wait for control.state granted"
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"the customer has not allowed control (control is {session.control.value}); {advice}",
            )
        await self.context.emit.send("device", session.device_id, Event.CONTROL_INPUT, payload)

    # --- device ---------------------------------------------------------------------------------

    async def answer(
        self, device: DeviceIdentity, payload: m.ControlAnswer, *, grant: bool
    ) -> m.ControlState:
        session = await self.context.session_of_party(device, payload.session_id)
        if session.control is not C.REQUESTED or session.control_request_id != payload.request_id:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"control request {payload.request_id} is not open (control is {session.control.value})",
            )
        now = self.context.clock()
        to, kind = (C.GRANTED, "control.granted") if grant else (C.NONE, "control.denied")

        def decide(txn: Txn) -> LiveSession:
            live = txn.session(payload.session_id)
            if live.control is not C.REQUESTED or live.control_request_id != payload.request_id:
                raise ProtocolError(ErrorCode.CONFLICT, "the control request changed meanwhile")
            change_control(
                live,
                to,
                actor=device.actor(),
                at=now,
                kind=kind,
                detail={"request_id": payload.request_id},
            )
            return live

        live = await self._apply(decide, payload.session_id)
        return await self._publish(
            live, "granted" if grant else "denied", request_id=payload.request_id
        )

    async def revoke(self, device: DeviceIdentity, session_id: str) -> m.ControlState:
        await self.context.session_of_party(device, session_id)
        return await self._to_none(session_id, device.actor(), "revoked")

    async def dropped(self, device: DeviceIdentity, payload: m.ControlDropped) -> None:
        session = await self.context.session_of_party(device, payload.session_id)
        await self._note_input(
            session,
            "control.input_dropped",
            device.actor(),
            reason=payload.reason,
            detail={"seq": payload.seq, "count": payload.count},
        )

    async def _note_input(
        self,
        session: LiveSession,
        kind: Literal["control.input_refused", "control.input_dropped"],
        actor: Actor,
        *,
        reason: str,
        detail: dict[str, int],
    ) -> None:
        """Write a refused or dropped input batch to the timeline, up to :data:`MAX_INPUT_NOTES`."""
        if count_kind(session, kind) >= MAX_INPUT_NOTES:
            return
        now = self.context.clock()

        def note(txn: Txn) -> LiveSession | None:
            live = txn.session(session.id)
            noted = count_kind(live, kind)
            if noted >= MAX_INPUT_NOTES:
                return None
            last = noted == MAX_INPUT_NOTES - 1
            audit(
                live,
                kind,
                actor=actor,
                at=now,
                reason=f"{reason}; further ones in this session are not recorded"
                if last
                else reason,
                detail=detail,
            )
            return live

        live = await self.context.store.atomically(note, sessions=[session.id])
        if live is not None:
            self.context.writer.save(live)

    # --- hooks from the desk --------------------------------------------------------------------

    async def party_lost(self, session_id: str, who: Actor, *, at: float | None = None) -> bool:
        """A party dropped off: granted control is suspended at once, an open request lapses.

        ``at`` is when the party was last known connected (a dead process's last heartbeat):
        the lease runs from then. If it already ran out, consent is gone at once. Returns
        whether control changed.
        """
        now = self.context.clock()
        lost_at = now if at is None else min(at, now)
        lease_until = lost_at + self.context.settings.control_lease_s

        def suspend(txn: Txn) -> tuple[LiveSession, m.ControlReason] | None:
            live = txn.session(session_id)
            # Each state a loss can meet is a transition of its own, with its own audit kind and
            # reason, spelled out in full like every other change_control call here.
            if live.control is C.GRANTED:
                change_control(
                    live,
                    C.SUSPENDED,
                    actor=who,
                    at=now,
                    kind="control.suspended",
                    reason=f"{who.kind} disconnected",
                    detail={"since": lost_at} if lost_at < now else None,
                )
                live.control_lease_until = lease_until
                live.control_lost_at = lost_at
                if lease_until > now:
                    return live, "suspended"
                _expire(live, now, "the lease ran out before the loss was noticed")
                return live, "expired"
            if live.control is C.REQUESTED:
                change_control(
                    live,
                    C.NONE,
                    actor=who,
                    at=now,
                    kind="control.expired",
                    reason=f"{who.kind} disconnected before the answer",
                )
                return live, "expired"
            return None

        result = await self._apply_optional(suspend, session_id)
        if result is None:
            return False
        live, reason = result
        self.context.writer.save(live)
        await self._publish(live, reason)
        if reason == "suspended":
            self.context.background.call_later(
                ("control-lease", session_id),
                lease_until - now,
                lambda: self.lease_over(session_id),
            )
        return True

    async def party_back(self, session_id: str, who: Actor, *, left: str | None = None) -> bool:
        """A party is back: suspended control resumes if both parties are connected, to live
        server processes, within the lease; past the lease it is gone. Returns whether control
        changed.

        A party held by another process counts as connected only if that process has beaten
        since the loss (:func:`~server.nodes.vouched_for`); ``left``, a process the returning
        party has just left, never does. The sweeper calls this too for every suspended session,
        so a resume that waited for a process to prove itself alive still happens.
        """
        session = await self.context.store.get_session(session_id)
        if session is None or session.control is not C.SUSPENDED:
            return False
        if (
            session.control_lease_until is not None
            and self.context.clock() > session.control_lease_until
        ):
            return await self.lease_over(session_id)
        agent = await self.context.store.get_agent(session.agent_id) if session.agent_id else None
        now = self.context.clock()
        beats = await self.context.store.beats()

        def connected(node: str | None) -> bool:
            return node != left and vouched_for(
                node, beats, since=session.control_lost_at, now=now, me=self.context.node
            )

        if agent is None or not agent.connected:
            return False
        if not connected(agent.node) or not connected(session.device_node):
            return False

        def resume(txn: Txn) -> LiveSession | None:
            live = txn.session(session_id)
            if live.control is not C.SUSPENDED or not live.device_connected or live.agent_lost_at:
                return None
            if live.device_node != session.device_node:
                return None  # the device moved meanwhile: its own return decides
            if live.control_lease_until is None or now > live.control_lease_until:
                return None
            change_control(
                live,
                C.GRANTED,
                actor=who,
                at=now,
                kind="control.resumed",
                reason="same session back within the lease",
            )
            return live

        live = await self._apply_optional(resume, session_id)
        if live is None:
            return False
        self.context.writer.save(live)
        self.context.background.cancel(("control-lease", session_id))
        await self._publish(live, "resumed")
        return True

    async def tell_current(self, session_id: str, to: tuple[Role, ...]) -> None:
        """Tell a (re)connected party where control stands and what last moved it, so it never
        acts on a stale view (a party back after the lease hears ``none``, ``expired``)."""
        live = await self.context.store.get_session(session_id)
        if live is None or live.state is SessionState.ENDED:
            return
        await self._publish(live, _current_reason(live), to=to)

    async def tell_ended(self, ended: LiveSession) -> None:
        """The session ended with control on: both parties hear that control is over."""
        await self._publish(ended, "ended")

    async def lease_over(self, session_id: str) -> bool:
        """The lease ran out (a local timer, or any process's sweeper): consent is gone."""
        now = self.context.clock()

        def expire(txn: Txn) -> LiveSession | None:
            live = txn.session(session_id)
            if live.control is not C.SUSPENDED:
                return None
            if live.control_lease_until is not None and now < live.control_lease_until:
                return None  # a newer suspension with a lease of its own
            _expire(live, now, "the lease ran out; consent must be asked again")
            return live

        live = await self._apply_optional(expire, session_id)
        if live is None:
            return False
        self.context.writer.save(live)
        await self._publish(live, "expired")
        return True

    # --- helpers --------------------------------------------------------------------------------

    async def _to_none(
        self, session_id: str, actor: Actor, reason: m.ControlReason
    ) -> m.ControlState:
        now = self.context.clock()

        def stop(txn: Txn) -> LiveSession:
            live = txn.session(session_id)
            if live.control is not C.NONE:
                change_control(live, C.NONE, actor=actor, at=now, kind=f"control.{reason}")
            return live

        live = await self._apply(stop, session_id)
        self.context.background.cancel(("control-lease", session_id))
        return await self._publish(live, reason)

    async def _apply(self, fn: Callable[[Txn], LiveSession], session_id: str) -> LiveSession:
        live = await self.context.store.atomically(fn, sessions=[session_id])
        self.context.writer.save(live)
        return live

    async def _apply_optional(self, fn: Callable[[Txn], T], session_id: str) -> T | None:
        """Like :meth:`_apply` for hooks: a session that ended meanwhile is simply skipped."""
        try:
            return await self.context.store.atomically(fn, sessions=[session_id])
        except ProtocolError:
            return None

    async def _publish(
        self,
        live: LiveSession,
        reason: m.ControlReason,
        *,
        request_id: str | None = None,
        to: tuple[Role, ...] = ("device", "agent"),
    ) -> m.ControlState:
        lease = None
        if live.control is C.SUSPENDED and live.control_lease_until is not None:
            lease = round(max(0.0, live.control_lease_until - self.context.clock()), 1)
        state = m.ControlState(
            session_id=live.id,
            state=live.control.value,
            reason=reason,
            request_id=request_id or live.control_request_id,
            lease_s=lease,
        )
        log.info("control.state", session_id=live.id, state=state.state, reason=reason)
        if "device" in to:
            await self.context.emit.send("device", live.device_id, Event.CONTROL_STATE, state)
        if "agent" in to and live.agent_id:
            await self.context.emit.send("agent", live.agent_id, Event.CONTROL_STATE, state)
        return state


_WHY_NONE: dict[str, m.ControlReason] = {
    "control.denied": "denied",
    "control.revoked": "revoked",
    "control.released": "released",
    "control.expired": "expired",
}
_CURRENT: dict[ControlState, m.ControlReason] = {
    C.REQUESTED: "requested",
    C.GRANTED: "granted",
    C.SUSPENDED: "suspended",
}


def _current_reason(live: LiveSession) -> m.ControlReason:
    """How to tell a party where control stands: for ``none``, what ended it (from the
    timeline: ``expired`` after a lease ran out while the party was away); otherwise the state
    itself (never ``resumed``: a device acts on that as a resume of its own suspension)."""
    if live.control is not C.NONE:
        return _CURRENT[live.control]
    for event in reversed(live.timeline):
        if event.kind == "control.requested":
            break
        reason = _WHY_NONE.get(event.kind)
        if reason is not None:
            return reason
    return "released"


def _expire(live: LiveSession, now: float, reason: str) -> None:
    change_control(
        live, C.NONE, actor=Actor.system(), at=now, kind="control.expired", reason=reason
    )
