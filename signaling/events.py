"""The vocabulary: every event name, who may send it, and the payload model it carries.

One table per direction, in the manner of LiveKit's ``SignalRequest`` union: a handler that is not in
the table cannot be reached, and a misspelt event name is a type error (``Event`` is a ``StrEnum``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from . import models as m
from .roles import AccountRole

__all__ = ["EVENT_ROLES", "INBOUND", "OUTBOUND", "Event", "Role"]

Role = Literal["device", "agent"]


class Event(StrEnum):
    HELP_REQUEST = "help.request"
    HELP_CANCEL = "help.cancel"
    SESSION_END = "session.end"
    PRESENCE_SET = "presence.set"
    RING_ACCEPT = "ring.accept"
    RING_DECLINE = "ring.decline"
    RTC_OFFER = "rtc.offer"
    RTC_ANSWER = "rtc.answer"
    RTC_ICE = "rtc.ice"
    RTC_STATE = "rtc.state"

    TICKET_UPDATE = "ticket.update"
    SESSION_STARTED = "session.started"
    SESSION_ENDED = "session.ended"
    SESSION_PEER = "session.peer"
    QUEUE_UPDATE = "queue.update"
    RING = "ring"
    RING_CANCELLED = "ring.cancelled"
    PRESENCE_UPDATE = "presence.update"

    CONTROL_REQUEST = "control.request"
    CONTROL_GRANT = "control.grant"
    CONTROL_DENY = "control.deny"
    CONTROL_REVOKE = "control.revoke"
    CONTROL_RELEASE = "control.release"
    CONTROL_INPUT = "control.input"
    CONTROL_DROPPED = "control.dropped"
    CONTROL_STATE = "control.state"
    SESSION_RATE = "session.rate"
    SESSION_RATED = "session.rated"
    QUEUE_TAKE = "queue.take"
    CHAT_SEND = "chat.send"
    CHAT_MESSAGE = "chat.message"
    SESSION_NOTE = "session.note"
    SESSION_TRANSFER = "session.transfer"
    SESSION_WATCH = "session.watch"
    SESSION_LEAVE = "session.leave"
    SESSION_WATCHERS = "session.watchers"
    WALLBOARD_SUBSCRIBE = "wallboard.subscribe"
    WALLBOARD_UNSUBSCRIBE = "wallboard.unsubscribe"
    WALLBOARD_UPDATE = "wallboard.update"
    CALLBACK_REQUEST = "callback.request"
    CALLBACK_RING = "callback.ring"
    CALLBACK_ANSWER = "callback.answer"
    CALLBACK_CANCELLED = "callback.cancelled"
    CALLBACK_CALLING = "callback.calling"


_MEDIA: dict[Event, type[BaseModel]] = {
    Event.RTC_ICE: m.RtcIce,
    Event.RTC_STATE: m.RtcState,
}

INBOUND: dict[Role, dict[Event, type[BaseModel]]] = {
    "device": {
        Event.HELP_REQUEST: m.HelpRequest,
        Event.HELP_CANCEL: m.HelpCancel,
        Event.SESSION_END: m.SessionEnd,
        Event.RTC_OFFER: m.RtcOffer,  # the device is the offerer, also for ICE restarts
        **_MEDIA,
        Event.CONTROL_GRANT: m.ControlAnswer,
        Event.CONTROL_DENY: m.ControlAnswer,
        Event.CONTROL_REVOKE: m.SessionRef,
        Event.CONTROL_DROPPED: m.ControlDropped,
        Event.SESSION_RATE: m.SessionRate,
        Event.CHAT_SEND: m.ChatSend,
        Event.CALLBACK_REQUEST: m.CallbackRequest,
        Event.CALLBACK_ANSWER: m.CallbackAnswer,
    },
    "agent": {
        Event.PRESENCE_SET: m.PresenceSet,
        Event.RING_ACCEPT: m.RingAccept,
        Event.RING_DECLINE: m.RingDecline,
        Event.QUEUE_TAKE: m.QueueTake,
        Event.SESSION_END: m.SessionEnd,
        Event.RTC_ANSWER: m.RtcAnswer,
        **_MEDIA,
        Event.CONTROL_REQUEST: m.SessionRef,
        Event.CONTROL_RELEASE: m.SessionRef,
        Event.CONTROL_INPUT: m.ControlInput,
        Event.CHAT_SEND: m.ChatSend,
        Event.SESSION_NOTE: m.SessionNote,
        Event.SESSION_TRANSFER: m.SessionTransfer,
        Event.SESSION_WATCH: m.SessionWatch,
        Event.SESSION_LEAVE: m.SessionLeave,
        Event.WALLBOARD_SUBSCRIBE: m.WallboardSubscribe,
        Event.WALLBOARD_UNSUBSCRIBE: m.WallboardUnsubscribe,
    },
}
"""What each role may send to the server, and the payload each event must validate against."""

OUTBOUND: dict[Role, dict[Event, type[BaseModel]]] = {
    "device": {
        Event.TICKET_UPDATE: m.TicketUpdate,
        Event.SESSION_STARTED: m.SessionStarted,
        Event.SESSION_ENDED: m.SessionEnded,
        Event.SESSION_PEER: m.SessionPeer,
        Event.RTC_ANSWER: m.RtcAnswer,
        Event.RTC_ICE: m.RtcIce,
        Event.CONTROL_REQUEST: m.ControlRequest,
        Event.CONTROL_INPUT: m.ControlInput,
        Event.CONTROL_STATE: m.ControlState,
        Event.CHAT_MESSAGE: m.ChatMessage,
        Event.SESSION_WATCHERS: m.SessionWatchers,
        Event.CALLBACK_RING: m.CallbackRing,
        Event.CALLBACK_CANCELLED: m.CallbackCancelled,
    },
    "agent": {
        Event.QUEUE_UPDATE: m.QueueUpdate,
        Event.RING: m.Ring,
        Event.RING_CANCELLED: m.RingCancelled,
        Event.PRESENCE_UPDATE: m.PresenceUpdate,
        Event.SESSION_STARTED: m.SessionStarted,
        Event.SESSION_ENDED: m.SessionEnded,
        Event.SESSION_PEER: m.SessionPeer,
        Event.RTC_OFFER: m.RtcOffer,
        Event.RTC_ICE: m.RtcIce,
        Event.CONTROL_STATE: m.ControlState,
        Event.CHAT_MESSAGE: m.ChatMessage,
        Event.SESSION_RATED: m.SessionRated,
        Event.SESSION_WATCHERS: m.SessionWatchers,
        Event.WALLBOARD_UPDATE: m.Wallboard,
        Event.CALLBACK_CALLING: m.CallbackCalling,
    },
}
"""What the server sends to each role (documentation and schema export)."""

EVENT_ROLES: dict[Event, AccountRole] = {
    Event.WALLBOARD_SUBSCRIBE: "supervisor",
    Event.WALLBOARD_UNSUBSCRIBE: "supervisor",
    Event.SESSION_WATCH: "supervisor",
    Event.SESSION_LEAVE: "supervisor",
}
"""The least account role (``signaling.roles``) that may send each of the agent namespace's
events; an event not named here is every account's (``agent``). Devices are not accounts: their
namespace's events are theirs alone."""
