"""Settings: the Wi-Fi and Bluetooth switches, the brightness slider and the scrolling list of
Bluetooth devices to pair."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PIL import Image

from ...base import Rect
from ..apps import Apps
from ..art import rrect_mask
from ..canvas import Canvas, button_width, clip
from ..model import DEVICES
from ..theme import (  # every page starts alike: theme names, then a Painter (.bars)
    DIVIDER,
    GREEN,
    LIST_BOTTOM,
    LIST_TOP,
    PRIMARY,
    PRIMARY_LIGHT,
    ROW_H,
    SURFACE,
    TEXT_COLOR,
    TEXT_FAINT,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_settings"]


SETTINGS_X, SETTINGS_W = 190, 900
SLIDER_X0 = SETTINGS_X + 84
SLIDER_X1 = SETTINGS_X + SETTINGS_W - 28
"""The brightness slider's track: 0 % at its left end, 100 % at its right."""


def brightness_at(x: int) -> int:
    """The brightness a tap or drag at ``x`` on the slider asks for (the apps clamp it)."""
    return round((x - SLIDER_X0) / (SLIDER_X1 - SLIDER_X0) * 100)


def paint_settings(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    paint_title_bar(a, c, hot, "Settings")
    x0, w = SETTINGS_X, SETTINGS_W
    x1 = x0 + w
    c.rrect(x0, 112, w, 240, 20, SURFACE)

    def row(
        y: int,
        icon: str,
        title: str,
        subtitle: str,
        on: bool,
        name: str,
        act: Callable[[], None],
    ) -> None:
        cy = y + 36
        c.circle(x0 + 44, cy, 20, PRIMARY_LIGHT if on else (236, 238, 242))
        c.glyph(icon, 22, PRIMARY if on else TEXT_MUTED, x0 + 44, cy)
        c.text(x0 + 84, cy - 11, title, 20, TEXT_COLOR, "lm", bold=True)
        c.text(x0 + 84, cy + 14, subtitle, 16, TEXT_MUTED, "lm")
        toggle = Rect(x1 - 24 - 56, cy - 16, 56, 32)
        c.switch(toggle.x, toggle.y, on)
        hot.append(Hotspot(f"settings.{name}_row", Rect(x0, y, w, 72), tap=ignore_point(act)))
        hot.append(Hotspot(f"settings.{name}_toggle", toggle, tap=ignore_point(act)))

    row(
        112,
        "wifi",
        "Wi-Fi",
        "Connected to Home-Network" if a.wifi else "Off",
        a.wifi,
        "wifi",
        a.toggle_wifi,
    )
    c.rect(x0 + 84, 184, w - 84, 1, DIVIDER)
    connected = [d.name for d in DEVICES if d.name in a.paired]
    if not a.bluetooth:
        bt_sub = "Off"
    elif connected:
        bt_sub = f"On · connected to {connected[-1]}"
    else:
        bt_sub = "On · visible as My Tablet"
    row(
        184,
        "bluetooth",
        "Bluetooth",
        bt_sub,
        a.bluetooth,
        "bluetooth",
        a.toggle_bluetooth,
    )
    c.rect(x0 + 84, 256, w - 84, 1, DIVIDER)
    # brightness
    c.circle(x0 + 44, 304, 20, PRIMARY_LIGHT)
    c.glyph("sun", 24, PRIMARY, x0 + 44, 304)
    c.text(x0 + 84, 284, "Brightness", 20, TEXT_COLOR, "lm", bold=True)
    c.text(x1 - 24, 284, f"{a.brightness}%", 17, TEXT_MUTED, "rm")
    tx0, tx1, ty = SLIDER_X0, SLIDER_X1, 322
    pos = round(tx0 + (tx1 - tx0) * a.brightness / 100)
    c.rrect(tx0 - 3, ty - 3, tx1 - tx0 + 6, 6, 3, (218, 222, 230))
    c.rrect(tx0 - 3, ty - 3, pos - tx0 + 6, 6, 3, PRIMARY)
    c.circle(pos, ty, 12, PRIMARY)
    c.circle(pos, ty, 5, WHITE)
    slider = Rect(tx0 - 14, ty - 20, tx1 - tx0 + 28, 40)
    hot.append(
        Hotspot(
            "settings.brightness_slider",
            slider,
            tap=lambda x, _y: a.set_brightness(brightness_at(x)),
            drag=lambda e: a.set_brightness(brightness_at(e.x1)),
        )
    )
    # device list
    c.text(x0 + 8, 384, "Bluetooth devices", 17, PRIMARY, "lm", bold=True)
    if not a.bluetooth:
        c.rrect(x0, LIST_TOP, w, 120, 20, SURFACE)
        c.glyph("bluetooth", 36, TEXT_FAINT, WIDTH // 2, LIST_TOP + 42)
        c.text(
            WIDTH / 2,
            LIST_TOP + 88,
            "Turn on Bluetooth to connect speakers, headphones and more.",
            17,
            TEXT_MUTED,
            "mm",
        )
        return
    c.text(x1 - 8, 384, "Scroll for more", 15, TEXT_FAINT, "rm")
    view = Rect(x0, LIST_TOP, w, LIST_BOTTOM - LIST_TOP)
    hot.append(
        Hotspot(
            "settings.bluetooth_list",
            view,
            scroll=a.scroll_by,
            drag=lambda e: a.scroll_by(e.y0 - e.y1),
        )
    )
    panel = Image.new("RGB", (view.width, view.height), SURFACE)
    pc = Canvas(panel)

    def list_hotspot(name: str, rect: Rect, tap: Callable[[int, int], object]) -> None:
        """A hotspot at ``rect`` on the list, cut to what is in view (none if scrolled out)."""
        in_view = clip(Rect(view.x + rect.x, view.y + rect.y, rect.width, rect.height), view)
        if in_view is not None:
            hot.append(Hotspot(name, in_view, tap=tap))

    first = a.scroll // ROW_H
    for i in range(first, min(len(DEVICES), first + view.height // ROW_H + 2)):
        device = DEVICES[i]
        top = i * ROW_H - a.scroll
        cy = top + ROW_H // 2
        paired = device.name in a.paired
        pc.circle(44, cy, 20, PRIMARY_LIGHT if paired else (236, 238, 242))
        pc.glyph(device.kind, 22, PRIMARY if paired else TEXT_MUTED, 44, cy)
        pc.text(84, cy - 10, device.name, 19, TEXT_COLOR, "lm")
        pc.text(
            84,
            cy + 14,
            "Connected" if paired else "Available",
            15,
            GREEN if paired else TEXT_MUTED,
            "lm",
        )
        if i:
            pc.rect(84, top, view.width - 84, 1, DIVIDER)
        pair = ignore_point(partial(a.pair, device.name))
        list_hotspot(f"bluetooth.device.{device.slug}", Rect(0, top, view.width, ROW_H), pair)
        if paired:
            pc.glyph(
                "check", 18, GREEN, view.width - 24 - button_width("Connected", 16, 0) - 14, cy
            )
            pc.text(view.width - 24, cy, "Connected", 16, GREEN, "rm", bold=True)
        else:
            bw = 92
            button = Rect(view.width - 24 - bw, cy - 19, bw, 38)
            pc.button(button, "Pair", "outlined", size=17)
            list_hotspot(f"bluetooth.pair.{device.slug}", button, pair)
    if a.scroll_max():
        content = len(DEVICES) * ROW_H
        thumb = max(30, view.height * view.height // content)
        ty0 = round((view.height - thumb - 16) * a.scroll / a.scroll_max()) + 8
        pc.rrect(view.width - 9, ty0, 4, thumb, 2, (200, 204, 212))
    c.image.paste(panel, (view.x, view.y), rrect_mask(view.width, view.height, 20))
