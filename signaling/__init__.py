"""The mayday wire protocol: event names, typed payloads, pure decode/encode, JSON Schema export."""

from .codec import decode, ok
from .errors import ErrorCode, ProtocolError, error_body
from .events import INBOUND, OUTBOUND, Event, Role
from .models import PROTOCOL_VERSION

__all__ = [
    "INBOUND",
    "OUTBOUND",
    "PROTOCOL_VERSION",
    "ErrorCode",
    "Event",
    "ProtocolError",
    "Role",
    "decode",
    "error_body",
    "ok",
]
