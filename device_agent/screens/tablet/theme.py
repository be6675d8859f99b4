"""The tablet's geometry and colour palette, shared by every drawing module."""

from __future__ import annotations

WIDTH, HEIGHT = 1280, 800
STATUS_H = 36
TITLE_H = 64
CONTENT_TOP = STATUS_H + TITLE_H
OVERLAY_TOP = 716
"""The customer's session controls live below this line; apps keep their controls above it."""
CHAT_LINES_SHOWN = 3
LIST_TOP, LIST_BOTTOM = 404, 704
"""Where Settings' Bluetooth device list shows; the apps need its height to bound the scroll."""
ROW_H = 64
"""One row of that list."""

RGB = tuple[int, int, int]

BG: RGB = (243, 245, 249)
SURFACE: RGB = (255, 255, 255)
TEXT_COLOR: RGB = (31, 33, 38)
TEXT_MUTED: RGB = (94, 99, 108)
TEXT_FAINT: RGB = (150, 154, 162)
DIVIDER: RGB = (230, 232, 237)
OUTLINE: RGB = (196, 200, 208)
PRIMARY: RGB = (25, 103, 210)
PRIMARY_LIGHT: RGB = (228, 238, 253)
GREEN: RGB = (24, 128, 56)
RED: RGB = (204, 40, 40)
RED_LIGHT: RGB = (252, 232, 230)
BRAND: RGB = (216, 67, 21)
BRAND_LIGHT: RGB = (255, 235, 224)
AMBER: RGB = (249, 171, 0)
WHITE: RGB = (255, 255, 255)
SCRIM = 0.42
