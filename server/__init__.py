"""The mayday server: sockets, help queue and routing, session state, records, REST, metrics."""

import logging

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]

logging.getLogger("mayday").addHandler(logging.NullHandler())
