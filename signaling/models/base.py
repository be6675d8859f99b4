"""The building blocks of every payload: the bounded scalar types and the two base models.

Inbound models forbid unknown fields and bound every string: anything a client sends is untrusted.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
    """Base of everything a client sends: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Outbound(BaseModel):
    """Base of everything the server sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
