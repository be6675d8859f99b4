"""Photos: a grid of thumbnails, or one photo full screen on black."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..art import landscape, rrect_mask
from ..canvas import Canvas
from ..model import PHOTO_COUNT
from ..theme import CONTENT_TOP, HEIGHT, STATUS_H, TEXT_MUTED, TITLE_H, WHITE, WIDTH
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_photos"]


def paint_photos(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    if a.photo is not None:
        c.rect(0, 0, WIDTH, HEIGHT, (16, 16, 18))
        back = Rect(12, STATUS_H + 8, 48, 48)
        c.glyph("back", 24, WHITE, back.x + 24, back.y + 24)
        hot.append(Hotspot("back", back, tap=ignore_point(a.back)))
        c.text(
            76,
            STATUS_H + TITLE_H // 2,
            f"Photo {a.photo + 1} of {PHOTO_COUNT}",
            20,
            WHITE,
            "lm",
        )
        pw, ph = 900, 600
        c.image.paste(landscape(a.photo, pw, ph), ((WIDTH - pw) // 2, CONTENT_TOP + 6))
        return
    paint_title_bar(a, c, hot, "Photos")
    c.text(66, 128, "Recent", 18, TEXT_MUTED, "lm", bold=True)
    tw, th, gap, cols = 220, 165, 12, 5
    left = (WIDTH - cols * tw - (cols - 1) * gap) // 2
    for i in range(PHOTO_COUNT):
        x = left + (i % cols) * (tw + gap)
        y = 148 + (i // cols) * (th + gap)
        c.image.paste(landscape(i, tw, th), (x, y), rrect_mask(tw, th, 10))
        hot.append(
            Hotspot(
                f"photos.photo.{i}",
                Rect(x, y, tw, th),
                tap=ignore_point(partial(a.open_photo, i)),
            )
        )
