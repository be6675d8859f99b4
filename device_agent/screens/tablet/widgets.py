"""Hit testing: the app's tappable hotspots, the customer's controls and the overlay over them.

A render records these alongside the frame; input is dispatched against them until the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ...customer import CustomerAction
from ..base import Drag, InputEvent, Rect, Scroll, Tap


@dataclass(frozen=True)
class Hotspot:
    name: str
    rect: Rect
    tap: Callable[[int, int], object] | None = None
    drag: Callable[[Drag], object] | None = None
    scroll: Callable[[int], object] | None = None


LocalAction = Literal["key", "end_ask", "end_no", "comment_open"]
"""Taps the tablet answers by itself, reporting nothing (yet): a key of the on-screen keyboard
(its ``value`` is the key), End (which asks first), No, and "Add a comment"."""


@dataclass(frozen=True)
class Control:
    name: str
    rect: Rect
    action: CustomerAction | LocalAction
    value: int | str | None = None


@dataclass
class Overlay:
    controls: list[Control] = field(default_factory=list)
    surfaces: list[Rect] = field(default_factory=list)
    modal: bool = False
    """A modal dialog is up: only its own controls (and Stop control) take customer taps."""
    modal_from: int = 0
    """Index in ``controls`` of the modal dialog's first control."""

    def control_at(self, x: int, y: int) -> Control | None:
        for control in reversed(self.controls):
            if control.rect.contains(x, y):
                return control
        return None

    def modal_control_at(self, x: int, y: int) -> Control | None:
        for control in reversed(self.controls[self.modal_from :]):
            if control.rect.contains(x, y):
                return control
        # Taking control back is never blocked, not even by a dialog.
        for control in self.controls[: self.modal_from]:
            if control.action == "stop_control" and control.rect.contains(x, y):
                return control
        return None

    def covers(self, x: int, y: int) -> bool:
        return self.control_at(x, y) is not None or any(s.contains(x, y) for s in self.surfaces)


def ignore_point(fn: Callable[[], object]) -> Callable[[int, int], object]:
    return lambda _x, _y: fn()


def event_point(event: InputEvent) -> tuple[int, int] | None:
    if isinstance(event, Tap | Scroll):
        return event.x, event.y
    if isinstance(event, Drag):
        return event.x0, event.y0
    return None
