"""The picture last sent, kept ready for the encoder, so a frame costs only what changed.

The encoders take YUV 4:2:0 (I420) pictures; the screen comes as RGB. Converting a whole
1280×800 picture costs 2 to 5 ms, and comparing it with the last one (to know whether anything
changed at all) costs another, both per frame at 30 frames a second. A moving screen seldom
changes everywhere at once (a cursor, a marker, a line of text), so :class:`YuvCanvas` keeps the
last picture twice, as RGB and as I420 planes, finds the rows that differ with one vectorised
comparison, and converts only that band (with libswscale, the same conversion the encoders would
otherwise make of the whole picture).
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from .screens.base import Frame

__all__ = ["YuvCanvas", "changed_rows"]

Plane = npt.NDArray[np.uint8]

MARGIN = 4
"""Rows around a changed band that are converted again: the chroma of a row pair is filtered
with its neighbours (libswscale reads one row pair beyond; 4 leaves room), so rows next to a
change change too. Twice this many are read, so that what is kept matches a whole conversion."""


def changed_rows(before: Frame, after: Frame) -> tuple[int, int] | None:
    """``(first, end)`` of the rows that differ between two same-shaped pictures, or ``None``.

    Compared eight bytes at a time when the row length allows (numpy releases the GIL for it).
    """
    height = before.shape[0]
    a, b = before.reshape(height, -1), after.reshape(height, -1)
    if a.shape[1] % 8 == 0 and a.flags.c_contiguous and b.flags.c_contiguous:
        a, b = a.view(np.uint64), b.view(np.uint64)
    differs = np.flatnonzero(np.not_equal(a, b).any(axis=1))
    if differs.size == 0:
        return None
    return int(differs[0]), int(differs[-1]) + 1


def _planes(frame: av.VideoFrame) -> list[Plane]:
    """The Y, U and V planes of an I420 frame as writable views (without the line padding)."""
    return [
        np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)[
            :, : plane.width
        ]
        for plane in frame.planes
    ]


class YuvCanvas:
    """The last picture as RGB and I420; :meth:`update` converts only the rows that changed.

    Used from one worker thread at a time (the track's renders never overlap).
    """

    def __init__(self) -> None:
        self._rgb: Frame | None = None
        self._yuv: list[Plane] = []
        self._reformatters: dict[int, VideoReformatter] = {}
        self.rows_converted = 0
        """Rows converted so far (for tests and benchmarks: how much work was spared)."""

    def update(self, rgb: Frame) -> bool:
        """Take the current picture; ``True`` if it differs from the last one."""
        height, width = rgb.shape[:2]
        band: tuple[int, int] | None = (0, height)
        if self._rgb is not None and self._rgb.shape == rgb.shape:
            band = changed_rows(self._rgb, rgb)
            if band is None:
                return False
        else:
            self._rgb = None
        if self._rgb is None or height % 2 or width % 2:
            # A first picture, a new size, or odd sides (no whole chroma rows): all of it.
            self._rgb = np.array(rgb, dtype=np.uint8, order="C", copy=True)
            self._yuv = [plane.copy() for plane in _planes(self._convert(self._rgb))]
            self.rows_converted += height
            return True
        assert band is not None
        first, end = band
        self._rgb[first:end] = rgb[first:end]
        # Keep [keep0, keep1) from a conversion of [read0, read1): both on even rows (chroma
        # pairs), the kept rows at least MARGIN inside whatever was read, unless at an edge.
        keep0 = max(0, (first - MARGIN) & ~1)
        keep1 = min(height, (end + MARGIN + 1) & ~1)
        read0 = max(0, keep0 - MARGIN)
        read1 = min(height, keep1 + MARGIN)
        converted = _planes(self._convert(self._rgb[read0:read1]))
        y, u, v = self._yuv
        y[keep0:keep1] = converted[0][keep0 - read0 : keep1 - read0]
        c0, c1, offset = keep0 // 2, keep1 // 2, read0 // 2
        u[c0:c1] = converted[1][c0 - offset : c1 - offset]
        v[c0:c1] = converted[2][c0 - offset : c1 - offset]
        self.rows_converted += read1 - read0
        return True

    def frame(self) -> av.VideoFrame:
        """A new I420 video frame of the current picture (the encoder may keep it)."""
        assert self._rgb is not None, "update() first"
        height, width = self._rgb.shape[:2]
        frame = av.VideoFrame(width, height, "yuv420p")
        for target, source in zip(_planes(frame), self._yuv, strict=True):
            target[...] = source
        return frame

    def _convert(self, rgb: Frame) -> av.VideoFrame:
        """RGB rows to I420 with libswscale; one reformatter per band height keeps its context."""
        height = rgb.shape[0]
        reformatter = self._reformatters.get(height)
        if reformatter is None:
            if len(self._reformatters) > 64:
                self._reformatters.clear()
            reformatter = self._reformatters[height] = VideoReformatter()
        source = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return reformatter.reformat(source, format="yuv420p")
