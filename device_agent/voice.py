"""The conversation's sound on the device: the agent's voice out, the customer's voice in.

One audio m-section carries both (``sendrecv``, docs/protocol.md §8): the agent's microphone
arrives on it, and the device sends the customer's microphone on it. The customer's microphone is
off until the customer taps "Talk": until then no microphone is opened anywhere (not the preview
page's, not the desktop's) and the track sends nothing, and yet the agent's side needs no new
offer when the customer starts talking.

:class:`Voice` is the hub between the peer connection and whatever plays and records on the
customer's side (the preview page over its WebSocket, the desktop's sound card through
:mod:`.sound`): it hands the agent's decoded voice to every listener, and takes the customer's
PCM from whichever microphone is on. All PCM here is mono signed 16-bit at 48 kHz.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

__all__ = [
    "FRAME_SAMPLES",
    "SAMPLE_RATE",
    "CustomerMicrophone",
    "Pcm",
    "Voice",
    "rms",
    "to_mono",
]

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960
"""20 ms: Opus's usual frame, and what the track sends per ``recv()``."""
MAX_BUFFERED_S = 0.3
"""Customer PCM waiting for the track beyond this is dropped (oldest first): late speech is worse
than a small gap."""

Pcm = npt.NDArray[np.int16]
Listener = Callable[[Pcm], None]


def rms(pcm: Pcm) -> float:
    """Root mean square of ``pcm`` as a fraction of full scale (0 for silence)."""
    if pcm.size == 0:
        return 0.0
    samples = pcm.astype(np.float32)
    return float(np.sqrt(np.mean(samples**2))) / 32768.0


_resamplers: dict[tuple[str, str, int], av.AudioResampler] = {}


def to_mono(frame: av.AudioFrame) -> Pcm:
    """A decoded frame as mono s16 PCM at :data:`SAMPLE_RATE` (aiortc's Opus gives stereo s16)."""
    if frame.format.name == "s16" and frame.sample_rate == SAMPLE_RATE:
        samples = frame.to_ndarray().reshape(-1, len(frame.layout.channels))
        return np.asarray(samples.mean(axis=1), dtype=np.int16)
    key = (frame.format.name, frame.layout.name, frame.sample_rate)
    resampler = _resamplers.get(key)
    if resampler is None:
        resampler = _resamplers[key] = av.AudioResampler("s16", "mono", SAMPLE_RATE)
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)


class CustomerMicrophone(MediaStreamTrack):
    """The customer's voice as an aiortc track: nothing at all until the customer talks, then what
    :meth:`feed` gave, 20 ms a frame.

    While the customer does not talk, :meth:`recv` waits: no packet leaves the device (and no
    receiver decodes silence). While they talk it is paced by the clock (one frame per 20 ms, like
    aiortc's own ``AudioStreamTrack``), so an irregular source (a browser page's chunks, a sound
    card's callbacks) becomes a steady stream, a gap in it filled with silence. Timestamps follow
    the clock across pauses, as RTP wants: the receiver sees the pause as one.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.talking = False
        self.frames_sent = 0
        self.level = 0.0
        """RMS of the latest frame sent."""
        self._chunks: deque[Pcm] = deque()
        self._buffered = 0
        self._talk = asyncio.Event()
        self._origin: float | None = None
        """When the first frame was sent (``time.monotonic()``): timestamp 0."""
        self._resumed: tuple[float, int] | None = None
        """Since when frames go out without a pause: (clock, timestamp) of the first of them."""
        self._pts = 0

    def feed(self, pcm: Pcm) -> None:
        """The customer's PCM (event loop only); ignored unless the customer talks."""
        if not self.talking or pcm.size == 0:
            return
        self._chunks.append(pcm)
        self._buffered += pcm.size
        while self._buffered > MAX_BUFFERED_S * SAMPLE_RATE and len(self._chunks) > 1:
            self._buffered -= self._chunks.popleft().size

    def set_talking(self, talking: bool) -> None:
        self.talking = talking
        if talking:
            self._talk.set()
        else:
            self._talk.clear()
            self._chunks.clear()
            self._buffered = 0

    def stop(self) -> None:
        super().stop()
        self._talk.set()  # a waiting recv() ends

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if not self.talking:
            self._resumed = None
            await self._talk.wait()
            if self.readyState != "live":
                raise MediaStreamError
        now = time.monotonic()
        if self._origin is None:
            self._origin = now
        if self._resumed is None:
            pts = round((now - self._origin) * SAMPLE_RATE / FRAME_SAMPLES) * FRAME_SAMPLES
            self._pts = max(pts, self._pts + FRAME_SAMPLES) if self.frames_sent else pts
            self._resumed = (now, self._pts)
        else:
            self._pts += FRAME_SAMPLES
            since, first = self._resumed
            wait = since + (self._pts - first) / SAMPLE_RATE - now
            if wait > 0:
                await asyncio.sleep(wait)
        pcm = self._take()
        self.level = rms(pcm)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.frames_sent += 1
        return frame

    def _take(self) -> Pcm:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._chunks:
            chunk = self._chunks[0]
            n = min(FRAME_SAMPLES - filled, chunk.size)
            out[filled : filled + n] = chunk[:n]
            filled += n
            self._buffered -= n
            if n == chunk.size:
                self._chunks.popleft()
            else:
                self._chunks[0] = chunk[n:]
        return out


class Voice:
    """The device's two directions of sound, and whether the customer talks.

    ``listeners`` get the agent's voice (decoded, mono, 48 kHz) as it arrives, on the event loop;
    ``watchers`` are told when the customer turns the microphone on or off, so a surface opens or
    closes its microphone (and shows it). A new peer connection gets a new :meth:`track`; the
    customer's choice outlives it (a reconnect does not turn a talking customer's microphone off).
    """

    def __init__(self) -> None:
        self.talking = False
        self.in_session = False
        self.listeners: list[Listener] = []
        self.watchers: list[Callable[[], None]] = []
        self.agent_frames = 0
        self.agent_level = 0.0
        self.customer_peak = 0.0
        """The loudest chunk of the customer's microphone taken while talking (RMS; for tests)."""
        self._track: CustomerMicrophone | None = None

    def track(self) -> CustomerMicrophone:
        """The microphone track for a new peer connection (the old one is stopped by its peer)."""
        self._track = CustomerMicrophone()
        self._track.set_talking(self.talking)
        return self._track

    @property
    def microphone(self) -> CustomerMicrophone | None:
        return self._track

    def set_talking(self, talking: bool) -> None:
        if talking == self.talking:
            return
        self.talking = talking
        if self._track is not None:
            self._track.set_talking(talking)
        self._changed()

    def set_in_session(self, in_session: bool) -> None:
        """A session started or ended; at its end the microphone goes off."""
        self.in_session = in_session
        if not in_session:
            self.talking = False
            if self._track is not None:
                self._track.set_talking(False)
            self._track = None
        self._changed()

    def feed(self, pcm: Pcm) -> None:
        """The customer's microphone PCM (event loop only); dropped unless the customer talks."""
        if self._track is not None and self.talking:
            self.customer_peak = max(self.customer_peak, rms(pcm))
            self._track.feed(pcm)

    def play(self, pcm: Pcm) -> None:
        """The agent's voice, from the peer connection: to every listener."""
        self.agent_frames += 1
        self.agent_level = rms(pcm)
        for listener in list(self.listeners):
            listener(pcm)

    def _changed(self) -> None:
        for watcher in list(self.watchers):
            watcher()
