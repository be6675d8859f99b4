"""Input that reaches the apps: a tap, drag or scroll finds the topmost hotspot under it; keys
and typed text go to :class:`~.apps.Apps`.

Only input the tablet let through gets here: the security rule (agent input never reaches the
customer's controls, nothing passes a modal dialog) is :meth:`SimulatedTablet._dispatch`'s,
before this.
"""

from __future__ import annotations

from typing import Literal

from ..base import Drag, InputEvent, Scroll, Tap, Text
from .apps import Apps
from .widgets import Hotspot

__all__ = ["BACK_KEYS", "dispatch_app", "hit", "press_key"]

BACK_KEYS = ("Escape", "Back", "BrowserBack", "GoBack")
"""Keys that go one step back, as Android's back button does."""


def hit(
    hotspots: list[Hotspot], x: int, y: int, kind: Literal["tap", "drag", "scroll"]
) -> Hotspot | None:
    """The topmost hotspot at ``(x, y)`` that takes ``kind`` (the last drawn is on top)."""
    for hotspot in reversed(hotspots):
        if getattr(hotspot, kind) is not None and hotspot.rect.contains(x, y):
            return hotspot
    return None


def dispatch_app(apps: Apps, hotspots: list[Hotspot], event: InputEvent) -> bool:
    """Apply ``event`` to the apps; ``True`` if it landed on something."""
    if isinstance(event, Tap):
        hotspot = hit(hotspots, event.x, event.y, "tap")
        if hotspot is None or hotspot.tap is None:
            return False
        hotspot.tap(event.x, event.y)
        return True
    if isinstance(event, Drag):
        hotspot = hit(hotspots, event.x0, event.y0, "drag")
        if hotspot is None or hotspot.drag is None:
            return False
        hotspot.drag(event)
        return True
    if isinstance(event, Scroll):
        hotspot = hit(hotspots, event.x, event.y, "scroll")
        if hotspot is None or hotspot.scroll is None:
            return False
        hotspot.scroll(event.dy)
        return True
    if isinstance(event, Text):
        return apps.insert(event.text)
    return press_key(apps, event.key)


def press_key(apps: Apps, key: str) -> bool:
    """A named key or one character; ``True`` if it changed something."""
    if key in BACK_KEYS:
        return apps.back()
    if key == "Home":
        if apps.app == "home":
            return False
        apps.open("home")
        return True
    if key == "Tab" and apps.signin_form:
        apps.set_focus("password" if apps.focus == "email" else "email")
        return True
    if key == "Enter" and apps.signin_form:
        apps.submit()
        return True
    if key == "Backspace":
        return apps.backspace()
    if len(key) == 1:
        return apps.insert(key)
    return False
