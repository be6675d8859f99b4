"""The customer's screen to each supervisor watching the session (docs/protocol.md §19.3).

A watcher gets a peer connection of its own, offered by the device as the agent's is, with its id
on every message (``watcher_id``): a second stream of the same screen, with the same private
regions blacked out and the same marks, encoded separately (a second :class:`ScreenTrack` over the
same source: each consumer of a track needs its own). A supervisor who only watches sends nothing
the device acts on; one who joined draws, into the same annotation layer as the agent, in the
colour its console chose. Remote control never comes this way: it is the session agent's alone.

The server tells the device who watches (``session.watchers``); this set of connections follows
that list, and the customer's view says who watches (:attr:`names`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import socketio
import structlog

from signaling import Event, ProtocolError
from signaling import models as m

from .media import ScreenTrack
from .overlay import AnnotationLayer
from .peer import DevicePeer
from .screens.base import ScreenSource
from .signaling_client import SignalingClient

__all__ = ["WatcherConnections"]

log = structlog.get_logger("mayday.device.watchers")

REOFFER_DELAY_S = 2.0
"""A watcher's connection that stays disconnected this long is offered anew."""


class WatcherConnections:
    def __init__(
        self,
        *,
        client: SignalingClient,
        source: ScreenSource,
        annotations: AnnotationLayer,
        fps: float,
        keepalive_fps: float,
        codec: str,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._client = client
        self._source = source
        self._annotations = annotations
        self._fps = fps
        self._keepalive_fps = keepalive_fps
        self._codec = codec
        self._spawn = spawn
        self._session: dict[str, Any] | None = None
        self._peers: dict[str, DevicePeer] = {}
        self._watchers: dict[str, tuple[str, str]] = {}
        """Who watches now: id -> (name, mode), as the server said last."""
        self.paused = False

    @property
    def names(self) -> tuple[tuple[str, str], ...]:
        """``(name, mode)`` of each watcher, for the customer's view."""
        return tuple(self._watchers.values())

    async def update(self, session: dict[str, Any] | None, update: dict[str, Any]) -> None:
        """``session.watchers`` for ``session``: connect new watchers, drop those gone."""
        if session is None or update.get("session_id") != session.get("session_id"):
            return
        self._session = session
        watchers = update.get("watchers")
        listed = watchers if isinstance(watchers, list) else []
        now = {
            str(w["id"]): (str(w.get("name", "")), str(w.get("mode", "watch")))
            for w in listed
            if isinstance(w, dict) and isinstance(w.get("id"), str)
        }
        self._watchers = now
        for watcher_id in set(self._peers) - set(now):
            await self._drop(watcher_id)
        for watcher_id in now:
            if watcher_id not in self._peers:
                await self._offer(watcher_id)

    async def on_answer(self, data: dict[str, Any]) -> None:
        peer = self._peer_for(data)
        if peer is not None:
            await peer.apply_answer(str(data.get("sdp", "")))

    async def on_ice(self, data: dict[str, Any]) -> None:
        peer = self._peer_for(data)
        candidate = data.get("candidate")
        if peer is not None and isinstance(candidate, dict):
            await peer.add_candidate(candidate)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        for peer in self._peers.values():
            peer.track.paused = paused
            peer.send_status()

    async def close(self) -> None:
        """The session is over (or the device stops): every watcher's connection goes."""
        self._session = None
        self._watchers = {}
        for watcher_id in list(self._peers):
            await self._drop(watcher_id)

    def _peer_for(self, data: dict[str, Any]) -> DevicePeer | None:
        watcher_id = data.get("watcher_id")
        session = self._session
        if not isinstance(watcher_id, str) or session is None:
            return None
        if data.get("session_id") != session.get("session_id"):
            return None
        return self._peers.get(watcher_id)

    async def _offer(self, watcher_id: str) -> None:
        session = self._session
        if session is None:
            return
        await self._drop(watcher_id)
        session_id = str(session["session_id"])
        track = ScreenTrack(
            self._source,
            fps=self._fps,
            keepalive_fps=self._keepalive_fps,
            annotations=self._annotations,
        )
        track.paused = self.paused
        peer = DevicePeer(
            session_id=session_id,
            track=track,
            annotations=self._annotations,
            ice_servers=session.get("ice_servers", []),
            ice_transport_policy=str(session.get("ice_transport_policy", "all")),
            on_state=lambda state: self._spawn(self._on_state(watcher_id, peer, state)),
            codec=self._codec,
            accepts_marks=lambda: self._watchers.get(watcher_id, ("", ""))[1] == "join",
        )
        self._peers[watcher_id] = peer
        sdp = await peer.offer()
        if self._peers.get(watcher_id) is not peer:
            return
        log.info("watcher.offer", session_id=session_id, watcher_id=watcher_id)
        with contextlib.suppress(ProtocolError, socketio.exceptions.SocketIOError):
            await self._client.call(
                Event.RTC_OFFER, m.RtcOffer(session_id=session_id, sdp=sdp, watcher_id=watcher_id)
            )

    async def _on_state(self, watcher_id: str, peer: DevicePeer, state: str) -> None:
        if self._peers.get(watcher_id) is not peer:
            return
        if state == "failed":
            await self._offer(watcher_id)
        elif state == "disconnected":
            await asyncio.sleep(REOFFER_DELAY_S)
            if self._peers.get(watcher_id) is peer and peer.connection_state != "connected":
                await self._offer(watcher_id)

    async def _drop(self, watcher_id: str) -> None:
        peer = self._peers.pop(watcher_id, None)
        if peer is not None:
            peer.track.stop()
            await peer.close()
