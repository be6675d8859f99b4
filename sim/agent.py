"""A support agent without a browser: signs in, takes rings, receives and decodes the video.

It speaks exactly the protocol the console speaks (``/agent`` namespace, the same events and
acks), so what it measures is what a real agent gets. Used by the end-to-end tests, the
benchmarks and ``mayday sim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import av
import structlog
from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from pydantic import BaseModel

from device_agent.rtc import peer_connection, report_connection_state
from device_agent.signaling_client import SignalingClient
from signaling import Event, ProtocolError
from signaling import models as m

__all__ = ["HeadlessAgent"]

log = structlog.get_logger("mayday.headless_agent")

RECENT_FRAMES = 8


class HeadlessAgent:
    def __init__(self, server_url: str, token: str) -> None:
        self.client = SignalingClient(server_url, "agent", {"token": token})
        self.rings: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sessions: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ended: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session: dict[str, Any] | None = None
        self.pc: RTCPeerConnection | None = None
        self._offers = asyncio.Lock()
        self._offer_count = 0
        """Offers received so far: one being answered when a newer one comes is finished first,
        one still waiting then is dropped (the device only wants the answer to its newest)."""
        self._offered: str | None = None
        """The SDP of the last offer answered, and the answer (a repeated offer gets it again)."""
        self._answer_sdp: str | None = None
        self.first_frame: asyncio.Future[tuple[float, av.VideoFrame]] = self._new_future()
        self.latest_frame: av.VideoFrame | None = None
        self.latest_frame_at = 0.0
        self.frames_received = 0
        self.frame_times: list[float] = []
        """``perf_counter()`` of every frame decoded since the last :meth:`accept` (for frame rates)."""
        self.recent_frames: deque[tuple[int, float, av.VideoFrame]] = deque(maxlen=RECENT_FRAMES)
        """The newest decoded frames as ``(index, perf_counter time, frame)``; ``index`` counts
        :attr:`frames_received`, so a reader can go through every frame after one it has seen."""
        self._reader: asyncio.Task[None] | None = None
        self.client.on(Event.RING, self._on_ring)
        self.client.on(Event.CALLBACK_CALLING, self._on_callback_calling)
        self.client.on(Event.SESSION_STARTED, self._on_session_started)
        self.client.on(Event.SESSION_ENDED, self._on_session_ended)
        self.client.on(Event.RTC_OFFER, self._on_offer)
        self.client.on(Event.CONTROL_STATE, self._on_control_state)
        self.client.on(Event.PRESENCE_UPDATE, self._on_presence)
        self.presence_listeners: list[Callable[[dict[str, Any]], Awaitable[None]]] = []
        """Called with every ``presence.update`` (the socket has one handler per event)."""
        self.end_wrapup_at_once = True
        """After a session the server holds rings back for the agent's wrap-up: a headless
        agent needs none and goes back to the queue at once, as a person clicking "Back to the
        queue" would."""
        self.control_states: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.control: str = "none"
        self.channel: RTCDataChannel | None = None
        self.channel_open = asyncio.Event()
        self.device_status: dict[str, Any] = {}
        self.frame_event = asyncio.Event()
        self.microphone: MediaStreamTrack | None = None
        self.camera: MediaStreamTrack | None = None
        self._input_seq = 0

    @staticmethod
    def _new_future() -> asyncio.Future[tuple[float, av.VideoFrame]]:
        return asyncio.get_running_loop().create_future()

    async def start(self, *, available: bool = True) -> None:
        await self.client.connect()
        if available:
            await self.set_presence("available")

    async def set_presence(self, status: str) -> None:
        await self.client.call(Event.PRESENCE_SET, {"status": status})

    async def next_ring(self, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.rings.get(), timeout)

    async def accept(self, ring_id: str) -> str:
        self.prepare()
        ack = await self.client.call(Event.RING_ACCEPT, m.RingAccept(ring_id=ring_id))
        return str(ack["session_id"])

    def prepare(self) -> None:
        """Forget the last session's frames and control: a new one is about to start (accepted
        here, or connected by the customer answering a callback)."""
        if self.first_frame.done():
            self.first_frame = self._new_future()
        self.frame_times = []
        self.recent_frames.clear()
        self.device_status = {}
        while not self.control_states.empty():  # left over from an earlier session
            self.control_states.get_nowait()
        self.control = "none"

    async def decline(self, ring_id: str) -> None:
        await self.client.call(Event.RING_DECLINE, m.RingDecline(ring_id=ring_id))

    async def end_session(self, reason: str = "resolved") -> None:
        if self.session is not None:
            await self.client.call(
                Event.SESSION_END,
                m.SessionEnd(session_id=self.session["session_id"], reason=reason),
            )

    async def transfer(
        self,
        to: str,
        *,
        agent_id: str | None = None,
        topic: str | None = None,
        locale: str | None = None,
        note: str = "",
    ) -> str:
        """Hand the customer on (``session.transfer``); the new ticket's id."""
        request = m.SessionTransfer.model_validate(
            {
                "session_id": self.session_id,
                "to": to,
                "agent_id": agent_id,
                "topic": topic,
                "locale": locale,
                "note": note,
            }
        )
        ack = await self.client.call(Event.SESSION_TRANSFER, request)
        return str(ack["ticket_id"])

    async def watch(self, session_id: str, mode: str = "watch") -> dict[str, Any]:
        """As a supervisor, watch (or join) another agent's session: the device offers this
        agent a connection of its own, answered as any (its frames arrive as a session's)."""
        if self.first_frame.done():
            self.first_frame = self._new_future()
        request = m.SessionWatch.model_validate({"session_id": session_id, "mode": mode})
        ack = await self.client.call(Event.SESSION_WATCH, request)
        self.session = dict(ack["session"])
        return self.session

    async def leave(self) -> None:
        """Stop watching."""
        if self.session is not None:
            await self.client.call(
                Event.SESSION_LEAVE, m.SessionLeave(session_id=self.session["session_id"])
            )
            self.session = None
            await self._stop_media()

    @property
    def session_id(self) -> str:
        if self.session is None:
            raise RuntimeError("no session")
        return str(self.session["session_id"])

    async def request_control(self) -> dict[str, Any]:
        ack = await self.client.call(
            Event.CONTROL_REQUEST, m.SessionRef(session_id=self.session_id)
        )
        return dict(ack["control"])

    async def release_control(self) -> None:
        await self.client.call(Event.CONTROL_RELEASE, m.SessionRef(session_id=self.session_id))

    async def send_input(self, *events: dict[str, Any]) -> dict[str, Any]:
        """Send input events (normalized coordinates); returns the ack, error acks included."""
        self._input_seq += 1
        payload = {"session_id": self.session_id, "seq": self._input_seq, "events": list(events)}
        try:
            return await self.client.call(Event.CONTROL_INPUT, payload)
        except ProtocolError as exc:
            return exc.body()

    async def annotate(self, message: BaseModel, timeout: float = 30.0) -> float:
        """Send one annotation message on the data channel; returns ``perf_counter()`` at send.

        A channel can close under us (the device lost its connection and is about to offer a
        new one): the message then waits for the next channel to open, as a person's stroke
        waits in the console, instead of failing the run. Up to ``timeout``: a server process
        restarting under the session drains for up to ~7 s before the device reconnects and
        offers again, which on a loaded machine took longer than the 10 s this once was.
        """
        deadline = time.monotonic() + timeout
        while True:
            opened = self.channel_open
            await asyncio.wait_for(opened.wait(), max(0.01, deadline - time.monotonic()))
            channel = self.channel
            if channel is not None and channel.readyState == "open":
                sent = time.perf_counter()
                channel.send(message.model_dump_json())
                return sent
            if opened is self.channel_open:
                opened.clear()

    async def wait_control(self, state: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            update = await asyncio.wait_for(
                self.control_states.get(), max(0.01, deadline - time.monotonic())
            )
            if update["state"] == state:
                return update

    async def wait_frame(
        self, predicate: Callable[[av.VideoFrame], bool], timeout: float = 10.0
    ) -> tuple[float, av.VideoFrame]:
        """The first decoded frame from now on that satisfies ``predicate``, with its time."""
        deadline = time.monotonic() + timeout
        while True:
            self.frame_event.clear()
            await asyncio.wait_for(self.frame_event.wait(), max(0.01, deadline - time.monotonic()))
            frame, at = self.latest_frame, self.latest_frame_at
            if frame is not None and predicate(frame):
                return at, frame

    async def wait_first_frame(self, timeout: float = 10.0) -> tuple[float, av.VideoFrame]:
        """``(time.perf_counter() when decoded, frame)`` of the session's first decoded frame."""
        return await asyncio.wait_for(asyncio.shield(self.first_frame), timeout)

    async def close(self) -> None:
        await self._stop_media()
        with contextlib.suppress(Exception):
            await self.client.close()

    # --- server events --------------------------------------------------------------------------

    async def _on_ring(self, data: dict[str, Any]) -> None:
        data["_received_at"] = time.perf_counter()
        self.rings.put_nowait(data)

    async def _on_callback_calling(self, data: dict[str, Any]) -> None:
        """Held for a callback: offered like a ring, marked, for the customer to answer."""
        data["_received_at"] = time.perf_counter()
        data["_callback"] = True
        self.rings.put_nowait(data)

    async def _on_session_started(self, data: dict[str, Any]) -> None:
        self.session = data
        self.sessions.put_nowait(data)

    async def _on_session_ended(self, data: dict[str, Any]) -> None:
        self.session = None
        await self._stop_media()
        self.ended.put_nowait(data)

    async def _on_presence(self, data: dict[str, Any]) -> None:
        if data.get("status") == "wrapup" and self.end_wrapup_at_once:
            with contextlib.suppress(Exception):
                await self.set_presence("available")
        for listener in self.presence_listeners:
            await listener(data)

    async def _on_control_state(self, data: dict[str, Any]) -> None:
        self.control = str(data.get("state"))
        self.control_states.put_nowait(data)

    async def _on_offer(self, data: dict[str, Any]) -> None:
        # Socket.IO runs each event in a task of its own: a device that offers twice in a row (it
        # came back, then found its media silent) would have the second offer close the first's
        # connection under it. One offer at a time, and only the newest.
        if data.get("sdp") == self._offered and self._answer_sdp is not None:
            # The same offer again (the device sent it again across a lost socket): the same
            # answer, not a new connection closing the one the device may be connecting to.
            await self.client.call(
                Event.RTC_ANSWER, m.RtcAnswer(session_id=data["session_id"], sdp=self._answer_sdp)
            )
            return
        self._offer_count += 1
        number = self._offer_count
        async with self._offers:
            if number != self._offer_count:
                return
            answer = await self._answer(data)
            self._offered, self._answer_sdp = data.get("sdp"), answer
        # Sent outside the lock: across a server restart the call may wait for the socket to
        # come back, and a newer offer must not wait behind it.
        if number == self._offer_count:
            await self.client.call(
                Event.RTC_ANSWER, m.RtcAnswer(session_id=data["session_id"], sdp=answer)
            )

    async def _answer(self, data: dict[str, Any]) -> str:
        """A new connection for the offer; its answer's SDP."""
        session_id = data["session_id"]
        ice_servers = self.session.get("ice_servers", []) if self.session else []
        await self._stop_media()
        if self.first_frame.done():
            self.first_frame = self._new_future()
        policy = str(self.session.get("ice_transport_policy", "all")) if self.session else "all"
        pc = peer_connection(ice_servers, policy)
        self.pc = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and self._reader is None:
                self._reader = asyncio.create_task(self._read(track))

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            self.channel = channel
            channel.on("message", self._on_channel_message)
            opened = self.channel_open
            if channel.readyState == "open":
                opened.set()
            channel.on("open", opened.set)

            @channel.on("close")
            def on_close() -> None:
                if self.channel is channel:
                    opened.clear()

        report_connection_state(pc, self.client, session_id)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        # The device offers a two-way slot for the voices (the customer's microphone, once they
        # tap Talk, and the agent's) and a receive-only one for the agent's camera.
        videos = [t for t in pc.getTransceivers() if t.kind == "video"]
        for transceiver, track, direction in (
            *((t, self.microphone, "sendrecv") for t in pc.getTransceivers() if t.kind == "audio"),
            *((t, self.camera, "sendonly") for t in videos[1:2]),
        ):
            if track is not None:
                transceiver.sender.replaceTrack(track)
                transceiver.direction = direction
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.frames_received += 1
                at = time.perf_counter()
                self.latest_frame = frame
                self.latest_frame_at = at
                self.frame_times.append(at)
                self.recent_frames.append((self.frames_received, at, frame))
                self.frame_event.set()
                if not self.first_frame.done():
                    self.first_frame.set_result((time.perf_counter(), frame))

    def _on_channel_message(self, message: str | bytes) -> None:
        with contextlib.suppress(ValueError):
            data = json.loads(message)
            if isinstance(data, dict) and data.get("type") == "status":
                self.device_status = data

    async def _stop_media(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self.channel, self.channel_open = None, asyncio.Event()
        pc, self.pc = self.pc, None
        if pc is not None:
            await pc.close()
