"""The home screen: the wallpaper, a big clock and date, the web search box and the app icons."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..art import app_icon, wallpaper
from ..canvas import Canvas
from ..model import APPS, DAYS, MONTHS
from ..theme import SURFACE, TEXT_FAINT, TEXT_MUTED, WHITE, WIDTH
from ..widgets import Hotspot, ignore_point

__all__ = ["paint_home"]


def paint_home(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    c.image.paste(wallpaper(), (0, 0))
    now = a.now
    c.text(WIDTH / 2, 168, f"{now.tm_hour:02d}:{now.tm_min:02d}", 110, WHITE, "mm")
    date = f"{DAYS[now.tm_wday]}, {now.tm_mday} {MONTHS[now.tm_mon - 1]}"
    c.text(WIDTH / 2, 250, date, 24, (226, 232, 245), "mm")
    search = Rect(WIDTH // 2 - 300, 300, 600, 54)
    c.shadow(search.x, search.y, search.width, search.height, 27, blur=12, alpha=0.25)
    c.rrect(search.x, search.y, search.width, search.height, 27, SURFACE)
    c.glyph("search", 22, TEXT_MUTED, search.x + 34, search.y + 27)
    c.text(search.x + 60, search.y + 27, "Search the web", 19, TEXT_FAINT, "lm")
    hot.append(Hotspot("home.search", search, tap=ignore_point(partial(a.open, "browser"))))
    cell, icon = 164, 100
    left = (WIDTH - cell * len(APPS)) // 2
    top = 436
    for i, (app, label) in enumerate(APPS):
        cx = left + cell * i + cell // 2
        c.shadow(cx - icon // 2, top, icon, icon, 24, blur=10, alpha=0.35, dy=5)
        c.sprite(app_icon(app, icon), cx - icon // 2, top)
        c.text(cx, top + icon + 26, label, 19, WHITE, "mm")
        hot.append(
            Hotspot(
                f"app.{app}",
                Rect(cx - cell // 2 + 8, top - 8, cell - 16, icon + 52),
                tap=ignore_point(partial(a.open, app)),
            )
        )
