"""Messages on the ``annotations`` WebRTC data channel (agent → device), protocol version 1.

The agent draws on its view of the customer's screen; the device draws the same marks over the
real screen, so the customer sees them and the agent sees them come back in the video. All
coordinates are normalized to the screen (0..1 from the left/top edge), widths to its width, so
the agent never needs the device's resolution.

A stroke message carries the whole stroke so far: the agent resends it as the pen moves (with
``done: false``) and a last time when the pen lifts. That makes every message idempotent, and a
lost or reordered message costs nothing once a later one arrives.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from .models import Id

__all__ = [
    "ANNOTATION_CHANNEL",
    "AnnotationMessage",
    "Clear",
    "DeviceFacts",
    "DeviceStatus",
    "Laser",
    "Pin",
    "Stroke",
    "Undo",
    "parse_annotation",
]

ANNOTATION_CHANNEL = "annotations"
"""Label of the data channel the device opens in its offer."""

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stroke(_Message):
    """A mark: freehand ``pen``, ``arrow`` (first → last point), ``circle`` (ellipse in the box of
    its points) or ``highlight`` (translucent wide pen)."""

    type: Literal["stroke"] = "stroke"
    id: Id
    tool: Literal["pen", "arrow", "circle", "highlight"]
    color: Color = "#ff3b30"
    width: Annotated[float, Field(gt=0.0, le=0.05)] = 0.004
    points: Annotated[list[Point], Field(min_length=1, max_length=2000)]
    pinned: bool = False
    """Pinned marks stay until undone or cleared; others fade after the device's fade time."""
    done: bool = True


class Laser(_Message):
    """A transient pointer dot; it disappears by itself a moment after the last message."""

    type: Literal["laser"] = "laser"
    x: Unit
    y: Unit
    color: Color = "#ff2d55"


class Undo(_Message):
    """Remove the newest mark still shown."""

    type: Literal["undo"] = "undo"


class Clear(_Message):
    type: Literal["clear"] = "clear"


class Pin(_Message):
    type: Literal["pin"] = "pin"
    id: Id
    pinned: bool = True


AnnotationMessage = Annotated[Stroke | Laser | Undo | Clear | Pin, Field(discriminator="type")]

_ADAPTER: TypeAdapter[Stroke | Laser | Undo | Clear | Pin] = TypeAdapter(AnnotationMessage)


def parse_annotation(raw: str | bytes) -> Stroke | Laser | Undo | Clear | Pin:
    """Validate one data-channel message; raises ``pydantic.ValidationError`` on bad input."""
    return _ADAPTER.validate_json(raw)


_Fact = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class DeviceFacts(_Message):
    """What the device says about itself, for the agent's Customer tab; each fact is left out
    when the device cannot tell. Reported by the device, so shown as text and never trusted."""

    model: _Fact | None = Field(default=None, description="e.g. 'Kindle Fire HD 10'.")
    os: _Fact | None = Field(default=None, description="Operating system and version.")
    screen_width: int | None = Field(default=None, ge=1, le=100_000)
    screen_height: int | None = Field(default=None, ge=1, le=100_000)
    battery_percent: int | None = Field(default=None, ge=0, le=100)
    charging: bool | None = None
    network: _Fact | None = Field(default=None, description="e.g. 'Wi-Fi', 'Ethernet', 'cellular'.")


class DeviceStatus(_Message):
    """Device → agent on the same channel: what the agent's view is missing, and why; and what
    the device is (sent when the channel opens and whenever something changes)."""

    type: Literal["status"] = "status"
    sharing_paused: bool
    hidden_regions: int = Field(ge=0, description="Areas blacked out for privacy in this view.")
    device: DeviceFacts | None = None
