"""Remote control with consent (§10) and the input events it carries (§11)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Id, Inbound, Outbound, Slug
from .session import AgentInfo

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


# --- on a web page (the co-browsing widget): elements by their rrweb node id --------------------

NodeId = Annotated[int, Field(ge=1, le=2**31 - 1)]
"""The id rrweb's mirror gives an element of the page (the same in the widget and the replay)."""
Px = Annotated[float, Field(ge=0.0, le=1_000_000.0)]
"""A distance in CSS pixels."""


class WebClickInput(Inbound):
    """Click the element: focus it, then a real click; ``x``/``y`` in px from its top left corner."""

    type: Literal["click"] = "click"
    node: NodeId
    x: Px | None = None
    y: Px | None = None


class WebValueInput(Inbound):
    """Set a text field's value (the whole of it), as if typed: ``input`` and ``change`` follow."""

    type: Literal["input"] = "input"
    node: NodeId
    value: Annotated[str, StringConstraints(max_length=2000)]


class WebKeyInput(Inbound):
    """Press one of ``Enter``, ``Tab``, ``Escape`` on the element (keydown, keypress, keyup)."""

    type: Literal["press"] = "press"
    node: NodeId
    key: Literal["Enter", "Tab", "Escape"]
    shift: bool = Field(
        default=False, description="Shift held down with the key: Shift+Tab moves the focus back."
    )


class WebScrollInput(Inbound):
    """Scroll the element (``node`` 0: the document) to ``x``/``y`` px from its top left corner."""

    type: Literal["scroll_to"] = "scroll_to"
    node: Annotated[int, Field(ge=0, le=2**31 - 1)]
    x: Px = 0.0
    y: Px = 0.0


ControlInputEvent = Annotated[
    TapInput
    | DragInput
    | ScrollInput
    | KeyInput
    | TextInput
    | WebClickInput
    | WebValueInput
    | WebKeyInput
    | WebScrollInput,
    Field(discriminator="type"),
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
