"""The tablet's artwork: anti-aliased masks and sprites, glyphs, app icons, wallpaper, photos, covers.

Everything is drawn supersampled and scaled down, and cached: a warm frame only pastes these.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .model import BOOKS
from .text import draw_text, wrap
from .theme import BG, HEIGHT, RGB, WHITE, WIDTH

_SS = 4
"""Supersampling factor for masks and sprites."""


@lru_cache(maxsize=512)
def rrect_mask(width: int, height: int, radius: int) -> Image.Image:
    big = Image.new("L", (width * _SS, height * _SS), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * _SS - 1, height * _SS - 1), radius=radius * _SS, fill=255
    )
    return big.resize((width, height), Image.Resampling.BOX)


@lru_cache(maxsize=128)
def shadow_mask(width: int, height: int, radius: int, blur: int, alpha: float) -> Image.Image:
    pad = blur * 2
    mask = Image.new("L", (width + 2 * pad, height + 2 * pad), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (pad, pad, pad + width - 1, pad + height - 1), radius=radius, fill=255
    )
    mask = mask.filter(ImageFilter.GaussianBlur(blur / 2))
    return mask.point([round(v * alpha) for v in range(256)])


def _sprite(
    width: int, height: int, paint: Callable[[ImageDraw.ImageDraw, float], None]
) -> Image.Image:
    """An RGBA image drawn at ``_SS`` times the size (``paint`` gets the scale) and scaled down."""
    big = Image.new("RGBA", (width * _SS, height * _SS), (0, 0, 0, 0))
    paint(ImageDraw.Draw(big), _SS)
    return big.resize((width, height), Image.Resampling.BOX)


def _pts(points: list[tuple[float, float]], unit: float) -> list[tuple[float, float]]:
    return [(x * unit, y * unit) for x, y in points]


def _paint_glyph(name: str, colour: RGB, d: ImageDraw.ImageDraw, u: float) -> None:
    """Draw a monochrome glyph in a ``u``×``u`` box (coordinates are fractions of ``u``)."""
    c = (*colour, 255)
    lw = max(1, round(0.09 * u))

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * u, y0 * u, x1 * u, y1 * u)

    if name in ("wifi", "wifi_off"):
        fill = c if name == "wifi" else (*colour, 80)
        d.pieslice(box(-0.28, 0.12, 1.28, 1.68), 226, 314, fill=fill)
        if name == "wifi_off":
            d.line(_pts([(0.18, 0.12), (0.86, 0.9)], u), fill=c, width=lw)
    elif name == "bluetooth":
        pts = [(0.28, 0.3), (0.72, 0.68), (0.5, 0.9), (0.5, 0.1), (0.72, 0.32), (0.28, 0.7)]
        d.line(_pts(pts, u), fill=c, width=lw, joint="curve")
    elif name == "sun":
        d.ellipse(box(0.32, 0.32, 0.68, 0.68), fill=c)
        for i in range(8):
            a = i * math.pi / 4
            d.line(
                [
                    ((0.5 + 0.28 * math.cos(a)) * u, (0.5 + 0.28 * math.sin(a)) * u),
                    ((0.5 + 0.44 * math.cos(a)) * u, (0.5 + 0.44 * math.sin(a)) * u),
                ],
                fill=c,
                width=lw,
            )
    elif name == "back":
        w = max(1, round(0.1 * u))
        d.line(_pts([(0.18, 0.5), (0.84, 0.5)], u), fill=c, width=w)
        d.line(_pts([(0.48, 0.18), (0.18, 0.5), (0.48, 0.82)], u), fill=c, width=w, joint="curve")
    elif name == "speaker":
        d.rounded_rectangle(box(0.22, 0.06, 0.78, 0.94), radius=0.12 * u, outline=c, width=lw)
        d.ellipse(box(0.43, 0.19, 0.57, 0.33), fill=c)
        d.ellipse(box(0.33, 0.45, 0.67, 0.79), outline=c, width=lw)
    elif name == "headphones":
        d.arc(box(0.14, 0.12, 0.86, 0.84), 180, 360, fill=c, width=lw)
        d.line(_pts([(0.14, 0.48), (0.14, 0.62)], u), fill=c, width=lw)
        d.line(_pts([(0.86, 0.48), (0.86, 0.62)], u), fill=c, width=lw)
        d.rounded_rectangle(box(0.1, 0.52, 0.32, 0.9), radius=0.07 * u, fill=c)
        d.rounded_rectangle(box(0.68, 0.52, 0.9, 0.9), radius=0.07 * u, fill=c)
    elif name == "car":
        d.polygon(_pts([(0.22, 0.48), (0.32, 0.22), (0.68, 0.22), (0.78, 0.48)], u), fill=c)
        d.rounded_rectangle(box(0.06, 0.44, 0.94, 0.74), radius=0.08 * u, fill=c)
        d.ellipse(box(0.16, 0.64, 0.38, 0.86), fill=c)
        d.ellipse(box(0.62, 0.64, 0.84, 0.86), fill=c)
    elif name == "tv":
        d.rounded_rectangle(box(0.06, 0.14, 0.94, 0.72), radius=0.06 * u, outline=c, width=lw)
        d.line(_pts([(0.32, 0.86), (0.68, 0.86)], u), fill=c, width=lw)
    elif name == "watch":
        d.rectangle(box(0.36, 0.02, 0.64, 0.24), fill=c)
        d.rectangle(box(0.36, 0.76, 0.64, 0.98), fill=c)
        d.rounded_rectangle(box(0.22, 0.2, 0.78, 0.8), radius=0.12 * u, outline=c, width=lw)
        d.line(_pts([(0.5, 0.36), (0.5, 0.5), (0.6, 0.58)], u), fill=c, width=lw)
    elif name == "keyboard":
        d.rounded_rectangle(box(0.04, 0.22, 0.96, 0.78), radius=0.08 * u, outline=c, width=lw)
        for row, y in enumerate((0.36, 0.5)):
            for i in range(5 - row):
                x = 0.18 + i * 0.16 + row * 0.08
                d.rectangle(box(x - 0.04, y - 0.035, x + 0.04, y + 0.035), fill=c)
        d.rectangle(box(0.3, 0.6, 0.7, 0.66), fill=c)
    elif name == "gamepad":
        d.rounded_rectangle(box(0.04, 0.26, 0.96, 0.78), radius=0.24 * u, outline=c, width=lw)
        d.line(_pts([(0.2, 0.52), (0.38, 0.52)], u), fill=c, width=lw)
        d.line(_pts([(0.29, 0.43), (0.29, 0.61)], u), fill=c, width=lw)
        d.ellipse(box(0.62, 0.4, 0.72, 0.5), fill=c)
        d.ellipse(box(0.72, 0.52, 0.82, 0.62), fill=c)
    elif name == "person":
        d.ellipse(box(0.32, 0.1, 0.68, 0.46), fill=c)
        d.pieslice(box(0.14, 0.54, 0.86, 1.26), 180, 360, fill=c)
    elif name == "check":
        d.line(
            _pts([(0.16, 0.52), (0.4, 0.76), (0.86, 0.26)], u),
            fill=c,
            width=max(1, round(0.13 * u)),
            joint="curve",
        )
    elif name == "lock":
        d.arc(box(0.3, 0.1, 0.7, 0.6), 180, 360, fill=c, width=lw)
        d.line(_pts([(0.3, 0.35), (0.3, 0.48)], u), fill=c, width=lw)
        d.line(_pts([(0.7, 0.35), (0.7, 0.48)], u), fill=c, width=lw)
        d.rounded_rectangle(box(0.2, 0.44, 0.8, 0.92), radius=0.08 * u, fill=c)
    elif name == "reload":
        d.arc(box(0.16, 0.16, 0.84, 0.84), 300, 220 + 360, fill=c, width=lw)
        d.polygon(_pts([(0.6, 0.06), (0.86, 0.24), (0.58, 0.38)], u), fill=c)
    elif name == "pointer":
        pts = [
            (0.26, 0.08),
            (0.26, 0.8),
            (0.43, 0.64),
            (0.55, 0.92),
            (0.67, 0.87),
            (0.55, 0.6),
            (0.78, 0.6),
        ]
        d.polygon(_pts(pts, u), fill=c)
    elif name == "clock":
        d.ellipse(box(0.1, 0.1, 0.9, 0.9), outline=c, width=lw)
        d.line(_pts([(0.5, 0.26), (0.5, 0.5), (0.66, 0.62)], u), fill=c, width=lw, joint="curve")
    elif name == "search":
        d.ellipse(box(0.1, 0.1, 0.66, 0.66), outline=c, width=lw)
        d.line(_pts([(0.6, 0.6), (0.9, 0.9)], u), fill=c, width=round(lw * 1.3))
    elif name in ("star", "star_outline"):
        pts = []
        for i in range(10):
            r = 0.48 if i % 2 == 0 else 0.2
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((0.5 + r * math.cos(a), 0.54 + r * math.sin(a)))
        if name == "star":
            d.polygon(_pts(pts, u), fill=c)
        else:
            d.polygon(_pts(pts, u), outline=c, width=max(1, round(0.06 * u)))
    elif name == "cloud_off":
        d.ellipse(box(0.12, 0.42, 0.44, 0.74), fill=c)
        d.ellipse(box(0.3, 0.26, 0.7, 0.66), fill=c)
        d.ellipse(box(0.56, 0.4, 0.88, 0.72), fill=c)
        d.rectangle(box(0.28, 0.56, 0.72, 0.74), fill=c)
        d.line(_pts([(0.14, 0.14), (0.86, 0.86)], u), fill=(*BG, 255), width=lw * 2)
        d.line(_pts([(0.14, 0.14), (0.86, 0.86)], u), fill=c, width=lw)
    else:  # pragma: no cover - a typo in a glyph name
        raise ValueError(name)


@lru_cache(maxsize=256)
def glyph(name: str, size: int, colour: RGB) -> Image.Image:
    return _sprite(size, size, lambda d, s: _paint_glyph(name, colour, d, size * s))


def _gradient(width: int, height: int, top: RGB, bottom: RGB) -> Image.Image:
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return Image.fromarray(np.repeat(rows, width, axis=1).round().astype(np.uint8))


_APP_COLOURS: dict[str, tuple[RGB, RGB]] = {
    "settings": ((120, 144, 156), (69, 90, 100)),
    "books": ((255, 167, 38), (230, 100, 0)),
    "mail": ((239, 83, 80), (190, 36, 36)),
    "browser": ((66, 165, 245), (21, 101, 192)),
    "photos": ((102, 187, 106), (46, 125, 50)),
    "signin": ((121, 134, 203), (48, 63, 159)),
}


@lru_cache(maxsize=16)
def app_icon(app: str, size: int = 100) -> Image.Image:
    big = size * _SS
    top, bottom = _APP_COLOURS[app]
    icon = _gradient(big, big, top, bottom).convert("RGBA")
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.24, fill=255)
    icon.putalpha(mask)
    d = ImageDraw.Draw(icon)
    u = big
    w = (255, 255, 255, 255)
    mid = tuple((a + b) // 2 for a, b in zip(top, bottom, strict=True))
    if app == "settings":
        cx = cy = 0.5 * u
        for i in range(8):
            a = i * math.pi / 4
            pts = []
            for r, da in ((0.2, -0.2), (0.34, -0.13), (0.34, 0.13), (0.2, 0.2)):
                pts.append((cx + r * u * math.cos(a + da), cy + r * u * math.sin(a + da)))
            d.polygon(pts, fill=w)
        d.ellipse((cx - 0.27 * u, cy - 0.27 * u, cx + 0.27 * u, cy + 0.27 * u), fill=w)
        d.ellipse((cx - 0.11 * u, cy - 0.11 * u, cx + 0.11 * u, cy + 0.11 * u), fill=(*mid, 255))
    elif app == "books":
        d.polygon(_pts([(0.2, 0.28), (0.48, 0.32), (0.48, 0.76), (0.2, 0.72)], u), fill=w)
        d.polygon(_pts([(0.52, 0.32), (0.8, 0.28), (0.8, 0.72), (0.52, 0.76)], u), fill=w)
        for y in (0.42, 0.51, 0.6):
            d.line(_pts([(0.26, y), (0.42, y + 0.02)], u), fill=(*mid, 255), width=round(0.025 * u))
            d.line(_pts([(0.58, y + 0.02), (0.74, y)], u), fill=(*mid, 255), width=round(0.025 * u))
    elif app == "mail":
        d.rounded_rectangle((0.18 * u, 0.28 * u, 0.82 * u, 0.72 * u), radius=0.05 * u, fill=w)
        d.line(
            _pts([(0.22, 0.33), (0.5, 0.54), (0.78, 0.33)], u),
            fill=(*bottom, 255),
            width=round(0.045 * u),
            joint="curve",
        )
    elif app == "browser":
        lw = round(0.045 * u)
        d.ellipse((0.2 * u, 0.2 * u, 0.8 * u, 0.8 * u), outline=w, width=lw)
        d.ellipse((0.38 * u, 0.2 * u, 0.62 * u, 0.8 * u), outline=w, width=lw)
        d.line(_pts([(0.21, 0.5), (0.79, 0.5)], u), fill=w, width=lw)
        d.line(_pts([(0.27, 0.35), (0.73, 0.35)], u), fill=w, width=lw)
        d.line(_pts([(0.27, 0.65), (0.73, 0.65)], u), fill=w, width=lw)
    elif app == "photos":
        d.rounded_rectangle(
            (0.2 * u, 0.24 * u, 0.8 * u, 0.76 * u),
            radius=0.06 * u,
            outline=w,
            width=round(0.04 * u),
        )
        d.ellipse((0.32 * u, 0.33 * u, 0.44 * u, 0.45 * u), fill=w)
        d.polygon(
            _pts([(0.24, 0.72), (0.42, 0.5), (0.54, 0.62), (0.63, 0.52), (0.76, 0.72)], u), fill=w
        )
    elif app == "signin":
        d.ellipse((0.37 * u, 0.2 * u, 0.63 * u, 0.46 * u), fill=w)
        d.pieslice((0.24 * u, 0.52 * u, 0.76 * u, 1.04 * u), 180, 360, fill=w)
    return icon.resize((size, size), Image.Resampling.BOX)


@lru_cache(maxsize=1)
def wallpaper() -> Image.Image:
    ys = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None, None]
    xs = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :, None]
    top = np.asarray((22, 34, 78), np.float32)
    bottom = np.asarray((14, 86, 104), np.float32)
    t = 0.7 * ys + 0.3 * xs
    img = top * (1 - t) + bottom * t
    for cx, cy, r, colour, k in (
        (0.82, 0.2, 0.42, (118, 84, 196), 0.55),
        (0.12, 0.92, 0.5, (36, 160, 160), 0.5),
        (0.5, 0.55, 0.35, (52, 76, 150), 0.35),
    ):
        g = np.exp(-(((xs - cx) * 1.6) ** 2 + (ys - cy) ** 2) / (r * r)) * k
        img = img * (1 - g) + np.asarray(colour, np.float32) * g
    return Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8))


_PALETTES: tuple[tuple[RGB, RGB, RGB, RGB], ...] = (
    # sky top, horizon, far hills, near ground
    ((40, 80, 160), (250, 180, 120), (120, 90, 130), (40, 50, 60)),
    ((70, 140, 220), (190, 225, 250), (90, 130, 110), (50, 100, 60)),
    ((30, 30, 80), (240, 120, 90), (90, 60, 100), (30, 25, 45)),
    ((120, 180, 230), (230, 240, 250), (150, 170, 190), (70, 110, 90)),
    ((60, 110, 150), (250, 215, 160), (110, 120, 110), (60, 70, 50)),
)


@lru_cache(maxsize=64)
def landscape(seed: int, width: int, height: int) -> Image.Image:
    """A generated landscape photo: sky, sun, hill ranges; the same for the same seed."""
    rnd = random.Random(seed)
    sky_top, horizon, far, near = rnd.choice(_PALETTES)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    t = np.clip(ys / 0.7, 0, 1)[..., None]
    img = np.asarray(sky_top, np.float32) * (1 - t) + np.asarray(horizon, np.float32) * t
    img = np.broadcast_to(img, (height, width, 3)).copy()
    sx, sy = rnd.uniform(0.2, 0.8), rnd.uniform(0.2, 0.45)
    dist = np.sqrt(((xs - sx) * width / height) ** 2 + (ys - sy) ** 2)[..., None]
    glow = np.clip(1.0 - dist / 0.35, 0, 1) ** 2 * 0.6
    img = img * (1 - glow) + np.asarray((255, 240, 200), np.float32) * glow
    img = np.where(dist < 0.06, np.asarray((255, 248, 225), np.float32), img)
    layers = 3
    for i in range(layers):
        k = (i + 1) / layers
        colour = np.asarray(far, np.float32) * (1 - k) + np.asarray(near, np.float32) * k
        base = 0.5 + 0.14 * i
        ridge = base + sum(
            rnd.uniform(0.015, 0.05) * np.sin(xs * rnd.uniform(3, 14) + rnd.uniform(0, 6.3))
            for _ in range(3)
        )
        img = np.where((ys > ridge)[..., None], colour, img)
    return Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8))


@lru_cache(maxsize=8)
def cover(index: int, width: int, height: int) -> Image.Image:
    book = BOOKS[index]
    dark = tuple(max(0, round(v * 0.62)) for v in book.colour)
    image = _gradient(width, height, book.colour, (dark[0], dark[1], dark[2]))
    d = ImageDraw.Draw(image)
    d.rectangle((0, 0, 7, height), fill=(dark[0], dark[1], dark[2]))
    d.line((14, 22, width - 14, 22), fill=(255, 255, 255), width=1)
    y = 36
    for line in wrap(book.title, 20, width - 36):
        draw_text(d, 20, y, line, 20, WHITE, "la", bold=True)
        y += 26
    draw_text(d, 20, height - 28, book.author, 14, (235, 235, 240), "la")
    return image
