"""python-socketio's room bookkeeping, with each socket's rooms indexed.

The stock manager finds the rooms of a socket that disconnects by looking through every room of
its namespace (after copying them). Every socket has a room of its own and one for its identity,
so a disconnect costs time in proportion to all the sockets the process holds: with 10,000
devices connected, ending a benchmark spent 40 % of the server's time there, and a network
blip that drops every socket at once costs the square of their number. Here each socket's rooms
are noted as it enters and leaves them, and a disconnect leaves just those; what rooms hold
(``manager.rooms``) is exactly what the stock manager keeps.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import socketio

__all__ = ["IndexedRooms", "LocalManager"]

_Room = Hashable
"""A room's name; ``None`` is the room of every socket of the namespace."""


class IndexedRooms:
    """Mixed into a python-socketio manager (before it): the same rooms, each socket's indexed."""

    rooms: dict[str, dict[_Room, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[_Room]] = {}
        """``(namespace, sid)`` → the rooms that socket is in (its own and ``None`` included)."""

    def basic_enter_room(
        self, sid: str, namespace: str, room: _Room, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: _Room) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """As the stock manager's, but over the socket's own rooms only."""
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[_Room]:
        """The rooms a socket is in, but for the room of every socket (as the stock one)."""
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


class LocalManager(IndexedRooms, socketio.AsyncManager):  # type: ignore[misc]
    """The manager of a process on its own (no Redis): every emit reaches sockets held here."""
