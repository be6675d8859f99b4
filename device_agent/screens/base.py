"""What every screen source offers the device: size, capture, input injection, sensitive regions.

Capture and injection are blocking work (drawing, grabbing an X display, XTest calls), so the
device always calls them in a worker thread; a source never needs to care about the event loop.

Coordinates here are pixels of the source. The agent sends normalized coordinates (0..1); the
device converts them before they reach a source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from signaling.annotations import DeviceFacts

__all__ = [
    "Drag",
    "Frame",
    "InputEvent",
    "InputOrigin",
    "Key",
    "Rect",
    "ScreenSource",
    "Scroll",
    "Tap",
    "Text",
]

Frame = npt.NDArray[np.uint8]
"""An RGB image, shape ``(height, width, 3)``."""

InputOrigin = Literal["customer", "agent"]
"""Who produced an input event. Agent input never reaches the customer's own controls."""


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True)
class Tap:
    x: int
    y: int


@dataclass(frozen=True)
class Drag:
    """Press at the first point, move to the second, release."""

    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True)
class Scroll:
    x: int
    y: int
    dx: int
    dy: int
    """Pixels; positive ``dy`` scrolls the content up (shows what is further down)."""


@dataclass(frozen=True)
class Key:
    """A named key (``Enter``, ``Backspace``, ``Tab``, ``Escape``, ``ArrowLeft`` ...) or one character."""

    key: str


@dataclass(frozen=True)
class Text:
    """Typed text, inserted at the focused field."""

    text: str


InputEvent = Tap | Drag | Scroll | Key | Text


class ScreenSource(ABC):
    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""

    @abstractmethod
    def capture(self) -> Frame:
        """The current screen as RGB pixels. Blocking; called off the event loop."""

    def inject(self, event: InputEvent, origin: InputOrigin = "agent") -> bool:
        """Apply an input event; ``True`` if it landed on something. Blocking.

        Sources that cannot take input (a test pattern) ignore it.
        """
        del event, origin
        return False

    def sensitive_regions(self) -> list[Rect]:
        """Areas that must never leave the device (password fields, configured rectangles)."""
        return []

    def facts(self) -> DeviceFacts:
        """What the device says about itself to the agent (Customer tab); by default only the
        shared screen's size. Sources that know more (a real computer, the tablet) say more."""
        width, height = self.size
        return DeviceFacts(screen_width=width, screen_height=height)

    @property
    def revision(self) -> int | None:
        """A number that changes whenever the picture does, or ``None`` if the source cannot tell.

        Sources that know (the simulated tablet) spare the streamer a capture and a pixel
        comparison per poll; for the others the streamer compares pixels.
        """
        return None

    def capture_private(self) -> tuple[Frame, list[Rect]]:
        """A frame together with the sensitive regions that apply to exactly that frame.

        The default asks for the regions before and after the capture and keeps both, so a
        screen that changes during the capture cannot slip a password field through. Sources
        with a lock over their state override this to take both at once.
        """
        before = self.sensitive_regions()
        frame = self.capture()
        after = self.sensitive_regions()
        return frame, before + [r for r in after if r not in before]
