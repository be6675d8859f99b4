"""The mayday server: sockets, help queue and routing, session state, records, REST, metrics.

``create_app`` is imported on first use: the ``mayday`` command's small verbs (``agents``,
``sites``, ``canned``) read only the settings and the records, and need not load the sockets,
WebRTC and the rest of the application to do it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["Settings", "create_app"]

logging.getLogger("mayday").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'server' has no attribute {name!r}")
