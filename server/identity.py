"""Who is on the other end of a socket, as the server verified them at connect time (and, for as
long as the socket stays, re-verifies them: ``server/sockets.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from signaling import AccountRole, Role
from signaling.models import CustomerKind

from .live.records import Actor

__all__ = ["AgentIdentity", "DeviceIdentity", "Identity"]


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    id: str
    name: str
    role: Role = "device"
    kind: CustomerKind = "device"
    """``web`` for a co-browsing visitor (a page with the widget), which shows agents who it is."""

    def actor(self) -> Actor:
        return Actor(kind="device", id=self.id, name=self.name)


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    id: str
    name: str
    """The name customers see: the agent's display name, else its login name (the records'
    ``AgentRow.shown_name``). It flows from here into the agent's presence, the session
    (``agent_name``, ``session.started``'s ``agent``), chat lines and the timeline."""
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    role: Role = "agent"
    generation: int = 0
    """The token generation the agent signed in with: once the records hold another (sign-out,
    password change, a new role), this socket's credentials are revoked and it is closed."""
    account_role: AccountRole = "agent"
    """What the account may do (``signaling.roles``), as the records said at sign-in."""

    def actor(self) -> Actor:
        return Actor(kind="agent", id=self.id, name=self.name)


Identity = DeviceIdentity | AgentIdentity
