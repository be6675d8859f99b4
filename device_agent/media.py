"""The screen as an aiortc video track.

A static screen must not burn a core: re-encoding an unchanged 1280×800 frame 30 times a second
costs about a third of a core. So the track sends at the frame-rate cap only while the picture
changes (the screen, the agent's marks, a fading mark, pause), and otherwise a keep-alive frame now
and then so the receiver knows the stream is alive. Whether the picture changed is told by the
source's ``revision`` when it has one, else by comparing a checksum of the captured pixels.

Capture, privacy blackout, annotation drawing, checksums and the conversion to a video frame all
run in a worker thread; the event loop only waits.
"""

from __future__ import annotations

import asyncio
import fractions
import time
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from .overlay import AnnotationLayer, black_out, paused_card
from .screens.base import Frame, ScreenSource

__all__ = ["ScreenTrack", "StreamStats"]

VIDEO_CLOCK_RATE = 90_000
TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
STATIC_AFTER_S = 1.0
"""How long a picture must stay the same before pixel-compared sources are polled slowly."""
STATIC_POLL_S = 0.2
SETTLE_S = 0.5
"""After a change, frames go out at the full rate this long even if nothing else moves: the
encoder's first frame after a change is coarse, and only the following ones sharpen it. Without
this, a new mark would look smudged until the next keep-alive frame, a second later."""


@dataclass
class StreamStats:
    frames_sent: int = 0
    polls: int = 0
    hidden_regions: int = 0


@dataclass(frozen=True)
class _Rendered:
    frame: av.VideoFrame
    key: Hashable
    hidden_regions: int


class ScreenTrack(MediaStreamTrack):
    """Frames of a :class:`ScreenSource`: up to ``fps`` while it changes, ``keepalive_fps`` when not."""

    kind = "video"

    def __init__(
        self,
        source: ScreenSource,
        *,
        fps: float = 30.0,
        keepalive_fps: float = 1.0,
        annotations: AnnotationLayer | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.fps = fps
        self.keepalive_fps = keepalive_fps
        self.annotations = annotations
        self.paused = False
        self.on_hidden_change: Callable[[], None] | None = None
        """Called on the event loop when the number of hidden regions in the stream changes."""
        self.stats = StreamStats()
        self._start: float | None = None
        self._last_sent_at = 0.0
        self._last_key: Hashable = None
        self._changed_at = 0.0
        self._card: Frame | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = self._changed_at = time.monotonic()
            rendered = await asyncio.to_thread(self._render, None)
        else:
            rendered = await self._next_change()
        self._last_key = rendered.key
        self._last_sent_at = time.monotonic()
        self.stats.frames_sent += 1
        if rendered.hidden_regions != self.stats.hidden_regions:
            self.stats.hidden_regions = rendered.hidden_regions
            if self.on_hidden_change is not None:
                self.on_hidden_change()
        frame = rendered.frame
        frame.pts = int((self._last_sent_at - self._start) * VIDEO_CLOCK_RATE)
        frame.time_base = TIME_BASE
        return frame

    async def _next_change(self) -> _Rendered:
        frame_interval = 1.0 / self.fps
        next_poll = self._last_sent_at + frame_interval
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            delay = next_poll - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            self.stats.polls += 1
            keepalive_due = now - self._last_sent_at >= 1.0 / self.keepalive_fps
            settling = now - self._changed_at < SETTLE_S
            moving = settling or (self.annotations is not None and self.annotations.animating())
            cheap_key = self._cheap_key()
            if (
                cheap_key is not None
                and cheap_key == self._last_key
                and not (keepalive_due or moving)
            ):
                next_poll = now + frame_interval
                continue
            rendered = await asyncio.to_thread(self._render, cheap_key)
            if rendered.key != self._last_key or keepalive_due or moving:
                if rendered.key != self._last_key:
                    self._changed_at = now
                return rendered
            still_for = now - self._changed_at
            next_poll = now + (STATIC_POLL_S if still_for > STATIC_AFTER_S else frame_interval)

    def _cheap_key(self) -> Hashable:
        """The picture's identity without capturing it, if the source can tell; else ``None``."""
        if self.paused:
            return ("paused",)
        revision = self.source.revision
        if revision is None:
            return None
        layer = self.annotations.revision if self.annotations else 0
        return ("screen", revision, layer)

    def _render(self, cheap_key: Hashable) -> _Rendered:
        """Worker thread: capture, hide what is private, draw the marks, make a video frame."""
        if self.paused:
            if self._card is None:
                self._card = paused_card(self.source.size)
            return _Rendered(av.VideoFrame.from_ndarray(self._card, format="rgb24"), ("paused",), 0)
        pixels, regions = self.source.capture_private()
        key = cheap_key
        if key is None:
            layer = self.annotations.revision if self.annotations else 0
            key = ("pixels", zlib.crc32(np.ascontiguousarray(pixels).data), layer)
        pixels = black_out(pixels, regions)
        if self.annotations is not None:
            pixels = self.annotations.composite(pixels)
        return _Rendered(av.VideoFrame.from_ndarray(pixels, format="rgb24"), key, len(regions))
