"""The building blocks of every payload: the bounded scalar types and the two base models.

Inbound models forbid unknown fields and bound every string: anything a client sends is untrusted.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "PROTOCOL_VERSION",
    "Id",
    "Inbound",
    "Locale",
    "Name",
    "Outbound",
    "Sdp",
    "Slug",
    "Timestamp",
]

PROTOCOL_VERSION = 1
"""Sent by every client in its connect ``auth``; a mismatch is refused with ``protocol_mismatch``."""

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""Identifiers chosen by the server (tickets, sessions, rings, devices, agents)."""
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
"""A short lowercase word such as a topic (``kindle``) or a reason (``resolved``)."""
Locale = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$")]
"""A BCP 47 tag such as ``de`` or ``en-US``; the language is the part before the first dash."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Sdp = Annotated[str, StringConstraints(min_length=1, max_length=32_000)]
Timestamp = Annotated[float, Field(ge=0, description="Seconds since the Unix epoch.")]


class Inbound(BaseModel):
    """Base of everything a client sends: strict about unknown fields, and no NUL character in
    any string (no text of this protocol has one; PostgreSQL cannot store it, so a NUL in a note
    or a name would be acknowledged and then fail every write of its record)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters (U+0000)")
        return data


def _has_nul(value: Any, depth: int = 0) -> bool:
    """Whether a NUL is in any string of ``value`` (as JSON decoded it), keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if depth > 64:  # deeper input is refused elsewhere; do not recurse without end here
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item, depth + 1) for item in value)
    return False


class Outbound(BaseModel):
    """Base of everything the server sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
