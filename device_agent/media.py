"""The screen as an aiortc video track.

A static screen must not burn a core: re-encoding an unchanged 1280×800 frame 30 times a second
costs about a third of a core. So the track sends at the frame-rate cap only while the picture
changes (the screen, the agent's marks, a fading mark, pause), and otherwise a keep-alive frame now
and then so the receiver knows the stream is alive. Whether the picture changed is told by the
source's ``revision`` when it has one, else by comparing the captured pixels with the last picture.

A moving screen must hold the frame rate on a small device, so a frame costs only what changed:
the last picture is kept converted for the encoder (:class:`~device_agent.frames.YuvCanvas`) and
only the rows that differ are converted again; a keep-alive frame of an unchanged picture is not
captured or converted at all. Frames are due on a fixed grid of ``1/fps``, so the time a frame
takes to prepare and encode does not stretch the interval (it did: 26 instead of 30 frames a
second).

Capture, privacy blackout, annotation drawing, the comparison and the conversion all run in a
worker thread; the encoder runs in another (aiortc's, with the GIL released by the codec); the
event loop only waits.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from .frames import YuvCanvas
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
this, a new mark would look smudged until the next keep-alive frame, a second later. (These
frames repeat the converted picture: no capture, no conversion, only the encoder's work.)"""


@dataclass
class StreamStats:
    frames_sent: int = 0
    polls: int = 0
    hidden_regions: int = 0
    renders: int = 0
    """Pictures captured and compared (keep-alive and settling frames of a source that tells
    its revision are not)."""


@dataclass(frozen=True)
class _Rendered:
    frame: av.VideoFrame
    key: Hashable
    hidden_regions: int
    changed: bool
    """Whether the picture differs from the last one rendered."""


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
        self.before_send: Callable[[], object] | None = None
        """Called on the event loop just before each frame goes to the sender (the peer puts its
        screen encoder in place there)."""
        self.stats = StreamStats()
        self._canvas = YuvCanvas()
        self._start: float | None = None
        self._due = 0.0
        """When the frame after the last one may go out, on the ``1/fps`` grid."""
        self._last_sent_at = 0.0
        self._last_key: Hashable = None
        self._changed_at = 0.0
        self._hidden_regions = 0
        self._card: Frame | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = self._changed_at = self._due = time.monotonic()
            rendered = await asyncio.to_thread(self._render, self._cheap_key())
        else:
            rendered = await self._next_change()
        now = time.monotonic()
        self._last_key = rendered.key
        self._last_sent_at = now
        # The next frame is due one interval after this one was, unless this one was late.
        self._due = max(self._due, now - 0.5 / self.fps) + 1.0 / self.fps
        self.stats.frames_sent += 1
        if rendered.hidden_regions != self.stats.hidden_regions:
            self.stats.hidden_regions = rendered.hidden_regions
            if self.on_hidden_change is not None:
                self.on_hidden_change()
        frame = rendered.frame
        frame.pts = int((now - self._start) * VIDEO_CLOCK_RATE)
        frame.time_base = TIME_BASE
        if self.before_send is not None:
            self.before_send()
        return frame

    async def _next_change(self) -> _Rendered:
        frame_interval = 1.0 / self.fps
        next_poll = self._due
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
            animating = self.annotations is not None and self.annotations.animating()
            cheap_key = self._cheap_key()
            if cheap_key is not None and cheap_key == self._last_key and not animating:
                if keepalive_due or settling:
                    # The same picture again: what was converted last time is still right.
                    return self._repeat(cheap_key)
                next_poll = max(now, next_poll) + frame_interval
                continue
            rendered = await asyncio.to_thread(self._render, cheap_key)
            if rendered.changed:
                self._changed_at = now
                return rendered
            if keepalive_due or settling or animating:
                return rendered
            # A new revision that looks the same: no frame, and no capture until the next one.
            self._last_key = rendered.key
            still_for = now - self._changed_at
            next_poll = max(now, next_poll) + (
                STATIC_POLL_S if still_for > STATIC_AFTER_S else frame_interval
            )

    def _cheap_key(self) -> Hashable:
        """The picture's identity without capturing it, if the source can tell; else ``None``."""
        if self.paused:
            return ("paused",)
        revision = self.source.revision
        if revision is None:
            return None
        layer = self.annotations.revision if self.annotations else 0
        return ("screen", revision, layer)

    def _repeat(self, key: Hashable) -> _Rendered:
        return _Rendered(self._canvas.frame(), key, self._hidden_regions, changed=False)

    def _render(self, cheap_key: Hashable) -> _Rendered:
        """Worker thread: capture, hide what is private, draw the marks, update the canvas."""
        self.stats.renders += 1
        if self.paused:
            if self._card is None:
                self._card = paused_card(self.source.size)
            pixels, regions = self._card, 0
        else:
            captured, hidden = self.source.capture_private()
            pixels, regions = black_out(captured, hidden), len(hidden)
            if self.annotations is not None:
                pixels = self.annotations.composite(pixels)
        changed = self._canvas.update(pixels)
        key = cheap_key
        if key is None:
            key = ("pixels", self.stats.renders) if changed else self._last_key
        self._hidden_regions = regions
        return _Rendered(self._canvas.frame(), key, regions, changed)
