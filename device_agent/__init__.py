"""What runs on the customer's device: asks for help and streams the screen over WebRTC.

The public names are loaded on first use: the ``mayday`` command builds its ``device`` options
from this package, and a server process must not pay for aiortc, av and numpy just for that.
"""

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agent import DeviceAgent
    from .screens import PatternScreen, ScreenSource

__all__ = ["DeviceAgent", "PatternScreen", "ScreenSource"]

logging.getLogger("mayday").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name == "DeviceAgent":
        from .agent import DeviceAgent

        return DeviceAgent
    if name in ("PatternScreen", "ScreenSource"):
        from . import screens

        return getattr(screens, name)
    raise AttributeError(f"module 'device_agent' has no attribute {name!r}")
