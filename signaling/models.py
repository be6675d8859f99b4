"""Typed payloads of every socket event and REST body, protocol version 1.

pydantic v2 rather than msgspec: the browser console and third-party devices need a JSON Schema
(``model_json_schema`` is first class in pydantic), validation errors come with the location of the
offending field, which makes the error acks readable, and pydantic-settings reuses the same machinery
for the server's configuration. Validation costs a few microseconds per message, far below the
socket.io round trip, so msgspec's speed would not show on any latency we measure.

Inbound models forbid unknown fields and bound every string: anything a client sends is untrusted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

__all__ = [
    "PROTOCOL_VERSION",
    "AgentAuth",
    "AgentInfo",
    "AgentLoginRequest",
    "AgentLoginResponse",
    "ChatMessage",
    "ChatSend",
    "ControlAnswer",
    "ControlDropped",
    "ControlInput",
    "ControlInputEvent",
    "ControlReason",
    "ControlRequest",
    "ControlState",
    "CustomerKind",
    "DeviceAuth",
    "DeviceInfo",
    "DeviceRegistration",
    "DeviceRegistrationResponse",
    "DragInput",
    "HelpCancel",
    "HelpRequest",
    "IceCandidate",
    "IceServer",
    "Id",
    "KeyInput",
    "PresenceSet",
    "PresenceUpdate",
    "QueueEntry",
    "QueueUpdate",
    "Ring",
    "RingAccept",
    "RingCancelled",
    "RingDecline",
    "RtcAnswer",
    "RtcIce",
    "RtcOffer",
    "RtcState",
    "ScrollInput",
    "SessionEnd",
    "SessionEnded",
    "SessionNote",
    "SessionPeer",
    "SessionRate",
    "SessionRef",
    "SessionStarted",
    "TapInput",
    "TextInput",
    "Ticket",
    "TicketUpdate",
    "WebSite",
    "WebVisitorRequest",
    "WebVisitorResponse",
]

PROTOCOL_VERSION = 1
"""Sent by every client in its connect ``auth``; a mismatch is refused with ``protocol_mismatch``."""

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""Identifiers chosen by the server (tickets, sessions, rings, devices, agents)."""
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
"""A short lowercase word such as a topic (``kindle``) or a reason (``resolved``)."""
Locale = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$")]
"""A BCP 47 tag such as ``de`` or ``en-US``; the language is the part before the first dash."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Sdp = Annotated[str, StringConstraints(min_length=1, max_length=32_000)]
Timestamp = Annotated[float, Field(ge=0, description="Seconds since the Unix epoch.")]


class Inbound(BaseModel):
    """Base of everything a client sends: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Outbound(BaseModel):
    """Base of everything the server sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
        return data


class DeviceInfo(_Customer):
    id: Id
    name: str
    kind: CustomerKind = Field(default="device", description=_KIND)


class Ticket(Outbound):
    """A customer's place in the help queue. The ticket id is also the session id."""

    id: Id
    state: Literal["queued", "ringing"]
    position: int = Field(ge=1, description="1 = next to be served.")
    estimated_wait_s: float | None = Field(
        description="Expected seconds until an agent answers; null while no agent is online."
    )


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


class RtcAnswer(Inbound):
    session_id: Id
    sdp: Sdp


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
    reason: Literal["timeout", "cancelled", "declined", "peer_lost"]


class PresenceUpdate(Outbound):
    """The server changed the agent's presence (e.g. to ``away`` after an unanswered ring)."""

    status: Literal["available", "away"]
    reason: str


# --- remote control with consent ------------------------------------------------------------

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
"""A coordinate normalized to the screen: 0 is the left/top edge, 1 the right/bottom edge."""


class TapInput(Inbound):
    type: Literal["tap"] = "tap"
    x: Unit
    y: Unit


class DragInput(Inbound):
    type: Literal["drag"] = "drag"
    x0: Unit
    y0: Unit
    x1: Unit
    y1: Unit


class ScrollInput(Inbound):
    """``dx``/``dy`` as fractions of the screen's width/height; positive ``dy`` shows what is below."""

    type: Literal["scroll"] = "scroll"
    x: Unit
    y: Unit
    dx: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    dy: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0


class KeyInput(Inbound):
    """A named key (``Enter``, ``Backspace``, ``Tab``, ``Escape``, ``ArrowLeft`` ...) or one character."""

    type: Literal["key"] = "key"
    key: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class TextInput(Inbound):
    type: Literal["text"] = "text"
    text: Annotated[str, StringConstraints(min_length=1, max_length=256)]


ControlInputEvent = Annotated[
    TapInput | DragInput | ScrollInput | KeyInput | TextInput, Field(discriminator="type")
]


class SessionRef(Inbound):
    """``control.request`` and ``control.release`` (agent), ``control.revoke`` (device)."""

    session_id: Id


class ControlAnswer(Inbound):
    """``control.grant`` / ``control.deny``: the customer's answer to one request."""

    session_id: Id
    request_id: Id


class ControlInput(Inbound):
    """Input from the agent, applied by the device only while the customer's consent holds."""

    session_id: Id
    seq: Annotated[int, Field(ge=0)]
    events: Annotated[list[ControlInputEvent], Field(min_length=1, max_length=50)]


class ControlDropped(Inbound):
    """The device reports input it did not apply (and why), for the session's audit timeline."""

    session_id: Id
    seq: Annotated[int, Field(ge=0)]
    count: Annotated[int, Field(ge=1, le=50)]
    reason: Slug


class ControlRequest(Outbound):
    """Server → device: show the consent dialog naming this agent and organisation."""

    session_id: Id
    request_id: Id
    agent: AgentInfo
    organisation: str


ControlReason = Literal[
    "requested",
    "granted",
    "denied",
    "revoked",
    "released",
    "suspended",
    "resumed",
    "expired",
    "ended",
]
"""What moved remote control to where it stands (``ControlState.reason``)."""


class ControlState(Outbound):
    """Server → both parties: where consent stands, and what moved it."""

    session_id: Id
    state: Literal["none", "requested", "granted", "suspended"]
    reason: ControlReason
    request_id: Id | None = None
    lease_s: float | None = Field(
        default=None, description="While suspended: seconds left to resume without a new dialog."
    )


class SessionRate(Inbound):
    """The customer's 1–5 rating of an ended session."""

    session_id: Id
    rating: Annotated[int, Field(ge=1, le=5)]


# --- chat and notes --------------------------------------------------------------------------


class ChatSend(Inbound):
    """Either party writes in the session's text chat."""

    session_id: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ChatMessage(Outbound):
    """Server → both parties: one chat line, as it went into the session's timeline."""

    session_id: Id
    seq: int
    sender: Literal["device", "agent"]
    name: str
    text: str
    at: Timestamp


class SessionNote(Inbound):
    """The agent's notes on the session (replace the previous notes); kept with the record."""

    session_id: Id
    text: Annotated[str, StringConstraints(max_length=10_000)]


# --- REST --------------------------------------------------------------------------------------


class DeviceRegistration(Inbound):
    """``POST /api/devices``"""

    name: Name = "tablet"
    enrollment_key: Annotated[str, StringConstraints(max_length=256)] | None = None


class DeviceRegistrationResponse(Outbound):
    device_id: Id
    device_secret: str


class AgentLoginRequest(Inbound):
    """``POST /api/agents/login``"""

    name: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class AgentLoginResponse(Outbound):
    token: str
    expires_at: Timestamp
    agent: AgentInfo
    languages: list[str]
    skills: list[str]


SiteKey = Annotated[str, StringConstraints(pattern=r"^site_[A-Za-z0-9_-]{1,64}$")]
"""A site's public key, as in the widget's ``data-site-key``."""


class WebVisitorRequest(Inbound):
    """``POST /api/web/visitors``, sent by the widget from the customer's page."""

    site_key: SiteKey
    locale: Locale | None = None


class WebSite(Outbound):
    name: str


class WebVisitorResponse(Outbound):
    device_id: Id
    device_secret: str
    site: WebSite
