"""Pure decoding of inbound frames and encoding of acks. No I/O: the socket layer calls these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ErrorCode, ProtocolError
from .events import INBOUND, Event, Role

__all__ = ["decode", "describe_validation_error", "ok"]


def ok(**fields: Any) -> dict[str, Any]:
    """The one shape of every successful ack."""
    return {"ok": True, **fields}


def describe_validation_error(exc: ValidationError) -> str:
    """A short, readable account of what is wrong, naming each offending field."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def decode(role: Role, event: str, data: Any) -> tuple[Event, BaseModel]:
    """Turn one inbound frame into a typed message, or raise :class:`ProtocolError`.

    Unknown events and events the role may not send are refused with distinct codes, so a client
    developer can tell a typo from a permission problem.
    """
    try:
        name = Event(event)
    except ValueError:
        raise ProtocolError(
            ErrorCode.UNKNOWN_EVENT, f"unknown event {event[:64]!r}; see docs/protocol.md"
        ) from None
    model = INBOUND[role].get(name)
    if model is None:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"the {role} may not send {name.value!r}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{name.value}: the payload must be an object")
    try:
        return name, model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"{name.value}: {describe_validation_error(exc)}"
        ) from None
