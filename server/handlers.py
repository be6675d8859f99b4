"""Every inbound socket event, declared once: who sends it, what the desk does, what the ack says.

``signaling.INBOUND`` already tables which role may send which event and with which payload model,
and ``signaling.decode`` enforces it. This module adds the server's half of each row: the desk entry
point the event calls and the shape of its ack. The socket layer decodes a frame, looks the event up
in :data:`HANDLERS` and awaits the row, the same way for every event; there is no per-event adapter
method (python-socketio's ``on_x`` convention, made a table so that it can be checked).

Each row names its payload model once more, and the identity type its desk call takes (through
:data:`DEVICE`, :data:`AGENT` or :data:`EITHER`). That is the price of static types: it is what lets
mypy check every desk call against the fields it reads. :func:`_check_against_protocol` proves at
import that the model is the very one ``signaling`` decodes with, that every role ``INBOUND`` lets
send an event is one its row accepts, and that no event lacks a row; so the two tables cannot drift
apart, and a protocol event without a handler stops the server at start, not at the first frame.

No socket.io here: a row takes the desk, the verified identity, the socket id and the decoded
message, and returns the ack. Failures are raised (:class:`ProtocolError` from the desk), never
shaped here; the socket layer turns every one of them into the error ack in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from signaling import INBOUND, Event, Role, ok
from signaling import models as m

from .desk import HelpDesk
from .identity import AgentIdentity, DeviceIdentity, Identity

__all__ = ["HANDLERS", "Ack", "Handler"]

Ack = dict[str, Any]
"""``{"ok": true, ...}``; errors never come back as a value, they are raised."""

P = TypeVar("P", bound=Identity)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


@dataclass(frozen=True)
class Sender(Generic[P]):
    """The roles a row accepts, and the identity type its desk call receives.

    ``decode`` has already refused an event the socket's role may not send, so ``narrow`` never
    fails for a well-wired namespace; it turns that guarantee into a type mypy can check the desk
    call against. If it does fail, the wiring is broken: a server bug, answered as ``internal``.
    """

    roles: frozenset[Role]
    narrow: Callable[[Identity], P | None]


def _device(party: Identity) -> DeviceIdentity | None:
    return party if isinstance(party, DeviceIdentity) else None


def _agent(party: Identity) -> AgentIdentity | None:
    return party if isinstance(party, AgentIdentity) else None


def _either(party: Identity) -> Identity | None:
    return party


DEVICE: Sender[DeviceIdentity] = Sender(frozenset({"device"}), _device)
AGENT: Sender[AgentIdentity] = Sender(frozenset({"agent"}), _agent)
EITHER: Sender[Identity] = Sender(frozenset({"device", "agent"}), _either)


@dataclass(frozen=True)
class Handler:
    """One row, erased to a single signature so the dispatcher treats every event alike."""

    roles: frozenset[Role]
    model: type[BaseModel]
    run: Callable[[HelpDesk, Identity, str, BaseModel], Awaitable[Ack]]

    async def __call__(self, desk: HelpDesk, party: Identity, sid: str, message: BaseModel) -> Ack:
        return await self.run(desk, party, sid, message)


def done(_message: object, _result: object) -> Ack:
    """The plain ack, ``{"ok": true}``: the desk's return value, if any, is not sent."""
    return ok()


def dumped(key: str) -> Callable[[object, BaseModel], Ack]:
    """The desk's answer (a ticket, a control state) as JSON under ``key``."""

    def ack(_message: object, result: BaseModel) -> Ack:
        return ok(**{key: result.model_dump(mode="json")})

    return ack


def handler(
    sender: Sender[P],
    model: type[M],
    call: Callable[[HelpDesk, P, str, M], Awaitable[R]],
    ack: Callable[[M, R], Ack] = done,
) -> Handler:
    """A row: ``call`` the desk with the sender and the decoded ``model``, then shape the ack."""

    async def run(desk: HelpDesk, party: Identity, sid: str, message: BaseModel) -> Ack:
        sent_by = sender.narrow(party)
        if sent_by is None:
            raise TypeError(f"a {party.role} reached a handler for {sorted(sender.roles)}")
        if not isinstance(message, model):
            raise TypeError(f"{model.__name__} expected, {type(message).__name__} decoded")
        return ack(message, await call(desk, sent_by, sid, message))

    return Handler(sender.roles, model, run)


control_state = dumped("control")
"""The ack of every control event the desk answers with the new ``ControlState``."""

# A table, one row per event: the rows are alike in shape by design, each naming its own call.
HANDLERS: Mapping[Event, Handler] = {
    # --- the device -----------------------------------------------------------------------------
    Event.HELP_REQUEST: handler(
        DEVICE,
        m.HelpRequest,
        lambda desk, device, sid, request: desk.request_help(device, sid, request),
        dumped("ticket"),
    ),
    Event.HELP_CANCEL: handler(
        DEVICE,
        m.HelpCancel,
        lambda desk, device, _sid, cancel: desk.cancel_help(device, cancel.ticket_id),
    ),
    Event.CALLBACK_REQUEST: handler(
        DEVICE,
        m.CallbackRequest,
        lambda desk, device, _sid, request: desk.callbacks.request(device, request.ticket_id),
        dumped("ticket"),
    ),
    Event.CALLBACK_ANSWER: handler(
        DEVICE,
        m.CallbackAnswer,
        lambda desk, device, _sid, answer: desk.callbacks.answer(device, answer),
    ),
    Event.CONTROL_GRANT: handler(
        DEVICE,
        m.ControlAnswer,
        lambda desk, device, _sid, answer: desk.control.answer(device, answer, grant=True),
        control_state,
    ),
    Event.CONTROL_DENY: handler(
        DEVICE,
        m.ControlAnswer,
        lambda desk, device, _sid, answer: desk.control.answer(device, answer, grant=False),
        control_state,
    ),
    Event.CONTROL_REVOKE: handler(
        DEVICE,
        m.SessionRef,
        lambda desk, device, _sid, ref: desk.control.revoke(device, ref.session_id),
        control_state,
    ),
    Event.CONTROL_DROPPED: handler(
        DEVICE,
        m.ControlDropped,
        lambda desk, device, _sid, report: desk.control.dropped(device, report),
    ),
    Event.SESSION_RATE: handler(
        DEVICE,
        m.SessionRate,
        lambda desk, device, _sid, rate: desk.rate(device, rate),
    ),
    # --- the agent ------------------------------------------------------------------------------
    Event.PRESENCE_SET: handler(
        AGENT,
        m.PresenceSet,
        lambda desk, agent, _sid, presence: desk.set_presence(agent, presence.status),
        lambda presence, _none: ok(status=presence.status),
    ),
    Event.RING_ACCEPT: handler(
        AGENT,
        m.RingAccept,
        lambda desk, agent, _sid, accept: desk.accept_ring(agent, accept.ring_id),
        lambda _accept, session: ok(session_id=session.id),
    ),
    Event.RING_DECLINE: handler(
        AGENT,
        m.RingDecline,
        lambda desk, agent, _sid, decline: desk.decline_ring(agent, decline.ring_id),
    ),
    Event.QUEUE_TAKE: handler(
        AGENT,
        m.QueueTake,
        lambda desk, agent, _sid, take: desk.take(agent, take.ticket_id),
        lambda _take, session: ok(session_id=session.id),
    ),
    Event.CONTROL_REQUEST: handler(
        AGENT,
        m.SessionRef,
        lambda desk, agent, _sid, ref: desk.control.request(agent, ref.session_id),
        control_state,
    ),
    Event.CONTROL_RELEASE: handler(
        AGENT,
        m.SessionRef,
        lambda desk, agent, _sid, ref: desk.control.release(agent, ref.session_id),
        control_state,
    ),
    Event.CONTROL_INPUT: handler(
        AGENT,
        m.ControlInput,
        lambda desk, agent, _sid, payload: desk.control.input(agent, payload),
    ),
    Event.SESSION_NOTE: handler(
        AGENT,
        m.SessionNote,
        lambda desk, agent, _sid, note: desk.note(agent, note),
    ),
    Event.SESSION_WATCH: handler(
        AGENT,
        m.SessionWatch,
        lambda desk, agent, _sid, request: desk.watch(agent, request),
        dumped("session"),
    ),
    Event.SESSION_LEAVE: handler(
        AGENT,
        m.SessionLeave,
        lambda desk, agent, _sid, request: desk.leave_watch(agent, request.session_id),
    ),
    Event.SESSION_TRANSFER: handler(
        AGENT,
        m.SessionTransfer,
        lambda desk, agent, _sid, request: desk.transfer(agent, request),
        lambda _request, ticket: ok(ticket_id=ticket.id),
    ),
    # --- supervisors (signaling.EVENT_ROLES) ----------------------------------------------------
    Event.WALLBOARD_SUBSCRIBE: handler(
        AGENT,
        m.WallboardSubscribe,
        lambda desk, agent, sid, _subscribe: desk.wallboard.subscribe(agent, sid),
        dumped("wallboard"),
    ),
    Event.WALLBOARD_UNSUBSCRIBE: handler(
        AGENT,
        m.WallboardUnsubscribe,
        lambda desk, agent, sid, _unsubscribe: desk.wallboard.unsubscribe_event(agent, sid),
    ),
    # --- either party of a session (INBOUND narrows rtc.offer to the device, rtc.answer to the
    # agent; the desk's relay serves both directions) -------------------------------------------
    Event.SESSION_END: handler(
        EITHER,
        m.SessionEnd,
        lambda desk, party, _sid, end: desk.end_by_party(party, end.session_id, end.reason),
    ),
    Event.CHAT_SEND: handler(
        EITHER,
        m.ChatSend,
        lambda desk, party, _sid, line: desk.chat(party, line),
        lambda _line, message: ok(seq=message.seq),
    ),
    Event.RTC_OFFER: handler(
        EITHER,
        m.RtcOffer,
        lambda desk, party, _sid, offer: desk.relay(party, Event.RTC_OFFER, offer),
    ),
    Event.RTC_ANSWER: handler(
        EITHER,
        m.RtcAnswer,
        lambda desk, party, _sid, answer: desk.relay(party, Event.RTC_ANSWER, answer),
    ),
    Event.RTC_ICE: handler(
        EITHER,
        m.RtcIce,
        lambda desk, party, _sid, ice: desk.relay(party, Event.RTC_ICE, ice),
    ),
    Event.RTC_STATE: handler(
        EITHER,
        m.RtcState,
        lambda desk, party, _sid, report: desk.rtc_state(party, report),
    ),
}
"""The desk entry point and the ack of every event a client may send; who may send it and the
payload model are ``signaling.INBOUND``'s, checked below."""


def _check_against_protocol(handlers: Mapping[Event, Handler]) -> None:
    """Refuse to start if :data:`HANDLERS` and ``signaling.INBOUND`` disagree about any event."""
    sendable = {event for events in INBOUND.values() for event in events}
    if missing := sendable - handlers.keys():
        raise RuntimeError(f"no handler for {sorted(missing)}")
    if unreachable := handlers.keys() - sendable:
        raise RuntimeError(f"handlers for events no role may send: {sorted(unreachable)}")
    for role, events in INBOUND.items():
        for event, model in events.items():
            row = handlers[event]
            if row.model is not model:
                raise RuntimeError(
                    f"{event}: handled as {row.model.__name__}, sent as {model.__name__}"
                )
            if role not in row.roles:
                raise RuntimeError(
                    f"{event}: the {role} may send it, its handler takes {row.roles}"
                )


_check_against_protocol(HANDLERS)
