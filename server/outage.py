"""The failures that mean "the live store or the database cannot be reached right now".

Redis stopped, PostgreSQL restarting, a network blip: the operation failed before it changed
anything, and the same request will work in a few seconds. The socket dispatcher and the REST
middleware answer these with ``unavailable`` (docs/protocol.md §5.2) instead of ``internal``,
which says "a bug", and log a warning without a traceback: an outage is not a bug, and a traceback
for every event during one would bury the log (docs/deploy.md §4.1).
"""

from __future__ import annotations

import redis.exceptions
import sqlalchemy.exc

__all__ = ["UNAVAILABLE_ERRORS", "UNAVAILABLE_MESSAGE"]

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    ConnectionError,
    TimeoutError,
)
"""Raised by the Redis client or the database driver when it cannot reach its server."""

UNAVAILABLE_MESSAGE = (
    "the server is briefly unavailable; nothing was changed, try again in a few seconds"
)
