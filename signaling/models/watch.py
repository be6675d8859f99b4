"""A supervisor in a live session (§19.3): watching it read-only, or joined to draw and chat.

The customer always knows: every change of who watches goes to the device (``session.watchers``),
which says so on screen, as it goes to the session's agent and to the watchers themselves. The
customer's screen reaches a watcher over a peer connection of its own, offered by the device as
any other, its messages marked with the watcher's id (``watcher_id`` on ``rtc.offer``,
``rtc.answer`` and ``rtc.ice``). Remote control is never a watcher's: control is given by the
customer to the session's agent; a supervisor who must take over has the session handed on to
them (``session.transfer``) and asks the customer again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Id, Inbound, Outbound, Timestamp
from .session import AgentInfo, DeviceInfo, IceServer

__all__ = [
    "SessionLeave",
    "SessionWatch",
    "SessionWatchers",
    "WatchMode",
    "WatchStarted",
    "Watcher",
]

WatchMode = Literal["watch", "join"]
"""``watch``: sees the screen and the chat; ``join``: also draws (in its own colour) and chats."""


class SessionWatch(Inbound):
    """A supervisor starts watching a live session, or changes how (watch ↔ join)."""

    session_id: Id
    mode: WatchMode = "watch"


class SessionLeave(Inbound):
    """A supervisor stops watching the session."""

    session_id: Id


class Watcher(Outbound):
    id: Id
    name: str
    mode: WatchMode
    since: Timestamp


class SessionWatchers(Outbound):
    """Server → the customer, the session's agent and its watchers: who watches now (maybe
    nobody any more)."""

    session_id: Id
    watchers: list[Watcher]


class WatchStarted(Outbound):
    """The ack of ``session.watch``: what the watcher needs to show the session. The device's
    offer (with ``watcher_id``) follows."""

    session_id: Id
    mode: WatchMode
    agent: AgentInfo | None
    device: DeviceInfo
    topic: str
    locale: str
    state: Literal["connecting", "active"]
    ice_servers: list[IceServer]
    ice_transport_policy: Literal["all", "relay"] = "all"
    watchers: list[Watcher] = Field(description="Everyone watching now, this supervisor too.")
