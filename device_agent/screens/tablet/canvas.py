"""The drawing surface the screen paints on, and small geometry and brightness helpers."""

from __future__ import annotations

import math
from typing import Literal

from PIL import Image, ImageDraw

from ..base import Rect
from .art import glyph, rrect_mask, shadow_mask
from .text import draw_text, text_width
from .theme import OUTLINE, PRIMARY, RGB, SURFACE, WHITE


class Canvas:
    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)

    def rect(self, x: int, y: int, w: int, h: int, fill: RGB) -> None:
        if w > 0 and h > 0:
            self.draw.rectangle((x, y, x + w - 1, y + h - 1), fill=fill)

    def rrect(
        self,
        x: int,
        y: int,
        w: int,
        h: int,
        radius: int,
        fill: RGB,
        outline: RGB | None = None,
        width: int = 1,
    ) -> None:
        radius = min(radius, w // 2, h // 2)
        if outline is not None:
            self.image.paste(outline, (x, y, x + w, y + h), rrect_mask(w, h, radius))
            x, y, w, h, radius = x + width, y + width, w - 2 * width, h - 2 * width, radius - width
            radius = max(0, radius)
        self.image.paste(fill, (x, y, x + w, y + h), rrect_mask(w, h, radius))

    def circle(self, cx: int, cy: int, r: int, fill: RGB) -> None:
        self.rrect(cx - r, cy - r, 2 * r, 2 * r, r, fill)

    # rrect's box and radius: a shadow goes under a rounded shape of the same box (card, icon).
    def shadow(
        self,
        x: int,
        y: int,
        w: int,
        h: int,
        radius: int,
        *,
        blur: int = 16,
        alpha: float = 0.2,
        dy: int = 4,
    ) -> None:
        mask = shadow_mask(w, h, radius, blur, alpha)
        pad = blur * 2
        self.image.paste(
            (12, 18, 32),
            (x - pad, y - pad + dy, x - pad + mask.width, y - pad + dy + mask.height),
            mask,
        )

    def sprite(self, sprite: Image.Image, x: int, y: int) -> None:
        self.image.paste(sprite, (x, y), sprite)

    def glyph(self, name: str, size: int, colour: RGB, cx: int, cy: int) -> None:
        self.sprite(glyph(name, size, colour), cx - size // 2, cy - size // 2)

    # draw_text's parameters, on this canvas; art.py calls draw_text itself on a bare ImageDraw
    # (it cannot use Canvas: this module imports art).
    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: int,
        fill: RGB,
        anchor: str = "la",
        *,
        bold: bool = False,
    ) -> None:
        draw_text(self.draw, x, y, text, size, fill, anchor, bold=bold)

    def button(
        self,
        rect: Rect,
        label: str,
        style: Literal["filled", "outlined", "tonal"],
        colour: RGB = PRIMARY,
        size: int = 18,
    ) -> None:
        x, y, w, h = rect.x, rect.y, rect.width, rect.height
        if style == "filled":
            self.rrect(x, y, w, h, h // 2, colour)
            fg = WHITE
        elif style == "outlined":
            self.rrect(x, y, w, h, h // 2, SURFACE, outline=OUTLINE, width=1)
            fg = colour
        else:
            light = tuple(round(255 - (255 - v) * 0.14) for v in colour)
            self.rrect(x, y, w, h, h // 2, (light[0], light[1], light[2]))
            fg = colour
        self.text(x + w / 2, y + h / 2, label, size, fg, "mm", bold=True)

    def switch(self, x: int, y: int, on: bool) -> None:
        if on:
            self.rrect(x, y, 56, 32, 16, PRIMARY)
            self.circle(x + 40, y + 16, 12, WHITE)
            self.glyph("check", 14, PRIMARY, x + 40, y + 16)
        else:
            self.rrect(x, y, 56, 32, 16, (230, 232, 236), outline=(120, 124, 132), width=2)
            self.circle(x + 16, y + 16, 8, (120, 124, 132))


def button_width(label: str, size: int = 18, pad: int = 22) -> int:
    return round(text_width(label, size) + 2 * pad)


def clip(rect: Rect, view: Rect) -> Rect | None:
    x0, y0 = max(rect.x, view.x), max(rect.y, view.y)
    x1 = min(rect.x + rect.width, view.x + view.width)
    y1 = min(rect.y + rect.height, view.y + view.height)
    if x1 <= x0 or y1 <= y0:
        return None
    return Rect(x0, y0, x1 - x0, y1 - y0)


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.width // 2, rect.y + rect.height // 2


def backlight(brightness: int) -> float:
    """How bright the picture is at a brightness setting: 30 % at 0, full at 100, never black."""
    return 0.3 + 0.7 * math.sqrt(brightness / 100)


def dim_lut(factor: float) -> list[int]:
    return [round(v * factor) for v in range(256)] * 3
