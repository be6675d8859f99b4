"""The browser: a news page, or "You're offline" with a way to Settings while Wi-Fi is off."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..art import landscape, rrect_mask
from ..canvas import Canvas
from ..text import text_width, wrap
from ..theme import (  # every page starts alike: theme names, then a Painter (.bars)
    BRAND,
    CONTENT_TOP,
    DIVIDER,
    HEIGHT,
    STATUS_H,
    SURFACE,
    TEXT_COLOR,
    TEXT_FAINT,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_browser"]


def paint_browser(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    paint_title_bar(a, c, hot)
    bar = Rect(76, STATUS_H + 10, WIDTH - 76 - 80, 44)
    c.rrect(bar.x, bar.y, bar.width, bar.height, 22, SURFACE, outline=DIVIDER)
    c.glyph("lock", 16, TEXT_MUTED, bar.x + 26, bar.y + 22)
    c.text(bar.x + 46, bar.y + 22, "news.example.org", 18, TEXT_COLOR, "lm")
    c.glyph("reload", 24, TEXT_COLOR, WIDTH - 40, STATUS_H + 32)
    if not a.wifi:
        c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, SURFACE)
        c.glyph("cloud_off", 96, TEXT_FAINT, WIDTH // 2, 280)
        c.text(WIDTH / 2, 372, "You’re offline", 30, TEXT_COLOR, "mm", bold=True)
        c.text(WIDTH / 2, 414, "Check your Wi-Fi connection in Settings.", 19, TEXT_MUTED, "mm")
        button = Rect(WIDTH // 2 - 100, 458, 200, 48)
        c.button(button, "Open Settings", "filled")
        hot.append(
            Hotspot(
                "browser.open_settings",
                button,
                tap=ignore_point(partial(a.open, "settings")),
            )
        )
        return
    c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, SURFACE)
    c.rect(0, CONTENT_TOP, WIDTH, 64, (24, 38, 66))
    c.text(140, CONTENT_TOP + 32, "The Daily Example", 26, WHITE, "lm", bold=True)
    x = WIDTH - 140
    for item in reversed(("World", "Local", "Science", "Sport", "Weather")):
        c.text(x, CONTENT_TOP + 32, item, 16, (205, 214, 232), "rm")
        x -= round(text_width(item, 16)) + 28
    col_x, col_w = 140, 1000
    c.text(col_x, 198, "LOCAL", 14, BRAND, "lm", bold=True)
    c.text(
        col_x,
        234,
        "Lakeside library opens a digital corner for older readers",
        32,
        TEXT_COLOR,
        "lm",
        bold=True,
    )
    c.text(col_x, 272, "By Sam Carter  ·  6 min read", 15, TEXT_MUTED, "lm")
    hero = landscape(7, col_w, 220)
    c.image.paste(hero, (col_x, 298), rrect_mask(col_w, 220, 14))
    y = 550
    body = (
        "Volunteers will help visitors set up tablets, borrow e-books and video-call their "
        "families. The corner is open every weekday morning, and no appointment is needed. "
        "“Most questions take five minutes,” says librarian Ada Novak, “and then people are "
        "off reading.”"
    )
    for line in wrap(body, 19, col_w):
        c.text(col_x, y, line, 19, (52, 55, 62), "lm")
        y += 30
