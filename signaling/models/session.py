"""Connect auth, the queue, rings, sessions, media negotiation and chat: the events of §4–§9."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from .base import Id, Inbound, Locale, Outbound, Sdp, Slug, Timestamp

# --- connect auth ------------------------------------------------------------------------------

# From here on, one class per message, even where two look alike (AgentAuth and ChatSend, Ticket
# and QueueUpdate): each is a message of its own, with its own bounds and entry in the schema.


class DeviceAuth(Inbound):
    """``auth`` of a connection to the ``/device`` namespace."""

    protocol: int
    device_id: Id
    device_secret: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AgentAuth(Inbound):
    """``auth`` of a connection to the ``/agent`` namespace."""

    protocol: int
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


# --- shared pieces -----------------------------------------------------------------------------


class IceServer(Outbound):
    """One entry of ``RTCConfiguration.iceServers``, as the browser and aiortc take it.

    STUN entries carry no ``username``/``credential`` keys at all: browsers would turn a ``null``
    into the string ``"null"``.
    """

    urls: list[str]
    username: str | None = None
    credential: str | None = None

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class AgentInfo(Outbound):
    """Who the agent is, as the server verified them."""

    id: Id
    name: str


CustomerKind = Literal["device", "web"]
"""What the customer is on: a ``device`` (a tablet, a computer running the device agent) or a
``web`` visitor, a page with the co-browsing widget (``POST /api/web/visitors``)."""
_KIND = "What the customer is on; left out of the JSON for a device."


class _Customer(Outbound):
    """Base of the messages that show a customer, each with a ``kind`` field (their last).

    ``kind`` is left out of the JSON while it is the default, ``device``: a message about a device
    reads exactly as it did before web visitors existed, so no client has to learn the field, and
    one that knows it reads a missing ``kind`` as ``device``.
    """

    @model_serializer(mode="wrap")
    def _drop_default_kind(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("kind") == "device":
            del data["kind"]
        if "handed_on" in data and data["handed_on"] is None:  # likewise: only when handed on
            del data["handed_on"]
        for flag in ("callback", "widened"):  # and only when true (§20)
            if data.get(flag) is False:
                del data[flag]
        return data


class DeviceInfo(_Customer):
    id: Id
    name: str
    kind: CustomerKind = Field(default="device", description=_KIND)


class CallbackInfo(Outbound):
    """A ticket whose customer chose "Call me back" (``callback.request``, §20.3): it is off the
    line but keeps its place, and the server rings the customer when an agent is free."""

    requested_at: Timestamp
    missed: int = Field(ge=0, description="Callbacks the customer did not answer so far.")
    tries_left: int = Field(
        ge=0,
        description="Missed callbacks the ticket survives: at the next miss with 0 left it ends "
        "(``session.ended`` with reason ``callback_missed``).",
    )


class Ticket(Outbound):
    """A customer's place in the help queue. The ticket id is also the session id."""

    id: Id
    state: Literal["queued", "ringing"]
    position: int = Field(ge=1, description="1 = next to be served.")
    estimated_wait_s: float | None = Field(
        description="Expected seconds until an agent answers; null when it cannot be told "
        "(nobody online who can serve this customer, or no session handled yet to learn from)."
    )
    agents_online: int = Field(
        default=1,
        ge=0,
        description="Agents signed in (available, ringing, in a session or wrapping up) who can "
        "serve this customer; 0 means nobody is available: say so rather than a wait.",
    )
    matched: bool = Field(
        default=True,
        description="``false``: agents are signed in, but none speaks the customer's language "
        "and knows the topic: say so at once (§20.1); routing widens at ``widens_at``. With "
        "nobody signed in at all it stays ``true`` (``agents_online`` 0).",
    )
    widens_at: Timestamp | None = Field(
        default=None,
        description="While ``matched`` is false and routing has not widened yet: when it will "
        "(``MAYDAY_OVERFLOW_S`` after the press). Null otherwise.",
    )
    widened: bool = Field(
        default=False,
        description="Routing has widened (§20.1): the next free agent answers, one who speaks "
        "the customer's language first; tell the customer they may not speak it.",
    )
    opens_at: Timestamp | None = Field(
        default=None,
        description="Outside opening hours (``MAYDAY_OPENING_HOURS``, §20.2): when the desk opens "
        "next; null while it is open (or never opens again). Offer a callback.",
    )
    callback: CallbackInfo | None = Field(
        default=None,
        description='The customer chose "Call me back" (§20.3); ``estimated_wait_s`` is then '
        "the estimated time until the callback. Null for a customer waiting on the line.",
    )


class HandOn(Outbound):
    """A customer an agent handed on (``session.transfer``): from whom, to whom, and the note
    the next agent reads before and while it helps."""

    previous_session_id: Id = Field(description="The session the agent handed on (now ended).")
    from_agent: AgentInfo
    to: Literal["agent", "queue"] = Field(
        description="``agent``: to one named agent (rung first); ``queue``: to whoever of the "
        "desk matches the ticket's language and topic."
    )
    to_agent: AgentInfo | None = Field(default=None, description="With ``to: agent``.")
    note: str = Field(default="", description="The handing agent's note (plain text).")
    at: Timestamp


class QueueEntry(_Customer):
    """A waiting customer as agents see it."""

    ticket_id: Id
    topic: str
    locale: str
    device_name: str
    state: Literal["queued", "ringing"]
    position: int
    waiting_since: Timestamp
    kind: CustomerKind = Field(default="device", description=_KIND)
    handed_on: HandOn | None = Field(
        default=None, description="When an agent handed this customer on (§19.4); else left out."
    )
    callback: bool = Field(
        default=False,
        description='The customer chose "Call me back" (§20.3); left out when false.',
    )
    widened: bool = Field(
        default=False,
        description="No agent signed in matches the customer's language or topic and routing "
        "has widened to every agent (§20.1); left out when false.",
    )


# --- device -> server --------------------------------------------------------------------------


class HelpRequest(Inbound):
    """The customer pressed the help button."""

    topic: Slug = "general"
    locale: Locale = "en"


class HelpCancel(Inbound):
    """The customer gives up their place in the queue."""

    ticket_id: Id


class SessionEnd(Inbound):
    """Either party ends the session; agents give a wrap-up reason."""

    session_id: Id
    reason: Slug = "ended"


# --- agent -> server ---------------------------------------------------------------------------


class PresenceSet(Inbound):
    status: Literal["available", "away"]


class RingAccept(Inbound):
    ring_id: Id


class RingDecline(Inbound):
    ring_id: Id


# --- both ways, relayed between the two parties of one session --------------------------------


class RtcOffer(Inbound):
    """SDP offer; the device is the offerer (also for ICE restarts)."""

    session_id: Id
    sdp: Sdp
    watcher_id: Id | None = Field(
        default=None,
        description="For the connection of a supervisor watching the session (§19.3): its id. "
        "Left out for the session's agent.",
    )


class RtcAnswer(Inbound):
    session_id: Id
    sdp: Sdp
    watcher_id: Id | None = Field(
        default=None,
        description="For the connection of a supervisor watching the session (§19.3): its id. "
        "Left out for the session's agent.",
    )


class IceCandidate(Inbound):
    """``RTCIceCandidateInit`` as the browser serialises it."""

    candidate: Annotated[str, StringConstraints(max_length=1024)]
    sdpMid: Annotated[str, StringConstraints(max_length=64)] | None = None
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, StringConstraints(max_length=256)] | None = None


class RtcIce(Inbound):
    """A trickled ICE candidate; ``null`` marks the end of candidates."""

    session_id: Id
    candidate: IceCandidate | None = None
    watcher_id: Id | None = Field(
        default=None,
        description="For the connection of a supervisor watching the session (§19.3): its id. "
        "Left out for the session's agent.",
    )


class RtcState(Inbound):
    """A party reports its peer connection state; the first ``connected`` makes the session active."""

    session_id: Id
    state: Literal["connected", "disconnected", "failed"]


# --- server -> device --------------------------------------------------------------------------


class TicketUpdate(Outbound):
    ticket: Ticket


class SessionStarted(Outbound):
    """Sent to both parties when an agent accepted, and again (``resumed``) after a reconnect."""

    session_id: Id
    agent: AgentInfo
    device: DeviceInfo
    topic: str
    locale: str
    organisation: str
    ice_servers: list[IceServer]
    ice_transport_policy: Literal["all", "relay"] = Field(
        default="all", description="RTCConfiguration.iceTransportPolicy for this session."
    )
    state: Literal["connecting", "active"]
    resumed: bool = False
    handed_on: HandOn | None = Field(
        default=None,
        description="To the agent only, when another agent handed the customer on to it (§19.4).",
    )


class SessionEnded(Outbound):
    session_id: Id
    reason: str
    ended_by: Literal["device", "agent", "system"]


class SessionPeer(Outbound):
    """The other party dropped off (``connected: false``) or came back within the grace period."""

    session_id: Id
    peer: Literal["device", "agent"]
    connected: bool
    grace_s: float | None = None


# --- server -> agent ---------------------------------------------------------------------------


class QueueUpdate(Outbound):
    length: int = Field(description="Customers waiting; ``entries`` lists at most the first 200.")
    entries: list[QueueEntry]
    agents_available: int
    estimated_wait_s: float | None = Field(
        description="Expected wait of a customer who asks for help now (Erlang C)."
    )


class Ring(Outbound):
    """A waiting customer is offered to this agent; accept or decline within ``timeout_s``."""

    ring_id: Id
    ticket: QueueEntry
    timeout_s: float


class RingCancelled(Outbound):
    ring_id: Id
    reason: Literal["timeout", "cancelled", "declined", "peer_lost", "callback_missed"] = Field(
        description="``callback_missed``: the customer of a callback (§20.3) did not answer; "
        "the agent stays available."
    )


class PresenceUpdate(Outbound):
    """The server changed the agent's presence (e.g. to ``away`` after an unanswered ring, or to
    ``wrapup`` when a session ended: no rings until the agent is done or ``until`` passes)."""

    status: Literal["available", "away", "wrapup"]
    reason: str
    until: Timestamp | None = Field(
        default=None, description="While ``wrapup``: when the server makes the agent available."
    )

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class QueueTake(Inbound):
    """The agent takes a waiting customer from the queue by hand (also one who declined before)."""

    ticket_id: Id


class SessionRate(Inbound):
    """The customer's 1–5 rating of an ended session."""

    session_id: Id
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="What the customer wrote with the rating (plain text)."
    )
    solved: bool | None = Field(
        default=None,
        description='The answer to "Was your problem solved?"; null or left out: not answered. '
        "The desk's first-contact resolution is the share of answers that are true.",
    )


class SessionTransfer(Inbound):
    """The session's agent hands the customer on: to another agent (``to: agent`` with its
    ``agent_id``) or back to the queue (``to: queue``, for another ``topic`` or ``locale`` if
    given). The customer stays connected; the session ends (``transferred``) and a new one
    starts with the next agent, who reads the ``note``. Remote control ends with it."""

    session_id: Id
    to: Literal["agent", "queue"]
    agent_id: Id | None = Field(default=None, description="With ``to: agent``: who takes over.")
    topic: Slug | None = Field(
        default=None, description="With ``to: queue``: the topic the next agent needs."
    )
    locale: Locale | None = Field(
        default=None, description="With ``to: queue``: the language the next agent speaks."
    )
    note: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="For the next agent (plain text); the customer never sees it."
    )

    @model_validator(mode="after")
    def _target_fits(self) -> SessionTransfer:
        if self.to == "agent" and self.agent_id is None:
            raise ValueError("to: agent needs the agent_id of who takes over")
        if self.to == "agent" and (self.topic is not None or self.locale is not None):
            raise ValueError("topic and locale go with to: queue; an agent takes the customer")
        if self.to == "queue" and self.agent_id is not None:
            raise ValueError("agent_id goes with to: agent")
        return self


class SessionRated(Outbound):
    """Server → the session's agent: the customer's rating and comment, for the wrap-up."""

    session_id: Id
    rating: int
    comment: str = ""
    solved: bool | None = None


# --- chat and notes --------------------------------------------------------------------------


class ChatSend(Inbound):
    """Either party writes in the session's text chat."""

    session_id: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ChatMessage(Outbound):
    """Server → both parties: one chat line, as it went into the session's timeline."""

    session_id: Id
    seq: int
    sender: Literal["device", "agent", "supervisor"] = Field(
        description="``supervisor``: one who joined the session (§19.3), not its agent."
    )
    name: str
    text: str
    at: Timestamp


class SessionNote(Inbound):
    """The agent's notes on the session (replace the previous notes); kept with the record."""

    session_id: Id
    text: Annotated[str, StringConstraints(max_length=10_000)]
