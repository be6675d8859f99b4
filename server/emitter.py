"""Addressing: every socket joins the room of the identity it authenticated as.

A device's sockets sit in ``device:<id>`` on ``/device``, an agent's in ``agent:<id>`` on
``/agent``. A session's room is the pair of its parties' identity rooms: the server sends a
session's traffic to exactly those two rooms, so it reaches the party on whichever socket (or,
with the Redis manager, whichever process) they are connected to now, and never anyone else. The
queue goes to many agents at once as a list of their rooms (:meth:`Emitter.send_local_many`),
each process to the agents connected to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import socketio
from pydantic import BaseModel

from signaling import Event, Role

__all__ = ["NAMESPACES", "Emitter", "identity_room"]

NAMESPACES: dict[Role, str] = {"device": "/device", "agent": "/agent"}


FAN_OUT_CHUNK = 25
"""Recipients of one :meth:`Emitter.send_local_many` emit, between two turns of the loop."""


def identity_room(role: Role, identity_id: str) -> str:
    return f"{role}:{identity_id}"


class Emitter:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def send(
        self, role: Role, identity_id: str, event: Event, payload: BaseModel, *, local: bool = False
    ) -> None:
        """To an identity's socket wherever it is; ``local`` when it is known to be here.

        A local send skips the Redis message queue (python-socketio's ``ignore_queue``): the
        queue pushes go to sockets this process holds, and routing them through Redis to every
        process would cost a publish and a parse per process for each of them.
        """
        await self.send_raw(role, identity_id, event, payload.model_dump(mode="json"), local=local)

    async def send_raw(
        self,
        role: Role,
        identity_id: str,
        event: Event,
        data: dict[str, Any],
        *,
        local: bool = False,
    ) -> None:
        await self._sio.emit(
            event.value,
            data,
            room=identity_room(role, identity_id),
            namespace=NAMESPACES[role],
            ignore_queue=local,
        )

    async def send_local_many(
        self, role: Role, identity_ids: Sequence[str], event: Event, payload: BaseModel
    ) -> None:
        """One payload to many identities whose sockets this process holds.

        The payload is encoded once per ``FAN_OUT_CHUNK`` recipients, and the event loop turns
        between chunks: a queue pushed to a thousand agents never holds a ring or an answer up
        for more than one chunk's sends."""
        data = payload.model_dump(mode="json")
        for start in range(0, len(identity_ids), FAN_OUT_CHUNK):
            chunk = identity_ids[start : start + FAN_OUT_CHUNK]
            await self._sio.emit(
                event.value,
                data,
                to=[identity_room(role, identity_id) for identity_id in chunk],
                namespace=NAMESPACES[role],
                ignore_queue=True,
            )

    async def join(self, sid: str, role: Role, identity_id: str) -> list[str]:
        """Put ``sid`` in its identity's rooms; returns the older sockets of that identity here.

        Only one socket per identity may stay (the newest); the caller drops the older ones once
        the new one has taken over, so their disconnects are not mistaken for a lost peer.
        """
        namespace = NAMESPACES[role]
        room = identity_room(role, identity_id)
        older = [
            other
            for other, _ in self._sio.manager.get_participants(namespace, room)
            if other != sid
        ]
        await self._sio.enter_room(sid, room, namespace=namespace)
        return older

    async def drop(self, sids: Iterable[str | None], role: Role) -> None:
        """Disconnect sockets that a newer connection of the same identity replaced."""
        for sid in {s for s in sids if s}:
            await self._sio.disconnect(sid, namespace=NAMESPACES[role])
