"""The customer window's colours, fonts and button styles: the simulated tablet's palette in Tk.

Plain data, so the window and its content read one palette and nothing here needs ``tkinter``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AMBER",
    "BIG_FONT",
    "BODY_FONT",
    "BUTTON_FONT",
    "FAMILY",
    "FLAT_BUTTON",
    "MUTED",
    "OUTLINE",
    "PRIMARY",
    "PRIMARY_LIGHT",
    "RED",
    "RED_LIGHT",
    "STAR_FONT",
    "STYLES",
    "SURFACE",
    "TEXT",
    "TITLE_FONT",
    "WIDTH",
]

WIDTH = 400
"""The window's least width; labels wrap to fit it."""

SURFACE = "#ffffff"
TEXT = "#1f2126"
MUTED = "#5e636c"
OUTLINE = "#c4c8d0"
PRIMARY = "#1967d2"
PRIMARY_DARK = "#1453a8"
PRIMARY_LIGHT = "#e4eefd"
BRAND = "#d84315"
BRAND_DARK = "#b2360f"
RED = "#cc2828"
RED_DARK = "#a61f1f"
RED_LIGHT = "#fce8e6"
AMBER = "#f9ab00"

FAMILY = "DejaVu Sans"
"""Has every glyph the catalogues use (umlauts, ß, “·”, “…”, ★); Tk falls back if it is missing."""
TITLE_FONT = (FAMILY, 13, "bold")
BODY_FONT = (FAMILY, 11)
BUTTON_FONT = (FAMILY, 11, "bold")
BIG_FONT = (FAMILY, 14, "bold")
STAR_FONT = (FAMILY, 22)

STYLES: dict[str, tuple[str, str, str]] = {
    # background, background while pressed, text
    "brand": (BRAND, BRAND_DARK, SURFACE),
    "stop": (RED, RED_DARK, SURFACE),
    "filled": (PRIMARY, PRIMARY_DARK, SURFACE),
    "tonal": (PRIMARY_LIGHT, "#d2e3fc", PRIMARY),
    "outlined": (SURFACE, PRIMARY_LIGHT, PRIMARY),
    "danger": (SURFACE, RED_LIGHT, RED),
}

FLAT_BUTTON: dict[str, Any] = {
    "relief": "flat",
    "borderwidth": 0,
    "takefocus": 0,
    "cursor": "hand2",
}
"""What every button of the window has: flat, a hand cursor, and never the keyboard focus, so keys
typed by a remote agent cannot press it."""
