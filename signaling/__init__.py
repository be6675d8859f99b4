"""The mayday wire protocol: event names, typed payloads, pure decode/encode, JSON Schema export."""

from .codec import decode, ok
from .errors import ErrorCode, ProtocolError, error_body
from .events import EVENT_ROLES, INBOUND, OUTBOUND, Event, Role
from .models import PROTOCOL_VERSION
from .roles import ACCOUNT_ROLES, AccountRole, at_least

__all__ = [
    "ACCOUNT_ROLES",
    "EVENT_ROLES",
    "INBOUND",
    "OUTBOUND",
    "PROTOCOL_VERSION",
    "AccountRole",
    "ErrorCode",
    "Event",
    "ProtocolError",
    "Role",
    "at_least",
    "decode",
    "error_body",
    "ok",
]
