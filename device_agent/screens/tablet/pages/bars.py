"""The status bar every app shows at the top, and the title bar with its back button."""

from __future__ import annotations

from collections.abc import Callable

from ...base import Rect
from ..apps import Apps
from ..canvas import Canvas
from ..text import text_width
from ..theme import BG, RED, STATUS_H, TEXT_COLOR, TITLE_H, WHITE, WIDTH
from ..widgets import Hotspot, ignore_point

__all__ = ["Painter", "paint_status_bar", "paint_title_bar"]

Painter = Callable[[Apps, Canvas, list[Hotspot], list[Rect]], None]
"""Draws one app: ``(apps, canvas, hotspots to add to, sensitive rectangles to add to)``."""


def paint_status_bar(a: Apps, c: Canvas) -> None:
    on_home = a.app == "home"
    fg = WHITE if on_home else TEXT_COLOR
    if a.app == "photos" and a.photo is not None:
        c.rect(0, 0, WIDTH, STATUS_H, (16, 16, 18))
        fg = WHITE
    elif not on_home:
        c.rect(0, 0, WIDTH, STATUS_H, BG)
    now = a.now
    c.text(24, STATUS_H // 2, f"{now.tm_hour:02d}:{now.tm_min:02d}", 17, fg, "lm", bold=True)
    x = WIDTH - 24
    label = f"{a.battery}%"
    c.text(x, STATUS_H // 2, label, 16, fg, "rm")
    x -= round(text_width(label, 16)) + 8 + 26
    level = RED if a.battery <= 15 else fg
    c.rrect(x, 12, 24, 13, 3, fg)
    c.rrect(x + 2, 14, 20, 9, 2, (BG if not on_home else (30, 50, 90)))
    c.rect(x + 24, 16, 2, 5, fg)
    c.rect(x + 3, 15, max(1, round(18 * a.battery / 100)), 7, level)
    x -= 12
    if a.bluetooth:
        x -= 18
        c.glyph("bluetooth", 18, fg, x + 9, STATUS_H // 2)
        x -= 8
    x -= 20
    c.glyph("wifi" if a.wifi else "wifi_off", 20, fg, x + 10, STATUS_H // 2 + 1)


def paint_title_bar(a: Apps, c: Canvas, hot: list[Hotspot], title: str | None = None) -> None:
    """The bar with the back button and the app's title (the browser draws its address there)."""
    c.rect(0, STATUS_H, WIDTH, TITLE_H, BG)
    back = Rect(12, STATUS_H + 8, 48, 48)
    c.glyph("back", 24, TEXT_COLOR, back.x + 24, back.y + 24)
    hot.append(Hotspot("back", back, tap=ignore_point(a.back)))
    if title is not None:
        c.text(76, STATUS_H + TITLE_H // 2, title, 24, TEXT_COLOR, "lm", bold=True)
