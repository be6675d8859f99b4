"""What the device draws over its own screen before a frame is encoded.

* :class:`AnnotationLayer`: the agent's marks (pen, arrow, circle, highlight, laser), in normalized
  coordinates, fading out after ``fade_s`` unless pinned. The customer sees them on the screen and
  the agent sees them come back in the video.
* :func:`black_out`: sensitive regions (password fields, configured rectangles) replaced by a
  striped "hidden" patch, so their pixels never reach the encoder.
* :func:`paused_card`: what the agent sees while the customer has paused sharing.

All of it is blocking pixel work, run in the capture thread, never on the event loop.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from signaling.annotations import Clear, Laser, Pin, Stroke, Undo

from .screens.base import Frame, Rect

__all__ = ["AnnotationLayer", "black_out", "camera_tile", "paused_card"]

FADE_DURATION_S = 1.0
LASER_LIFETIME_S = 1.5
HIDDEN_FILL = (38, 40, 48)
HIDDEN_STRIPE = (62, 66, 78)


@dataclass
class _Mark:
    stroke: Stroke
    updated_at: float


class AnnotationLayer:
    """The agent's marks, safe to update from the event loop and draw from the capture thread."""

    def __init__(self, *, fade_s: float = 8.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.fade_s = fade_s
        self._clock = clock
        self._lock = threading.Lock()
        self._marks: dict[str, _Mark] = {}
        self._laser: tuple[Laser, float] | None = None
        self._revision = 0

    @property
    def revision(self) -> int:
        return self._revision

    def apply(self, message: Stroke | Laser | Undo | Clear | Pin) -> None:
        now = self._clock()
        with self._lock:
            if isinstance(message, Stroke):
                self._marks.pop(message.id, None)  # re-insert: newest last
                self._marks[message.id] = _Mark(message, now)
            elif isinstance(message, Laser):
                self._laser = (message, now)
            elif isinstance(message, Undo):
                self._prune(now)
                if self._marks:
                    self._marks.pop(next(reversed(self._marks)))
            elif isinstance(message, Clear):
                self._marks.clear()
                self._laser = None
            elif isinstance(message, Pin):
                mark = self._marks.get(message.id)
                if mark is None:
                    return
                mark.stroke = mark.stroke.model_copy(update={"pinned": message.pinned})
                mark.updated_at = now
            self._revision += 1

    def visible(self, now: float | None = None) -> list[Stroke]:
        """The marks on screen now, oldest first (for tests and QA)."""
        now = self._clock() if now is None else now
        with self._lock:
            self._prune(now)
            return [mark.stroke for mark in self._marks.values()]

    def animating(self, now: float | None = None) -> bool:
        """Whether the picture changes by itself now (a mark fading, a laser dot to remove)."""
        now = self._clock() if now is None else now
        with self._lock:
            if self._laser is not None:
                return True
            return any(self._alpha(mark, now) < 1.0 for mark in self._marks.values())

    def composite(self, frame: Frame, now: float | None = None) -> Frame:
        """``frame`` with the marks drawn over it (a new array; ``frame`` is not changed)."""
        now = self._clock() if now is None else now
        with self._lock:
            self._prune(now)
            marks = [(mark.stroke, self._alpha(mark, now)) for mark in self._marks.values()]
            laser = self._laser[0] if self._laser else None
        if not marks and laser is None:
            return frame
        height, width = frame.shape[:2]
        overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for stroke, alpha in marks:
            _draw_stroke(draw, stroke, alpha, width, height)
        if laser is not None:
            _draw_laser(draw, laser, width, height)
        base = Image.fromarray(frame).convert("RGBA")
        return np.asarray(Image.alpha_composite(base, overlay).convert("RGB"))

    def _alpha(self, mark: _Mark, now: float) -> float:
        if mark.stroke.pinned or not mark.stroke.done:
            return 1.0
        remaining = mark.updated_at + self.fade_s - now
        return max(0.0, min(1.0, remaining / FADE_DURATION_S))

    def _prune(self, now: float) -> None:
        expired = [key for key, mark in self._marks.items() if self._alpha(mark, now) <= 0.0]
        for key in expired:
            del self._marks[key]
        if self._laser is not None and now - self._laser[1] > LASER_LIFETIME_S:
            self._laser = None
        if expired:
            self._revision += 1


def _rgba(color: str, alpha: float) -> tuple[int, int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16), int(255 * alpha))


def _draw_stroke(
    draw: ImageDraw.ImageDraw, stroke: Stroke, alpha: float, width: int, height: int
) -> None:
    points = [(x * width, y * height) for x, y in stroke.points]
    line_width = max(1, round(stroke.width * width))
    if stroke.tool == "highlight":
        draw.line(
            points, fill=_rgba(stroke.color, 0.35 * alpha), width=line_width * 5, joint="curve"
        )
    elif stroke.tool == "pen":
        if len(points) == 1:
            x, y = points[0]
            r = line_width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(stroke.color, alpha))
        else:
            draw.line(points, fill=_rgba(stroke.color, alpha), width=line_width, joint="curve")
    elif stroke.tool == "circle":
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = (min(xs), min(ys), max(max(xs), min(xs) + 1), max(max(ys), min(ys) + 1))
        draw.ellipse(box, outline=_rgba(stroke.color, alpha), width=line_width)
    elif stroke.tool == "arrow":
        _draw_arrow(draw, points[0], points[-1], _rgba(stroke.color, alpha), line_width)


def _draw_arrow(
    draw: ImageDraw.ImageDraw,
    start: tuple[float, float],
    end: tuple[float, float],
    fill: tuple[int, int, int, int],
    line_width: int,
) -> None:
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    head = max(14.0, line_width * 4.0)
    left = (end[0] - head * math.cos(angle - 0.45), end[1] - head * math.sin(angle - 0.45))
    right = (end[0] - head * math.cos(angle + 0.45), end[1] - head * math.sin(angle + 0.45))
    shaft_end = (end[0] - head * 0.8 * math.cos(angle), end[1] - head * 0.8 * math.sin(angle))
    draw.line([start, shaft_end], fill=fill, width=line_width)
    draw.polygon([end, left, right], fill=fill)


def _draw_laser(draw: ImageDraw.ImageDraw, laser: Laser, width: int, height: int) -> None:
    x, y = laser.x * width, laser.y * height
    for radius, alpha in ((16, 0.25), (10, 0.5), (6, 1.0)):
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=_rgba(laser.color, alpha)
        )


def black_out(frame: Frame, regions: Sequence[Rect], label: str = "hidden") -> Frame:
    """Replace each region with a striped patch; the original pixels are gone, not blurred."""
    if not regions:
        return frame
    out = frame.copy()
    height, width = out.shape[:2]
    for region in regions:
        x0, y0 = max(0, region.x), max(0, region.y)
        x1, y1 = min(width, region.x + region.width), min(height, region.y + region.height)
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1]
        stripes = ((xs + ys) // 8) % 2 == 0
        patch = np.where(stripes[..., None], HIDDEN_STRIPE, HIDDEN_FILL).astype(np.uint8)
        out[y0:y1, x0:x1] = patch
    image = Image.fromarray(out)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    for region in regions:
        if region.width > 60 and region.height > 16:
            draw.text(
                (region.x + region.width / 2, region.y + region.height / 2),
                label,
                fill=(220, 222, 230),
                font=font,
                anchor="mm",
            )
    return np.asarray(image)


def paused_card(size: tuple[int, int], text: str = "The customer paused screen sharing") -> Frame:
    width, height = size
    image = Image.new("RGB", (width, height), (30, 33, 41))
    draw = ImageDraw.Draw(image)
    cx, cy = width / 2, height / 2
    bar_w, bar_h, gap = width * 0.02, height * 0.12, width * 0.018
    for offset in (-gap - bar_w, gap):
        draw.rounded_rectangle(
            (cx + offset, cy - bar_h - 30, cx + offset + bar_w, cy - 30),
            radius=6,
            fill=(235, 236, 240),
        )
    draw.text(
        (cx, cy + 30), text, fill=(235, 236, 240), font=ImageFont.load_default(size=30), anchor="mm"
    )
    return np.asarray(image)


CAMERA_TILE = (208, 156)
"""Size of the agent's camera picture on the customer's screen, top right under the status bar."""


def camera_tile(frame: Frame, camera: Frame) -> Frame:
    """The agent's face in a small rounded tile, as Mayday showed it: the customer sees who helps."""
    width, height = CAMERA_TILE
    screen = Image.fromarray(frame)
    tile = Image.fromarray(camera).convert("RGB")
    tile.thumbnail((width, height))
    x = screen.width - tile.width - 24
    y = 52
    mask = Image.new("L", tile.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, tile.width - 1, tile.height - 1), radius=14, fill=255
    )
    border = ImageDraw.Draw(screen)
    border.rounded_rectangle(
        (x - 3, y - 3, x + tile.width + 2, y + tile.height + 2), radius=16, fill=(255, 255, 255)
    )
    screen.paste(tile, (x, y), mask)
    return np.asarray(screen)
