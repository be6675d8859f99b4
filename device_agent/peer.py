"""One WebRTC connection of the device to the agent of its session.

The device offers, once per connection attempt (a new session, a resume, a failed connection):

* the screen: a send-only video track (:class:`~device_agent.media.ScreenTrack`);
* the conversation: one send-and-receive audio slot, the agent's microphone in and the customer's
  out (:class:`~device_agent.voice.CustomerMicrophone`: nothing until the customer taps "Talk"),
  offered up front so either side can start talking later without renegotiating;
* the agent's optional camera: a receive-only video slot; the customer is never filmed;
* the ``annotations`` data channel: the agent's marks in, the device's status out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import av
import numpy as np
import structlog
from aiortc import (
    MediaStreamTrack,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
    RTCSessionDescription,
    RTCTransportStats,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from pydantic import ValidationError

from signaling.annotations import ANNOTATION_CHANNEL, DeviceStatus, parse_annotation

from .encoding import install_screen_encoder
from .media import ScreenTrack
from .overlay import AnnotationLayer
from .rtc import peer_connection
from .voice import CustomerMicrophone, Pcm, to_mono

__all__ = ["DEFAULT_CODEC", "DevicePeer"]

CAMERA_STALE_S = 1.0
"""A camera silent this long is off: the customer's tile disappears instead of freezing."""

DEFAULT_CODEC = "h264"
"""Offered first; VP8 stays offered after it, so an agent without H.264 still gets video.

Measured with bench/device.py on a 1280×800 screen (2 cores), with the screen encoders of
:mod:`device_agent.encoding`: a moving picture at 30 fps costs 18 % of a core in H.264 and 22 %
in VP8, at 507 and 574 kbit/s; a still one about 1 % at 25 kbit/s in either. (With aiortc's own
x264 settings, ``medium``, H.264 took half VP8's bits but 48 % of a core at 26 fps.)"""

MEDIA_SILENCE_S = 3.0
"""Nothing from the agent for this long on a connected peer connection: its media was cut. The
agent's receiver reports alone come every 0.5 to 1.5 s (aiortc; browsers about 1 s)."""
HEARD_POLL_S = 0.5

log = structlog.get_logger("mayday.device.peer")


class DevicePeer:
    def __init__(
        self,
        *,
        session_id: str,
        track: ScreenTrack,
        annotations: AnnotationLayer,
        ice_servers: Sequence[dict[str, Any]],
        ice_transport_policy: str = "all",
        on_state: Callable[[str], None],
        codec: str = DEFAULT_CODEC,
        microphone: CustomerMicrophone | None = None,
        on_audio: Callable[[Pcm], None] | None = None,
        accepts_marks: Callable[[], bool] = lambda: True,
    ) -> None:
        self.session_id = session_id
        self.track = track
        self.annotations = annotations
        self.pc: RTCPeerConnection = peer_connection(ice_servers, ice_transport_policy)
        self.channel: RTCDataChannel = self.pc.createDataChannel(ANNOTATION_CHANNEL)
        self.audio_frames = 0
        self.audio_level = 0.0
        self.camera_frame: av.VideoFrame | None = None
        self.camera_frames = 0
        self._camera_at = 0.0
        self._early_candidates: list[dict[str, Any]] = []
        self._answered = False
        self._readers: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._silence: tuple[float, float | None] | None = None
        """The latest silence of :data:`MEDIA_SILENCE_S` or longer: (start, end or ``None``)."""
        self._on_state = on_state
        self.microphone = microphone
        self._on_audio = on_audio
        self._accepts_marks = accepts_marks
        """Whether marks from the other end are drawn now (a watching supervisor's are not)."""
        screen = self.pc.addTransceiver(track, direction="sendonly")
        screen.setCodecPreferences(_preferred_first(codec))
        # The screen is encoded with settings for screen content (device_agent.encoding),
        # put in place once the codec is negotiated, before the first frame is encoded.
        track.before_send = lambda: install_screen_encoder(screen)
        # Without a microphone track (a device that cannot talk back) the slot only receives.
        if microphone is not None:
            self.pc.addTransceiver(microphone, direction="sendrecv")
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)
        self.channel.on("message", self._on_message)
        self.channel.on("open", self.send_status)
        track.on_hidden_change = self.send_status

    @property
    def connection_state(self) -> str:
        return str(self.pc.connectionState)

    @property
    def answered(self) -> bool:
        """Whether the other end's answer to this connection's offer has been applied."""
        return self._answered

    @property
    def has_been_up(self) -> bool:
        """Whether this connection has been ``connected`` at some time."""
        return self._listener is not None

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def apply_answer(self, sdp: str) -> None:
        if self.pc.signalingState != "have-local-offer":
            # A second copy of an answer already applied (a call resent across a lost socket):
            # the connection has it; applying it again would only raise.
            log.info("peer.answer_ignored", state=self.pc.signalingState)
            return
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self._answered = True
        early, self._early_candidates = self._early_candidates, []
        for candidate in early:
            await self.add_candidate(candidate)

    async def add_candidate(self, candidate: dict[str, Any]) -> None:
        if not self._answered:
            # Trickled candidates may overtake the answer: keep them until it is applied.
            self._early_candidates.append(candidate)
            return
        line = str(candidate.get("candidate") or "")
        if not line:
            return
        ice = candidate_from_sdp(line.removeprefix("candidate:"))
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(ice)

    def went_silent_since(self, since: float) -> bool:
        """Whether nothing came from the agent for :data:`MEDIA_SILENCE_S` or longer at some time
        after ``since`` (``time.monotonic()``): the connection may say ``connected``, but its
        media was cut, and aiortc may not recover a frozen picture until the next key frame."""
        return self._silence is not None and (self._silence[1] or time.monotonic()) >= since

    def live_camera_frame(self) -> av.VideoFrame | None:
        """The agent's latest camera picture, unless the camera went quiet (turned off)."""
        if self.camera_frame is None or time.monotonic() - self._camera_at > CAMERA_STALE_S:
            return None
        return self.camera_frame

    def send_status(self) -> None:
        """Tell the agent what its view is missing (paused sharing, hidden regions) and what the
        device is (model, system, screen, battery, network: the Customer tab)."""
        if self.channel.readyState != "open":
            return
        status = DeviceStatus(
            sharing_paused=self.track.paused,
            hidden_regions=self.track.stats.hidden_regions,
            device=self.track.source.facts(),
        )
        self.channel.send(status.model_dump_json())

    async def close(self) -> None:
        if self.microphone is not None:
            self.microphone.stop()
        if self._listener is not None:
            self._listener.cancel()
        for reader in self._readers:
            reader.cancel()
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.pc.close()

    # --- events -------------------------------------------------------------------------------

    def _on_message(self, message: str | bytes) -> None:
        if not self._accepts_marks():
            log.info("annotation.not_joined", session_id=self.session_id)
            return
        try:
            self.annotations.apply(parse_annotation(message))
        except (ValidationError, ValueError) as exc:
            log.warning("annotation.refused", session_id=self.session_id, error=str(exc)[:200])

    def _on_track(self, track: MediaStreamTrack) -> None:
        reader = self._read_audio(track) if track.kind == "audio" else self._read_camera(track)
        self._readers.append(asyncio.ensure_future(reader))

    async def _on_connection_state(self) -> None:
        if self.connection_state == "connected" and self._listener is None:
            self._listener = asyncio.ensure_future(self._listen())
        self._on_state(self.connection_state)

    async def _listen(self) -> None:
        """Note when the agent falls silent: no packet at all (media, RTCP, DTLS) for a while."""
        received, heard_at = -1, time.monotonic()
        while self.pc.connectionState == "connected":
            await asyncio.sleep(HEARD_POLL_S)
            report = await self.pc.getStats()
            count = sum(
                stats.packetsReceived
                for stats in report.values()
                if isinstance(stats, RTCTransportStats)
            )
            now = time.monotonic()
            if count != received:
                if self._silence is not None and self._silence[1] is None:
                    self._silence = (self._silence[0], now)
                    log.info("peer.heard_again", session_id=self.session_id)
                received, heard_at = count, now
            elif now - heard_at >= MEDIA_SILENCE_S and (
                self._silence is None or self._silence[1] is not None
            ):
                self._silence = (heard_at, None)
                log.info("peer.silent", session_id=self.session_id, silent_s=now - heard_at)

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    samples = frame.to_ndarray().astype(np.float32)
                    self.audio_level = float(np.sqrt(np.mean(samples**2))) / 32768.0
                    self.audio_frames += 1
                    if self._on_audio is not None:
                        self._on_audio(to_mono(frame))

    async def _read_camera(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.camera_frame = frame
                    self.camera_frames += 1
                    self._camera_at = time.monotonic()


def _preferred_first(codec: str) -> list[RTCRtpCodecCapability]:
    """Every video codec aiortc can send, ``codec`` first (the answerer takes the first it knows)."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    wanted = f"video/{codec.lower()}"
    return [c for c in codecs if c.mimeType.lower() == wanted] + [
        c for c in codecs if c.mimeType.lower() != wanted
    ]
