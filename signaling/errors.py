"""Error codes that cross the wire, and the one exception type that carries them.

Every failure a client can cause ends up as ``{"error": {"code": ..., "message": ...}}``: in a
socket.io ack, in a refused connection, or in a REST body. The code is stable and machine-readable;
the message is for a person and says what to do next.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["ErrorCode", "ProtocolError", "error_body"]


class ErrorCode(StrEnum):
    """Stable error codes. Never rename or reuse one: third-party devices match on them."""

    BAD_REQUEST = "bad_request"
    """The payload does not match the event's schema; the message names the field."""
    UNKNOWN_EVENT = "unknown_event"
    """No such event in this protocol version."""
    FORBIDDEN = "forbidden"
    """The sender's role may not send this event, or may not touch this resource."""
    NOT_PARTY = "not_party"
    """The event names a session the sender is not a party of."""
    NOT_FOUND = "not_found"
    """The ticket, ring, session or record does not exist (any more)."""
    CONFLICT = "conflict"
    """The request is valid but the current state does not allow it (an illegal transition)."""
    PROTOCOL_MISMATCH = "protocol_mismatch"
    """The client speaks another protocol version."""
    UNAUTHORIZED = "unauthorized"
    """Missing or wrong credentials."""
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (an error code)
    """The agent token has expired: sign in again."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """The message exceeds the server's size cap."""
    RATE_LIMITED = "rate_limited"
    """Too many attempts (failed sign-ins for one name): wait as long as the message says."""
    INTERNAL = "internal"
    """A bug on the server; the state was not changed. Retry, and report it if it persists."""
    UNAVAILABLE = "unavailable"
    """The server cannot reach its live state (Redis) or its database right now; nothing was
    changed. Retry the same request after a few seconds, with back-off: it is safe to repeat."""


def error_body(code: ErrorCode, message: str) -> dict[str, Any]:
    """The one shape of every error answer."""
    return {"error": {"code": code.value, "message": message}}


class ProtocolError(Exception):
    """A failure that is answered to the client with its ``code``, never raised past a handler."""

    def __init__(
        self, code: ErrorCode, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s
        """When to try again, for :attr:`ErrorCode.RATE_LIMITED` (REST sends ``Retry-After``)."""

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)
