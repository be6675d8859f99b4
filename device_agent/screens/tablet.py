"""A simulated 1280×800 Android-style tablet, drawn with Pillow, with the customer's support UI.

The tablet has a status bar (clock, Wi-Fi, Bluetooth, battery), a home screen with apps
(Settings, Books, Mail, Browser, Photos, Account) and, drawn over everything, the customer's
own controls for the support session: the Help button, the queue card, the consent dialog, the
Stop control button and the rating card. What those controls show comes from a
:class:`CustomerView` the device sets with :meth:`SimulatedTablet.set_customer_view`; taps on
them are reported through the ``on_customer_action`` callback.

Security rule: only input with ``origin="customer"`` reaches the customer's controls. Agent input
that lands on any of them is swallowed (``inject`` returns ``False`` and nothing changes), and while
the consent dialog is up, agent input changes nothing at all. The dialog is modal for the customer
too, except that Stop control always works. Brightness dims the apps but not the customer's
controls, and never below 30 %, so the screen cannot be blacked out from afar.
``on_customer_action`` runs in the thread that called ``inject``, after the tablet's lock is
released, so it may call :meth:`SimulatedTablet.set_customer_view`.

Rendering is lazy: a frame is drawn only when the state or the clock's minute changed, and
:attr:`SimulatedTablet.revision` counts those changes so a streamer can skip static screens without
comparing pixels. :meth:`SimulatedTablet.capture` returns the cached frame as a **read-only**
array (no copy); callers that want to draw on it must copy it first. A warm render takes
5–20 ms; the first one in a process about 150 ms while sprites and the wallpaper are cached.

Pillow's bundled font (Aileron) has no umlauts or ``ß``; text drawing composes accented letters
from the base letter and a drawn mark, and writes ``ß`` as ``ss``.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Literal, TypedDict

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .. import i18n
from ..customer import CustomerAction, CustomerActionCallback, CustomerView, Phase
from .base import (
    Drag,
    Frame,
    InputEvent,
    InputOrigin,
    Rect,
    ScreenSource,
    Scroll,
    Tap,
    Text,
)

__all__ = [
    "CustomerAction",
    "CustomerActionCallback",
    "CustomerView",
    "Phase",
    "SimulatedTablet",
    "TabletFields",
    "TabletState",
]

WIDTH, HEIGHT = 1280, 800
STATUS_H = 36
TITLE_H = 64
CONTENT_TOP = STATUS_H + TITLE_H
OVERLAY_TOP = 716
CHAT_LINES_SHOWN = 3
"""The customer's session controls live below this line; apps keep their controls above it."""

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

App = Literal["home", "settings", "books", "mail", "browser", "photos", "signin"]
FieldName = Literal["email", "password"]


class TabletFields(TypedDict):
    email: str
    password: str


class TabletState(TypedDict):
    current_app: App
    wifi: bool
    bluetooth: bool
    brightness: int
    focused_field: FieldName | None
    fields: TabletFields
    signed_in_as: str | None
    sign_in_error: str | None
    paired_devices: list[str]
    scroll_offset: int
    """How far the Bluetooth device list is scrolled, in pixels."""
    scroll_max: int
    open_book: str | None
    selected_mail: int
    open_photo: int | None
    rating: int | None
    """The stars the customer gave on the current rating card, if any."""
    customer_phase: Phase


# --------------------------------------------------------------------------------------------
# Content


@dataclass(frozen=True)
class _Device:
    name: str
    kind: str

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


DEVICES: tuple[_Device, ...] = (
    _Device("Kitchen Speaker", "speaker"),
    _Device("Headphones", "headphones"),
    _Device("Car Kit", "car"),
    _Device("Living Room TV", "tv"),
    _Device("Bedroom Speaker", "speaker"),
    _Device("Fitness Band", "watch"),
    _Device("Keyboard", "keyboard"),
    _Device("Game Controller", "gamepad"),
    _Device("Soundbar", "speaker"),
    _Device("Smart Watch", "watch"),
)


@dataclass(frozen=True)
class _Book:
    title: str
    author: str
    colour: RGB
    progress: float
    opening: tuple[str, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.title.lower()).strip("_")


BOOKS: tuple[_Book, ...] = (
    _Book(
        "Pride and Prejudice",
        "Jane Austen",
        (142, 68, 92),
        0.43,
        (
            "It is a truth universally acknowledged, that a single man in possession of a good "
            "fortune, must be in want of a wife.",
            "However little known the feelings or views of such a man may be on his first "
            "entering a neighbourhood, this truth is so well fixed in the minds of the "
            "surrounding families, that he is considered as the rightful property of some one "
            "or other of their daughters.",
        ),
    ),
    _Book(
        "Moby Dick",
        "Herman Melville",
        (32, 84, 128),
        0.12,
        (
            "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
            "money in my purse, and nothing particular to interest me on shore, I thought I "
            "would sail about a little and see the watery part of the world.",
            "It is a way I have of driving off the spleen and regulating the circulation.",
        ),
    ),
    _Book(
        "Alice in Wonderland",
        "Lewis Carroll",
        (46, 125, 92),
        0.78,
        (
            "Alice was beginning to get very tired of sitting by her sister on the bank, and of "
            "having nothing to do: once or twice she had peeped into the book her sister was "
            "reading, but it had no pictures or conversations in it, ‘and what is the use of a "
            "book,’ thought Alice ‘without pictures or conversations?’",
        ),
    ),
    _Book(
        "The Time Machine",
        "H. G. Wells",
        (86, 72, 160),
        0.05,
        (
            "The Time Traveller (for so it will be convenient to speak of him) was expounding a "
            "recondite matter to us. His pale grey eyes shone and twinkled, and his usually pale "
            "face was flushed and animated.",
        ),
    ),
    _Book(
        "Frankenstein",
        "Mary Shelley",
        (60, 60, 66),
        0.61,
        (
            "You will rejoice to hear that no disaster has accompanied the commencement of an "
            "enterprise which you have regarded with such evil forebodings.",
            "I arrived here yesterday, and my first task is to assure my dear sister of my "
            "welfare and increasing confidence in the success of my undertaking.",
        ),
    ),
    _Book(
        "Treasure Island",
        "R. L. Stevenson",
        (176, 102, 26),
        0.27,
        (
            "Squire Trelawney, Dr. Livesey, and the rest of these gentlemen having asked me to "
            "write down the whole particulars about Treasure Island, from the beginning to the "
            "end, keeping nothing back but the bearings of the island, I take up my pen.",
        ),
    ),
)


@dataclass(frozen=True)
class _Mail:
    sender: str
    address: str
    subject: str
    time: str
    body: tuple[str, ...]


MAILS: tuple[_Mail, ...] = (
    _Mail(
        "City Library",
        "loans@citylibrary.example",
        "Your reserved book is ready",
        "09:12",
        (
            "Hello,",
            "The book you reserved, The Time Machine, is ready for you. You can borrow it in "
            "the Books app or pick up the printed copy at the front desk within seven days.",
            "Happy reading,\nYour City Library",
        ),
    ),
    _Mail(
        "Maria Keller",
        "maria.keller@example.com",
        "Sunday lunch",
        "Yesterday",
        (
            "Hi!",
            "Are you still coming on Sunday? We are planning lunch at one. Bring the photos from "
            "the lake if you can, the children would love to see them.",
            "Love,\nMaria",
        ),
    ),
    _Mail(
        "Tablet Tips",
        "tips@tablet.example",
        "Three things to try this week",
        "Mon",
        (
            "Make the screen easier on the eyes: open Settings and drag the brightness slider.",
            "Connect a speaker: turn on Bluetooth in Settings and tap Pair next to it.",
            "Need a hand? Tap the Help button and someone will guide you.",
        ),
    ),
    _Mail(
        "Health Centre",
        "appointments@health.example",
        "Appointment reminder",
        "Mon",
        (
            "This is a reminder of your appointment on Thursday at 10:30.",
            "If you cannot come, please call us or reply to this message.",
        ),
    ),
    _Mail(
        "Photo Club",
        "club@photos.example",
        "Autumn walk photos",
        "Sun",
        (
            "Thank you to everyone who joined the autumn walk! The best photos are in the club "
            "album now. Next month we meet at the old harbour.",
        ),
    ),
    _Mail(
        "Electricity Co.",
        "billing@power.example",
        "Your monthly statement",
        "Fri",
        ("Your statement for last month is ready. Nothing to do: it is paid by direct debit.",),
    ),
)

APPS: tuple[tuple[App, str], ...] = (
    ("settings", "Settings"),
    ("books", "Books"),
    ("mail", "Mail"),
    ("browser", "Browser"),
    ("photos", "Photos"),
    ("signin", "Account"),
)
PHOTO_COUNT = 15
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELD_MAX = 64

# --------------------------------------------------------------------------------------------
# Text with the bundled font

_FONT_GLYPHS = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset("©«°±´·»‘’“”…‹›⁄™")
_SUBSTITUTES = {
    "ß": "ss",
    "ẞ": "SS",
    "–": "-",
    "—": "-",
    "‑": "-",
    "‐": "-",
    "−": "-",
    "„": "“",
    "‚": "‘",
    "•": "·",
    "\u00a0": " ",
    "\u202f": " ",
    "€": "EUR",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
}
_MARKS = {
    "\u0308": "dots",
    "\u0301": "´",
    "\u0300": "`",
    "\u0302": "^",
    "\u0303": "~",
    "\u030a": "°",
}


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow without FreeType"
    return font


@lru_cache(maxsize=8192)
def _shape(text: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The string in glyphs the font has, and the accents to draw: (index, mark)."""
    out: list[str] = []
    marks: list[tuple[int, str]] = []
    length = 0
    for ch in text:
        if ch in _FONT_GLYPHS:
            out.append(ch)
            length += 1
            continue
        if ch in _SUBSTITUTES:
            sub = _SUBSTITUTES[ch]
            out.append(sub)
            length += len(sub)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base = decomposed[0]
        if base in _FONT_GLYPHS and len(decomposed) > 1:
            marks.extend((length, _MARKS[m]) for m in decomposed[1:] if m in _MARKS)
            out.append(base)
        else:
            out.append("?")
        length += 1
    return "".join(out), tuple(marks)


@lru_cache(maxsize=8192)
def _text_width(text: str, size: int) -> float:
    return _font(size).getlength(_shape(text)[0])


@lru_cache(maxsize=1024)
def _fit(text: str, size: int, max_width: float) -> str:
    """``text``, cut with an ellipsis if it is wider than ``max_width``."""
    if _text_width(text, size) <= max_width:
        return text
    font = _font(size)
    lo, hi = 0, len(text)  # the longest prefix that fits, with the ellipsis, is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if font.getlength(_shape(text[:mid].rstrip() + "…")[0]) <= max_width:
            lo = mid
        else:
            hi = mid
    return text[:lo].rstrip() + "…"


@lru_cache(maxsize=1024)
def _wrap(text: str, size: int, max_width: float) -> tuple[str, ...]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and _text_width(candidate, size) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return tuple(lines)


# --------------------------------------------------------------------------------------------
# Anti-aliased shapes and sprites

_SS = 4
"""Supersampling factor for masks and sprites."""


@lru_cache(maxsize=512)
def _rrect_mask(width: int, height: int, radius: int) -> Image.Image:
    big = Image.new("L", (width * _SS, height * _SS), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * _SS - 1, height * _SS - 1), radius=radius * _SS, fill=255
    )
    return big.resize((width, height), Image.Resampling.BOX)


@lru_cache(maxsize=128)
def _shadow_mask(width: int, height: int, radius: int, blur: int, alpha: float) -> Image.Image:
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
def _glyph(name: str, size: int, colour: RGB) -> Image.Image:
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
def _app_icon(app: str, size: int = 100) -> Image.Image:
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
def _wallpaper() -> Image.Image:
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
def _landscape(seed: int, width: int, height: int) -> Image.Image:
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
def _cover(index: int, width: int, height: int) -> Image.Image:
    book = BOOKS[index]
    dark = tuple(max(0, round(v * 0.62)) for v in book.colour)
    image = _gradient(width, height, book.colour, (dark[0], dark[1], dark[2]))
    d = ImageDraw.Draw(image)
    d.rectangle((0, 0, 7, height), fill=(dark[0], dark[1], dark[2]))
    d.line((14, 22, width - 14, 22), fill=(255, 255, 255), width=1)
    y = 36
    for line in _wrap(book.title, 20, width - 36):
        _draw_text(d, 20, y, line, 20, WHITE, "la", bold=True)
        y += 26
    _draw_text(d, 20, height - 28, book.author, 14, (235, 235, 240), "la")
    return image


# --------------------------------------------------------------------------------------------
# Drawing


def _draw_text(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    text: str,
    size: int,
    fill: RGB,
    anchor: str = "la",
    *,
    bold: bool = False,
) -> None:
    """Text with the bundled font; accented letters get their marks drawn over the base letter."""
    font = _font(size)
    display, marks = _shape(text)
    stroke = 0.45 if bold and size >= 16 else 0.0
    draw.text(
        (x, y), display, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill
    )
    if not marks:
        return
    width = font.getlength(display)
    left = x - {"l": 0.0, "m": width / 2, "r": width}[anchor[0]]
    ascent, descent = font.getmetrics()
    baseline = y + {"a": ascent, "s": 0.0, "m": (ascent - descent) / 2, "d": -descent}[anchor[1]]
    for index, mark in marks:
        base = display[index]
        bx = left + font.getlength(display[:index])
        centre = bx + font.getlength(base) / 2
        top = baseline + font.getbbox(base, anchor="ls")[1]
        gap = size * 0.08
        if mark == "dots":
            r = size * 0.055 + stroke * 0.5
            cy = top - gap - r
            for dx in (-size * 0.12, size * 0.12):
                draw.ellipse((centre + dx - r, cy - r, centre + dx + r, cy + r), fill=fill)
        else:
            mx0, _, mx1, my1 = font.getbbox(mark, anchor="ls")
            draw.text(
                (centre - (mx0 + mx1) / 2, top - gap * 0.5 - my1),
                mark,
                font=font,
                fill=fill,
                anchor="ls",
            )


class _Canvas:
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
            self.image.paste(outline, (x, y, x + w, y + h), _rrect_mask(w, h, radius))
            x, y, w, h, radius = x + width, y + width, w - 2 * width, h - 2 * width, radius - width
            radius = max(0, radius)
        self.image.paste(fill, (x, y, x + w, y + h), _rrect_mask(w, h, radius))

    def circle(self, cx: int, cy: int, r: int, fill: RGB) -> None:
        self.rrect(cx - r, cy - r, 2 * r, 2 * r, r, fill)

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
        mask = _shadow_mask(w, h, radius, blur, alpha)
        pad = blur * 2
        self.image.paste(
            (12, 18, 32),
            (x - pad, y - pad + dy, x - pad + mask.width, y - pad + dy + mask.height),
            mask,
        )

    def sprite(self, sprite: Image.Image, x: int, y: int) -> None:
        self.image.paste(sprite, (x, y), sprite)

    def glyph(self, name: str, size: int, colour: RGB, cx: int, cy: int) -> None:
        self.sprite(_glyph(name, size, colour), cx - size // 2, cy - size // 2)

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
        _draw_text(self.draw, x, y, text, size, fill, anchor, bold=bold)

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


def _button_width(label: str, size: int = 18, pad: int = 22) -> int:
    return round(_text_width(label, size) + 2 * pad)


def _clip(rect: Rect, view: Rect) -> Rect | None:
    x0, y0 = max(rect.x, view.x), max(rect.y, view.y)
    x1 = min(rect.x + rect.width, view.x + view.width)
    y1 = min(rect.y + rect.height, view.y + view.height)
    if x1 <= x0 or y1 <= y0:
        return None
    return Rect(x0, y0, x1 - x0, y1 - y0)


def _centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.width // 2, rect.y + rect.height // 2


def _backlight(brightness: int) -> float:
    """How bright the picture is at a brightness setting: 30 % at 0, full at 100, never black."""
    return 0.3 + 0.7 * math.sqrt(brightness / 100)


def _dim_lut(factor: float) -> list[int]:
    return [round(v * factor) for v in range(256)] * 3


# --------------------------------------------------------------------------------------------
# Hit testing


@dataclass(frozen=True)
class _Hotspot:
    name: str
    rect: Rect
    tap: Callable[[int, int], object] | None = None
    drag: Callable[[Drag], object] | None = None
    scroll: Callable[[int], object] | None = None


@dataclass(frozen=True)
class _Control:
    name: str
    rect: Rect
    action: CustomerAction
    value: int | None = None


@dataclass
class _Overlay:
    controls: list[_Control] = field(default_factory=list)
    surfaces: list[Rect] = field(default_factory=list)
    modal: bool = False
    """A modal dialog is up: only its own controls (and Stop control) take customer taps."""
    modal_from: int = 0
    """Index in ``controls`` of the modal dialog's first control."""

    def control_at(self, x: int, y: int) -> _Control | None:
        for control in reversed(self.controls):
            if control.rect.contains(x, y):
                return control
        return None

    def modal_control_at(self, x: int, y: int) -> _Control | None:
        for control in reversed(self.controls[self.modal_from :]):
            if control.rect.contains(x, y):
                return control
        # Taking control back is never blocked, not even by a dialog.
        for control in self.controls[: self.modal_from]:
            if control.action == "stop_control" and control.rect.contains(x, y):
                return control
        return None

    def covers(self, x: int, y: int) -> bool:
        return self.control_at(x, y) is not None or any(s.contains(x, y) for s in self.surfaces)


def _ignore_point(fn: Callable[[], object]) -> Callable[[int, int], object]:
    return lambda _x, _y: fn()


def _point(event: InputEvent) -> tuple[int, int] | None:
    if isinstance(event, Tap | Scroll):
        return event.x, event.y
    if isinstance(event, Drag):
        return event.x0, event.y0
    return None


# --------------------------------------------------------------------------------------------
# The tablet

SETTINGS_X, SETTINGS_W = 190, 900
LIST_TOP, LIST_BOTTOM = 404, 704
ROW_H = 64


class SimulatedTablet(ScreenSource):
    """A believable tablet for demos, tests and QA; see the module docstring."""

    def __init__(
        self,
        *,
        on_customer_action: CustomerActionCallback | None = None,
        clock: Callable[[], time.struct_time] = time.localtime,
        battery_percent: int = 78,
        wifi: bool = True,
        bluetooth: bool = False,
        brightness: int = 90,
    ) -> None:
        self._on_customer_action = on_customer_action
        self._clock = clock
        self._lock = threading.Lock()
        self._battery = max(0, min(100, battery_percent))
        self._wifi = wifi
        self._bluetooth = bluetooth
        self._brightness = max(0, min(100, brightness))
        self._app: App = "home"
        self._paired: list[str] = []
        self._scroll = 0
        self._focus: FieldName | None = None
        self._fields: dict[FieldName, str] = {"email": "", "password": ""}
        self._signed_in_as: str | None = None
        self._sign_in_error: str | None = None
        self._book: int | None = None
        self._mail = 0
        self._mail_read = {0}
        self._photo: int | None = None
        self._view = CustomerView()
        self._rating: int | None = None
        self._revision = 0
        self._dirty = True
        self._now = clock()
        self._clock_key = self._minute(self._now)
        self._frame: Frame | None = None
        self._hotspots: list[_Hotspot] = []
        self._overlay = _Overlay()
        self._sensitive: list[Rect] = []
        self.last_render_s = 0.0
        """How long the last full render took (for benchmarks)."""

    # ---------------------------------------------------------------- ScreenSource

    @property
    def size(self) -> tuple[int, int]:
        return WIDTH, HEIGHT

    @property
    def revision(self) -> int:
        """Goes up on every visual change, including the clock's minute."""
        with self._lock:
            self._sync_clock()
            return self._revision

    def capture(self) -> Frame:
        """The screen, read-only: the cached frame is shared until something changes."""
        with self._lock:
            self._ensure_rendered()
            assert self._frame is not None
            return self._frame

    def capture_private(self) -> tuple[Frame, list[Rect]]:
        with self._lock:
            self._ensure_rendered()
            assert self._frame is not None
            return self._frame, list(self._sensitive)

    def sensitive_regions(self) -> list[Rect]:
        with self._lock:
            self._ensure_rendered()
            return list(self._sensitive)

    def inject(self, event: InputEvent, origin: InputOrigin = "agent") -> bool:
        """Apply an input event. Customer actions are reported after the lock is released."""
        with self._lock:
            self._ensure_rendered()
            landed, action = self._dispatch(event, origin)
        if action is not None and self._on_customer_action is not None:
            self._on_customer_action(action.action, action.value)
        return landed

    # ---------------------------------------------------------------- device and QA API

    def on_customer_action(self, callback: CustomerActionCallback | None) -> None:
        """Where the customer's taps on the support controls go (the device agent)."""
        self._on_customer_action = callback

    def set_customer_view(self, view: CustomerView) -> None:
        with self._lock:
            if view == self._view:
                return
            if not view.rating_requested:
                self._rating = None
            self._view = view
            self._touch()

    @property
    def customer_view(self) -> CustomerView:
        with self._lock:
            return self._view

    def state(self) -> TabletState:
        with self._lock:
            return TabletState(
                current_app=self._app,
                wifi=self._wifi,
                bluetooth=self._bluetooth,
                brightness=self._brightness,
                focused_field=self._focus,
                fields=TabletFields(email=self._fields["email"], password=self._fields["password"]),
                signed_in_as=self._signed_in_as,
                sign_in_error=self._sign_in_error,
                paired_devices=list(self._paired),
                scroll_offset=self._scroll,
                scroll_max=self._scroll_max(),
                open_book=BOOKS[self._book].title if self._book is not None else None,
                selected_mail=self._mail,
                open_photo=self._photo,
                rating=self._rating,
                customer_phase=self._view.phase,
            )

    def elements(self) -> dict[str, Rect]:
        """Named elements on screen now, app and overlay, with their rectangles."""
        with self._lock:
            self._ensure_rendered()
            named = {h.name: h.rect for h in self._hotspots}
            named.update({c.name: c.rect for c in self._overlay.controls})
            return named

    def tap(self, name: str, origin: InputOrigin = "agent") -> bool:
        """Tap the centre of a named element (a QA convenience)."""
        x, y = _centre(self.elements()[name])
        return self.inject(Tap(x, y), origin)

    # ---------------------------------------------------------------- state changes

    def _touch(self) -> None:
        self._revision += 1
        self._dirty = True

    @staticmethod
    def _minute(now: time.struct_time) -> tuple[int, int, int, int]:
        return now.tm_year, now.tm_yday, now.tm_hour, now.tm_min

    def _sync_clock(self) -> None:
        now = self._clock()
        key = self._minute(now)
        if key != self._clock_key:
            self._clock_key = key
            self._now = now
            self._touch()

    def _ensure_rendered(self) -> None:
        self._sync_clock()
        if self._dirty or self._frame is None:
            self._render()

    def _open(self, app: App) -> None:
        if app == self._app:
            return
        self._app = app
        self._focus = None
        self._book = None
        self._photo = None
        self._touch()

    def _back(self) -> bool:
        if self._app == "books" and self._book is not None:
            self._book = None
        elif self._app == "photos" and self._photo is not None:
            self._photo = None
        elif self._app != "home":
            self._app = "home"
            self._focus = None
        else:
            return False
        self._touch()
        return True

    def _toggle_wifi(self) -> None:
        self._wifi = not self._wifi
        self._touch()

    def _toggle_bluetooth(self) -> None:
        self._bluetooth = not self._bluetooth
        self._touch()

    def _set_brightness(self, x: int) -> None:
        value = round((x - self._slider_x0) / (self._slider_x1 - self._slider_x0) * 100)
        value = max(0, min(100, value))
        if value != self._brightness:
            self._brightness = value
            self._touch()

    _slider_x0 = SETTINGS_X + 84
    _slider_x1 = SETTINGS_X + SETTINGS_W - 28

    def _scroll_max(self) -> int:
        return max(0, len(DEVICES) * ROW_H - (LIST_BOTTOM - LIST_TOP))

    def _scroll_by(self, dy: int) -> None:
        offset = max(0, min(self._scroll_max(), self._scroll + dy))
        if offset != self._scroll:
            self._scroll = offset
            self._touch()

    def _pair(self, name: str) -> None:
        if name not in self._paired:
            self._paired.append(name)
            self._touch()

    def _set_focus(self, name: FieldName | None) -> None:
        if name != self._focus:
            self._focus = name
            self._touch()

    def _insert(self, text: str) -> bool:
        if self._app != "signin" or self._signed_in_as is not None or self._focus is None:
            return False
        text = "".join(ch for ch in text if ch.isprintable())
        current = self._fields[self._focus]
        text = text[: max(0, FIELD_MAX - len(current))]
        if not text:
            return False
        self._fields[self._focus] = current + text
        self._sign_in_error = None
        self._touch()
        return True

    def _backspace(self) -> bool:
        if self._app != "signin" or self._focus is None or not self._fields[self._focus]:
            return False
        self._fields[self._focus] = self._fields[self._focus][:-1]
        self._touch()
        return True

    def _submit(self) -> None:
        email = self._fields["email"].strip()
        if not _EMAIL.match(email):
            error: str | None = "Enter a valid email address."
        elif not self._fields["password"]:
            error = "Enter your password."
        else:
            error = None
            self._signed_in_as = email
            self._fields["password"] = ""
            self._focus = None
        self._sign_in_error = error
        self._touch()

    def _sign_out(self) -> None:
        self._signed_in_as = None
        self._touch()

    def _open_book(self, index: int) -> None:
        self._book = index
        self._touch()

    def _select_mail(self, index: int) -> None:
        if index != self._mail or index not in self._mail_read:
            self._mail = index
            self._mail_read.add(index)
            self._touch()

    def _open_photo(self, index: int) -> None:
        self._photo = index
        self._touch()

    # ---------------------------------------------------------------- input

    def _dispatch(self, event: InputEvent, origin: InputOrigin) -> tuple[bool, _Control | None]:
        overlay = self._overlay
        point = _point(event)
        if overlay.modal:
            # The consent dialog: the agent changes nothing; the customer only answers it.
            if origin != "customer" or not isinstance(event, Tap):
                return False, None
            control = overlay.modal_control_at(event.x, event.y)
            return (True, control) if control is not None else (False, None)
        if point is not None and overlay.covers(*point):
            # The customer's own controls: never for agent input, not even to look through.
            if origin != "customer" or not isinstance(event, Tap):
                return False, None
            control = overlay.control_at(event.x, event.y)
            if control is None:
                return False, None
            if control.action == "rate":
                if self._rating is not None:
                    return False, None
                self._rating = control.value
                self._touch()
            return True, control
        return self._dispatch_app(event), None

    def _hit(self, x: int, y: int, kind: Literal["tap", "drag", "scroll"]) -> _Hotspot | None:
        for hotspot in reversed(self._hotspots):
            if getattr(hotspot, kind) is not None and hotspot.rect.contains(x, y):
                return hotspot
        return None

    def _dispatch_app(self, event: InputEvent) -> bool:
        if isinstance(event, Tap):
            hotspot = self._hit(event.x, event.y, "tap")
            if hotspot is None or hotspot.tap is None:
                return False
            hotspot.tap(event.x, event.y)
            return True
        if isinstance(event, Drag):
            hotspot = self._hit(event.x0, event.y0, "drag")
            if hotspot is None or hotspot.drag is None:
                return False
            hotspot.drag(event)
            return True
        if isinstance(event, Scroll):
            hotspot = self._hit(event.x, event.y, "scroll")
            if hotspot is None or hotspot.scroll is None:
                return False
            hotspot.scroll(event.dy)
            return True
        if isinstance(event, Text):
            return self._insert(event.text)
        return self._key(event.key)

    def _key(self, key: str) -> bool:
        if key in ("Escape", "Back", "BrowserBack", "GoBack"):
            return self._back()
        if key == "Home":
            if self._app == "home":
                return False
            self._open("home")
            return True
        signin_form = self._app == "signin" and self._signed_in_as is None
        if key == "Tab" and signin_form:
            self._set_focus("password" if self._focus == "email" else "email")
            return True
        if key == "Enter" and signin_form:
            self._submit()
            return True
        if key == "Backspace":
            return self._backspace()
        if len(key) == 1:
            return self._insert(key)
        return False

    # ---------------------------------------------------------------- rendering

    def _render(self) -> None:
        started = time.perf_counter()
        image = Image.new("RGB", (WIDTH, HEIGHT), BG)
        canvas = _Canvas(image)
        hotspots: list[_Hotspot] = []
        sensitive: list[Rect] = []
        painter = {
            "home": self._paint_home,
            "settings": self._paint_settings,
            "books": self._paint_books,
            "mail": self._paint_mail,
            "browser": self._paint_browser,
            "photos": self._paint_photos,
            "signin": self._paint_signin,
        }[self._app]
        painter(canvas, hotspots, sensitive)
        self._paint_status_bar(canvas)
        if self._brightness < 100:
            image = image.point(_dim_lut(_backlight(self._brightness)))
            canvas = _Canvas(image)
        overlay = _Overlay()
        image = self._paint_overlay(canvas, overlay)
        frame = np.asarray(image)
        frame.flags.writeable = False
        self._frame = frame
        self._hotspots = hotspots
        self._overlay = overlay
        self._sensitive = sensitive
        self._dirty = False
        self.last_render_s = time.perf_counter() - started

    # status bar and title bar

    def _paint_status_bar(self, c: _Canvas) -> None:
        on_home = self._app == "home"
        fg = WHITE if on_home else TEXT_COLOR
        if self._app == "photos" and self._photo is not None:
            c.rect(0, 0, WIDTH, STATUS_H, (16, 16, 18))
            fg = WHITE
        elif not on_home:
            c.rect(0, 0, WIDTH, STATUS_H, BG)
        now = self._now
        c.text(24, STATUS_H // 2, f"{now.tm_hour:02d}:{now.tm_min:02d}", 17, fg, "lm", bold=True)
        x = WIDTH - 24
        label = f"{self._battery}%"
        c.text(x, STATUS_H // 2, label, 16, fg, "rm")
        x -= round(_text_width(label, 16)) + 8 + 26
        level = RED if self._battery <= 15 else fg
        c.rrect(x, 12, 24, 13, 3, fg)
        c.rrect(x + 2, 14, 20, 9, 2, (BG if not on_home else (30, 50, 90)))
        c.rect(x + 24, 16, 2, 5, fg)
        c.rect(x + 3, 15, max(1, round(18 * self._battery / 100)), 7, level)
        x -= 12
        if self._bluetooth:
            x -= 18
            c.glyph("bluetooth", 18, fg, x + 9, STATUS_H // 2)
            x -= 8
        x -= 20
        c.glyph("wifi" if self._wifi else "wifi_off", 20, fg, x + 10, STATUS_H // 2 + 1)

    def _paint_title_bar(self, c: _Canvas, hot: list[_Hotspot], title: str) -> None:
        c.rect(0, STATUS_H, WIDTH, TITLE_H, BG)
        back = Rect(12, STATUS_H + 8, 48, 48)
        c.glyph("back", 24, TEXT_COLOR, back.x + 24, back.y + 24)
        hot.append(_Hotspot("back", back, tap=_ignore_point(self._back)))
        c.text(76, STATUS_H + TITLE_H // 2, title, 24, TEXT_COLOR, "lm", bold=True)

    # home

    def _paint_home(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        c.image.paste(_wallpaper(), (0, 0))
        now = self._now
        c.text(WIDTH / 2, 168, f"{now.tm_hour:02d}:{now.tm_min:02d}", 110, WHITE, "mm")
        date = f"{_DAYS[now.tm_wday]}, {now.tm_mday} {_MONTHS[now.tm_mon - 1]}"
        c.text(WIDTH / 2, 250, date, 24, (226, 232, 245), "mm")
        search = Rect(WIDTH // 2 - 300, 300, 600, 54)
        c.shadow(search.x, search.y, search.width, search.height, 27, blur=12, alpha=0.25)
        c.rrect(search.x, search.y, search.width, search.height, 27, SURFACE)
        c.glyph("search", 22, TEXT_MUTED, search.x + 34, search.y + 27)
        c.text(search.x + 60, search.y + 27, "Search the web", 19, TEXT_FAINT, "lm")
        hot.append(
            _Hotspot("home.search", search, tap=_ignore_point(partial(self._open, "browser")))
        )
        cell, icon = 164, 100
        left = (WIDTH - cell * len(APPS)) // 2
        top = 436
        for i, (app, label) in enumerate(APPS):
            cx = left + cell * i + cell // 2
            c.shadow(cx - icon // 2, top, icon, icon, 24, blur=10, alpha=0.35, dy=5)
            c.sprite(_app_icon(app, icon), cx - icon // 2, top)
            c.text(cx, top + icon + 26, label, 19, WHITE, "mm")
            hot.append(
                _Hotspot(
                    f"app.{app}",
                    Rect(cx - cell // 2 + 8, top - 8, cell - 16, icon + 52),
                    tap=_ignore_point(partial(self._open, app)),
                )
            )

    # settings

    def _paint_settings(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        self._paint_title_bar(c, hot, "Settings")
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
            hot.append(_Hotspot(f"settings.{name}_row", Rect(x0, y, w, 72), tap=_ignore_point(act)))
            hot.append(_Hotspot(f"settings.{name}_toggle", toggle, tap=_ignore_point(act)))

        row(
            112,
            "wifi",
            "Wi-Fi",
            "Connected to Home-Network" if self._wifi else "Off",
            self._wifi,
            "wifi",
            self._toggle_wifi,
        )
        c.rect(x0 + 84, 184, w - 84, 1, DIVIDER)
        connected = [d.name for d in DEVICES if d.name in self._paired]
        if not self._bluetooth:
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
            self._bluetooth,
            "bluetooth",
            self._toggle_bluetooth,
        )
        c.rect(x0 + 84, 256, w - 84, 1, DIVIDER)
        # brightness
        c.circle(x0 + 44, 304, 20, PRIMARY_LIGHT)
        c.glyph("sun", 24, PRIMARY, x0 + 44, 304)
        c.text(x0 + 84, 284, "Brightness", 20, TEXT_COLOR, "lm", bold=True)
        c.text(x1 - 24, 284, f"{self._brightness}%", 17, TEXT_MUTED, "rm")
        tx0, tx1, ty = self._slider_x0, self._slider_x1, 322
        pos = round(tx0 + (tx1 - tx0) * self._brightness / 100)
        c.rrect(tx0 - 3, ty - 3, tx1 - tx0 + 6, 6, 3, (218, 222, 230))
        c.rrect(tx0 - 3, ty - 3, pos - tx0 + 6, 6, 3, PRIMARY)
        c.circle(pos, ty, 12, PRIMARY)
        c.circle(pos, ty, 5, WHITE)
        slider = Rect(tx0 - 14, ty - 20, tx1 - tx0 + 28, 40)
        hot.append(
            _Hotspot(
                "settings.brightness_slider",
                slider,
                tap=lambda x, _y: self._set_brightness(x),
                drag=lambda e: self._set_brightness(e.x1),
            )
        )
        # device list
        c.text(x0 + 8, 384, "Bluetooth devices", 17, PRIMARY, "lm", bold=True)
        if not self._bluetooth:
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
            _Hotspot(
                "settings.bluetooth_list",
                view,
                scroll=self._scroll_by,
                drag=lambda e: self._scroll_by(e.y0 - e.y1),
            )
        )
        panel = Image.new("RGB", (view.width, view.height), SURFACE)
        pc = _Canvas(panel)
        first = self._scroll // ROW_H
        for i in range(first, min(len(DEVICES), first + view.height // ROW_H + 2)):
            device = DEVICES[i]
            top = i * ROW_H - self._scroll
            cy = top + ROW_H // 2
            paired = device.name in self._paired
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
            row_rect = _clip(Rect(view.x, view.y + top, view.width, ROW_H), view)
            if row_rect is not None:
                hot.append(
                    _Hotspot(
                        f"bluetooth.device.{device.slug}",
                        row_rect,
                        tap=_ignore_point(partial(self._pair, device.name)),
                    )
                )
            if paired:
                pc.glyph(
                    "check", 18, GREEN, view.width - 24 - _button_width("Connected", 16, 0) - 14, cy
                )
                pc.text(view.width - 24, cy, "Connected", 16, GREEN, "rm", bold=True)
            else:
                bw = 92
                button = Rect(view.width - 24 - bw, cy - 19, bw, 38)
                pc.button(button, "Pair", "outlined", size=17)
                clipped = _clip(Rect(view.x + button.x, view.y + button.y, bw, 38), view)
                if clipped is not None:
                    hot.append(
                        _Hotspot(
                            f"bluetooth.pair.{device.slug}",
                            clipped,
                            tap=_ignore_point(partial(self._pair, device.name)),
                        )
                    )
        if self._scroll_max():
            content = len(DEVICES) * ROW_H
            thumb = max(30, view.height * view.height // content)
            ty0 = round((view.height - thumb - 16) * self._scroll / self._scroll_max()) + 8
            pc.rrect(view.width - 9, ty0, 4, thumb, 2, (200, 204, 212))
        c.image.paste(panel, (view.x, view.y), _rrect_mask(view.width, view.height, 20))

    # sign-in

    def _paint_signin(self, c: _Canvas, hot: list[_Hotspot], sensitive: list[Rect]) -> None:
        self._paint_title_bar(c, hot, "Account")
        cx = WIDTH // 2
        card_w = 500
        x0 = cx - card_w // 2
        if self._signed_in_as is not None:
            c.shadow(x0, 124, card_w, 300, 24, blur=14, alpha=0.12)
            c.rrect(x0, 124, card_w, 300, 24, SURFACE)
            c.circle(cx, 184, 38, PRIMARY)
            c.text(cx, 184, self._signed_in_as[:1].upper(), 34, WHITE, "mm", bold=True)
            c.text(cx, 258, "You’re signed in", 26, TEXT_COLOR, "mm", bold=True)
            c.text(
                cx,
                296,
                _fit(f"Signed in as {self._signed_in_as}", 18, card_w - 48),
                18,
                TEXT_MUTED,
                "mm",
            )
            sign_out = Rect(cx - 80, 340, 160, 48)
            c.button(sign_out, "Sign out", "outlined")
            hot.append(_Hotspot("signin.signout", sign_out, tap=_ignore_point(self._sign_out)))
            return
        c.shadow(x0, 124, card_w, 530, 24, blur=14, alpha=0.12)
        c.rrect(x0, 124, card_w, 530, 24, SURFACE)
        c.circle(cx, 180, 34, PRIMARY_LIGHT)
        c.glyph("person", 38, PRIMARY, cx, 182)
        c.text(cx, 244, "Sign in", 30, TEXT_COLOR, "mm", bold=True)
        c.text(cx, 280, "Use your account to sync books, mail and photos", 16, TEXT_MUTED, "mm")
        fx, fw, fh = x0 + 34, card_w - 68, 52
        form: tuple[tuple[FieldName, str, int], ...] = (
            ("email", "Email", 334),
            ("password", "Password", 422),
        )
        for name, label, y in form:
            focused = self._focus == name
            c.text(
                fx + 2, y - 10, label, 15, PRIMARY if focused else TEXT_MUTED, "ls", bold=focused
            )
            box = Rect(fx, y, fw, fh)
            if focused:
                c.rrect(box.x, box.y, fw, fh, 10, SURFACE, outline=PRIMARY, width=2)
            else:
                c.rrect(box.x, box.y, fw, fh, 10, SURFACE, outline=OUTLINE, width=1)
            value = self._fields[name]
            tx, ty = box.x + 16, box.y + fh // 2
            end = float(tx)
            if name == "email":
                if value:
                    shown = value
                    while shown and _text_width(shown, 20) > fw - 36:
                        shown = shown[1:]
                    c.text(tx, ty, shown, 20, TEXT_COLOR, "lm")
                    end = tx + _text_width(shown, 20)
                elif not focused:
                    c.text(tx, ty, "name@example.com", 20, TEXT_FAINT, "lm")
            else:
                dots = min(len(value), (fw - 40) // 16)
                for i in range(dots):
                    c.circle(tx + 6 + 16 * i, ty, 5, TEXT_COLOR)
                end = tx + 16 * dots - 2 if dots else float(tx)
                if not value and not focused:
                    c.text(tx, ty, "Password", 20, TEXT_FAINT, "lm")
                sensitive.append(box)
            if focused:
                c.rect(round(end) + 2, ty - 13, 2, 26, PRIMARY)
            hot.append(
                _Hotspot(f"signin.{name}", box, tap=_ignore_point(partial(self._set_focus, name)))
            )
        if self._sign_in_error:
            c.text(fx + 2, 500, self._sign_in_error, 16, RED, "lm")
        submit = Rect(fx, 528, fw, 52)
        c.button(submit, "Sign in", "filled", size=19)
        hot.append(_Hotspot("signin.submit", submit, tap=_ignore_point(self._submit)))
        c.text(cx, 616, "Forgot password?", 16, PRIMARY, "mm", bold=True)

    # books

    def _paint_books(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        self._paint_title_bar(c, hot, "Books")
        if self._book is not None:
            book = BOOKS[self._book]
            c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, (250, 247, 240))
            col_x, col_w = 240, 800
            c.text(col_x, 136, book.title.upper() + "  ·  " + book.author, 14, TEXT_MUTED, "lm")
            c.text(col_x, 186, "Chapter 1", 32, TEXT_COLOR, "lm", bold=True)
            y = 236
            for paragraph in book.opening:
                for line in _wrap(paragraph, 22, col_w):
                    c.text(col_x, y, line, 22, (48, 44, 40), "la")
                    y += 36
                y += 18
            pages = 180 + 37 * self._book
            c.text(
                WIDTH / 2,
                690,
                f"Page {round(pages * book.progress) + 1} of {pages}",
                15,
                TEXT_MUTED,
                "mm",
            )
            return
        c.text(64, 132, "Continue reading", 22, TEXT_COLOR, "lm", bold=True)
        c.text(WIDTH - 64, 132, f"{len(BOOKS)} books", 16, TEXT_MUTED, "rm")
        cw, ch, gap = 150, 225, 44
        left = (WIDTH - len(BOOKS) * cw - (len(BOOKS) - 1) * gap) // 2
        top = 168
        for i, book in enumerate(BOOKS):
            x = left + i * (cw + gap)
            c.shadow(x, top, cw, ch, 6, blur=10, alpha=0.3, dy=6)
            c.image.paste(_cover(i, cw, ch), (x, top), _rrect_mask(cw, ch, 6))
            y = top + ch + 22
            for line in _wrap(book.title, 17, cw)[:2]:
                c.text(x, y, line, 17, TEXT_COLOR, "lm", bold=True)
                y += 22
            c.text(x, y, book.author, 15, TEXT_MUTED, "lm")
            c.rrect(x, y + 18, cw, 4, 2, (222, 225, 232))
            c.rrect(x, y + 18, max(4, round(cw * book.progress)), 4, 2, PRIMARY)
            hot.append(
                _Hotspot(
                    f"books.book.{book.slug}",
                    Rect(x, top, cw, ch + 90),
                    tap=_ignore_point(partial(self._open_book, i)),
                )
            )
        c.rrect(64, 556, WIDTH - 128, 120, 20, SURFACE)
        c.circle(120, 616, 28, (255, 240, 224))
        c.sprite(_app_icon("books", 36), 102, 598)
        c.text(168, 600, "Borrow e-books from your library", 19, TEXT_COLOR, "lm", bold=True)
        c.text(
            168,
            630,
            "Your City Library card works here too. Ask us how with the Help button.",
            16,
            TEXT_MUTED,
            "lm",
        )

    # mail

    def _paint_mail(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        self._paint_title_bar(c, hot, "Mail")
        c.text(WIDTH - 32, STATUS_H + TITLE_H // 2, "Inbox", 18, TEXT_MUTED, "rm")
        list_w = 440
        c.rect(0, CONTENT_TOP, list_w, HEIGHT - CONTENT_TOP, SURFACE)
        c.rect(list_w, CONTENT_TOP, 1, HEIGHT - CONTENT_TOP, DIVIDER)
        for i, mail in enumerate(MAILS):
            y = CONTENT_TOP + i * 96
            if i == self._mail:
                c.rrect(8, y + 4, list_w - 16, 88, 14, PRIMARY_LIGHT)
            unread = i not in self._mail_read
            if unread:
                c.circle(24, y + 28, 5, PRIMARY)
            c.text(40, y + 28, mail.sender, 18, TEXT_COLOR, "lm", bold=unread or i == self._mail)
            c.text(list_w - 24, y + 28, mail.time, 14, TEXT_MUTED, "rm")
            c.text(40, y + 53, _fit(mail.subject, 16, list_w - 70), 16, TEXT_COLOR, "lm")
            snippet = " ".join(mail.body).replace("\n", " ")
            c.text(40, y + 76, _fit(snippet, 15, list_w - 70), 15, TEXT_MUTED, "lm")
            hot.append(
                _Hotspot(
                    f"mail.message.{i}",
                    Rect(0, y, list_w, 96),
                    tap=_ignore_point(partial(self._select_mail, i)),
                )
            )
        mail = MAILS[self._mail]
        px, pw = list_w + 28, WIDTH - list_w - 56
        c.rrect(px, 116, pw, 580, 20, SURFACE)
        y = 160
        for line in _wrap(mail.subject, 26, pw - 64):
            c.text(px + 32, y, line, 26, TEXT_COLOR, "lm", bold=True)
            y += 34
        y += 16
        c.circle(px + 54, y + 8, 22, PRIMARY_LIGHT)
        c.text(px + 54, y + 8, mail.sender[:1], 20, PRIMARY, "mm", bold=True)
        c.text(px + 88, y - 3, mail.sender, 18, TEXT_COLOR, "lm", bold=True)
        c.text(px + 88, y + 20, mail.address, 15, TEXT_MUTED, "lm")
        c.text(px + pw - 32, y - 3, mail.time, 15, TEXT_MUTED, "rm")
        y += 54
        c.rect(px + 32, y, pw - 64, 1, DIVIDER)
        y += 28
        for paragraph in mail.body:
            for line in _wrap(paragraph, 19, pw - 64):
                c.text(px + 32, y, line, 19, (52, 55, 62), "lm")
                y += 29
            y += 12

    # browser

    def _paint_browser(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        c.rect(0, STATUS_H, WIDTH, TITLE_H, BG)
        back = Rect(12, STATUS_H + 8, 48, 48)
        c.glyph("back", 24, TEXT_COLOR, back.x + 24, back.y + 24)
        hot.append(_Hotspot("back", back, tap=_ignore_point(self._back)))
        bar = Rect(76, STATUS_H + 10, WIDTH - 76 - 80, 44)
        c.rrect(bar.x, bar.y, bar.width, bar.height, 22, SURFACE, outline=DIVIDER)
        c.glyph("lock", 16, TEXT_MUTED, bar.x + 26, bar.y + 22)
        c.text(bar.x + 46, bar.y + 22, "news.example.org", 18, TEXT_COLOR, "lm")
        c.glyph("reload", 24, TEXT_COLOR, WIDTH - 40, STATUS_H + 32)
        if not self._wifi:
            c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, SURFACE)
            c.glyph("cloud_off", 96, TEXT_FAINT, WIDTH // 2, 280)
            c.text(WIDTH / 2, 372, "You’re offline", 30, TEXT_COLOR, "mm", bold=True)
            c.text(WIDTH / 2, 414, "Check your Wi-Fi connection in Settings.", 19, TEXT_MUTED, "mm")
            button = Rect(WIDTH // 2 - 100, 458, 200, 48)
            c.button(button, "Open Settings", "filled")
            hot.append(
                _Hotspot(
                    "browser.open_settings",
                    button,
                    tap=_ignore_point(partial(self._open, "settings")),
                )
            )
            return
        c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, SURFACE)
        c.rect(0, CONTENT_TOP, WIDTH, 64, (24, 38, 66))
        c.text(140, CONTENT_TOP + 32, "The Daily Example", 26, WHITE, "lm", bold=True)
        x = WIDTH - 140
        for item in reversed(("World", "Local", "Science", "Sport", "Weather")):
            c.text(x, CONTENT_TOP + 32, item, 16, (205, 214, 232), "rm")
            x -= round(_text_width(item, 16)) + 28
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
        hero = _landscape(7, col_w, 220)
        c.image.paste(hero, (col_x, 298), _rrect_mask(col_w, 220, 14))
        y = 550
        body = (
            "Volunteers will help visitors set up tablets, borrow e-books and video-call their "
            "families. The corner is open every weekday morning, and no appointment is needed. "
            "“Most questions take five minutes,” says librarian Ada Novak, “and then people are "
            "off reading.”"
        )
        for line in _wrap(body, 19, col_w):
            c.text(col_x, y, line, 19, (52, 55, 62), "lm")
            y += 30

    # photos

    def _paint_photos(self, c: _Canvas, hot: list[_Hotspot], _sensitive: list[Rect]) -> None:
        if self._photo is not None:
            c.rect(0, 0, WIDTH, HEIGHT, (16, 16, 18))
            back = Rect(12, STATUS_H + 8, 48, 48)
            c.glyph("back", 24, WHITE, back.x + 24, back.y + 24)
            hot.append(_Hotspot("back", back, tap=_ignore_point(self._back)))
            c.text(
                76,
                STATUS_H + TITLE_H // 2,
                f"Photo {self._photo + 1} of {PHOTO_COUNT}",
                20,
                WHITE,
                "lm",
            )
            pw, ph = 900, 600
            c.image.paste(_landscape(self._photo, pw, ph), ((WIDTH - pw) // 2, CONTENT_TOP + 6))
            return
        self._paint_title_bar(c, hot, "Photos")
        c.text(66, 128, "Recent", 18, TEXT_MUTED, "lm", bold=True)
        tw, th, gap, cols = 220, 165, 12, 5
        left = (WIDTH - cols * tw - (cols - 1) * gap) // 2
        for i in range(PHOTO_COUNT):
            x = left + (i % cols) * (tw + gap)
            y = 148 + (i // cols) * (th + gap)
            c.image.paste(_landscape(i, tw, th), (x, y), _rrect_mask(tw, th, 10))
            hot.append(
                _Hotspot(
                    f"photos.photo.{i}",
                    Rect(x, y, tw, th),
                    tap=_ignore_point(partial(self._open_photo, i)),
                )
            )

    # the customer's controls

    def _paint_overlay(self, c: _Canvas, ov: _Overlay) -> Image.Image:
        view = self._view
        locale = view.locale
        agent = view.agent_name or i18n.text(locale, "agent_fallback")
        if view.control_active:
            self._paint_control_marks(c, ov, i18n.text(locale, "control_active", agent=agent))
        if view.phase == "idle" or (view.phase == "ended" and not view.rating_requested):
            self._paint_help_button(c, ov, i18n.text(locale, "help"))
        elif view.phase == "queued":
            self._paint_card(
                c,
                ov,
                "clock",
                i18n.text(locale, "help_requested"),
                i18n.queue_status(locale, view.position, view.estimated_wait_s),
                [("customer.cancel", "cancel", i18n.text(locale, "cancel"), "outlined", PRIMARY)],
            )
        elif view.phase == "connecting":
            self._paint_card(
                c,
                ov,
                "clock",
                i18n.text(locale, "connecting"),
                None,
                [("customer.cancel", "cancel", i18n.text(locale, "cancel"), "outlined", PRIMARY)],
            )
        elif view.phase == "ended":
            self._paint_rating(c, ov)
        if view.phase == "connected" or (view.control_active and view.phase != "ended"):
            self._paint_session_dock(c, ov, agent)
            if view.chat:
                self._paint_chat(c, ov)
        if view.consent_requested:
            c = _Canvas(c.image.point(_dim_lut(SCRIM)))
            self._paint_consent(c, ov, agent)
        return c.image

    def _paint_chat(self, c: _Canvas, ov: _Overlay) -> None:
        """The latest chat lines as bubbles above the session bar, newest at the bottom."""
        width, size, pad, line_h = 380, 16, 14, 22
        bottom = OVERLAY_TOP - 14
        for who, text in reversed(self._view.chat[-CHAT_LINES_SHOWN:]):
            lines = _wrap(text, size, width - 2 * pad)[:3]
            if len(_wrap(text, size, width - 2 * pad)) > 3:
                lines = (*lines[:2], _fit(lines[2] + " …", size, width - 2 * pad))
            h = pad + 18 + line_h * len(lines) + pad - 4
            x, y = WIDTH - 28 - width, bottom - h
            if y < 60:
                break
            c.shadow(x, y, width, h, 16, blur=12, alpha=0.22, dy=4)
            c.rrect(x, y, width, h, 16, SURFACE)
            ov.surfaces.append(Rect(x, y, width, h))
            c.text(
                x + pad, y + pad + 6, _fit(who, 14, width - 2 * pad), 14, PRIMARY, "lm", bold=True
            )
            for index, line in enumerate(lines):
                c.text(x + pad, y + pad + 18 + line_h * index + 11, line, size, TEXT_COLOR, "lm")
            bottom = y - 10

    def _paint_help_button(self, c: _Canvas, ov: _Overlay, label: str) -> None:
        h = 60
        w = round(_text_width(label, 22)) + 96
        rect = Rect(WIDTH - 28 - w, HEIGHT - 24 - h, w, h)
        c.shadow(rect.x, rect.y, w, h, h // 2, blur=14, alpha=0.35, dy=5)
        c.rrect(rect.x, rect.y, w, h, h // 2, BRAND)
        c.circle(rect.x + 34, rect.y + 30, 17, WHITE)
        c.text(rect.x + 34, rect.y + 31, "?", 24, BRAND, "mm", bold=True)
        c.text(rect.x + 64, rect.y + 30, label, 22, WHITE, "lm", bold=True)
        ov.controls.append(_Control("customer.help", rect, "help"))

    def _paint_card(
        self,
        c: _Canvas,
        ov: _Overlay,
        icon: str,
        title: str,
        subtitle: str | None,
        buttons: list[tuple[str, CustomerAction, str, Literal["filled", "outlined", "tonal"], RGB]],
        *,
        avatar: str | None = None,
        title_colour: RGB = TEXT_COLOR,
        icon_colours: tuple[RGB, RGB] = (BRAND_LIGHT, BRAND),
    ) -> None:
        """A floating card at the bottom centre: icon, one or two lines, buttons on the right."""
        h, pad, bh, gap = 72, 14, 44, 10
        widths = [_button_width(label, 17, 20) for _, _, label, _, _ in buttons]
        buttons_w = sum(widths) + gap * (len(buttons) - 1)
        max_text = WIDTH - 48 - pad * 2 - 44 - 14 - 24 - buttons_w
        title = _fit(title, 19, max_text)
        subtitle = _fit(subtitle, 16, max_text) if subtitle else None
        text_w = max(_text_width(title, 19), _text_width(subtitle, 16) if subtitle else 0)
        w = round(pad + 44 + 14 + text_w + 28 + buttons_w + pad)
        w = max(w, 460)
        x, y = (WIDTH - w) // 2, OVERLAY_TOP
        c.shadow(x, y, w, h, 22, blur=18, alpha=0.28, dy=6)
        c.rrect(x, y, w, h, 22, SURFACE)
        ov.surfaces.append(Rect(x, y, w, h))
        bg, fg = icon_colours
        c.circle(x + pad + 22, y + h // 2, 22, bg)
        if avatar is not None:
            c.text(x + pad + 22, y + h // 2, avatar, 20, fg, "mm", bold=True)
        else:
            c.glyph(icon, 24, fg, x + pad + 22, y + h // 2)
        tx = x + pad + 44 + 14
        if subtitle:
            c.text(tx, y + 25, title, 19, title_colour, "lm", bold=True)
            c.text(tx, y + 49, subtitle, 16, TEXT_MUTED, "lm")
        else:
            c.text(tx, y + h // 2, title, 19, title_colour, "lm", bold=True)
        bx = x + w - pad - buttons_w
        for (name, action, label, style, colour), bw in zip(buttons, widths, strict=True):
            rect = Rect(bx, y + (h - bh) // 2, bw, bh)
            c.button(rect, label, style, colour, size=17)
            ov.controls.append(_Control(name, rect, action))
            bx += bw + gap

    def _paint_session_dock(self, c: _Canvas, ov: _Overlay, agent: str) -> None:
        view = self._view
        locale = view.locale
        buttons: list[
            tuple[str, CustomerAction, str, Literal["filled", "outlined", "tonal"], RGB]
        ] = []
        if view.control_active:
            buttons.append(
                (
                    "customer.stop_control",
                    "stop_control",
                    i18n.text(locale, "stop_control"),
                    "filled",
                    RED,
                )
            )
        if view.sharing_paused:
            buttons.append(
                ("customer.resume", "resume", i18n.text(locale, "resume"), "tonal", PRIMARY)
            )
        else:
            buttons.append(
                ("customer.pause", "pause", i18n.text(locale, "pause"), "tonal", PRIMARY)
            )
        buttons.append(("customer.end", "end", i18n.text(locale, "end"), "outlined", RED))
        connected = i18n.text(locale, "connected", agent=agent)
        if view.control_active:
            title, colour = i18n.text(locale, "control_active", agent=agent), RED
        elif view.sharing_paused:
            title, colour = i18n.text(locale, "sharing_paused"), TEXT_COLOR
        else:
            title, colour = connected, TEXT_COLOR
        if view.sharing_paused:
            subtitle = i18n.text(locale, "sharing_paused_detail", agent=agent)
        elif view.control_active:
            subtitle = connected
        else:
            subtitle = i18n.text(locale, "agent_sees_screen", agent=agent)
        self._paint_card(
            c,
            ov,
            "person",
            title,
            subtitle,
            buttons,
            avatar=agent[:1].upper(),
            title_colour=colour,
            icon_colours=(RED_LIGHT, RED) if view.control_active else (BRAND_LIGHT, BRAND),
        )

    def _paint_control_marks(self, c: _Canvas, ov: _Overlay, banner: str) -> None:
        """A red frame around the screen and a red chip in the status bar while the agent controls."""
        t = 5
        c.rect(0, 0, WIDTH, t, RED)
        c.rect(0, HEIGHT - t, WIDTH, t, RED)
        c.rect(0, 0, t, HEIGHT, RED)
        c.rect(WIDTH - t, 0, t, HEIGHT, RED)
        label = _fit(banner, 15, 560)
        w = round(_text_width(label, 15)) + 56
        rect = Rect((WIDTH - w) // 2, 5, w, 27)
        c.rrect(rect.x, rect.y, w, rect.height, 13, RED)
        c.glyph("pointer", 16, WHITE, rect.x + 20, rect.y + 14)
        c.text(rect.x + 36, rect.y + 14, label, 15, WHITE, "lm", bold=True)
        ov.surfaces.append(rect)

    def _paint_consent(self, c: _Canvas, ov: _Overlay, agent: str) -> None:
        view = self._view
        locale = view.locale
        if view.organisation:
            title = i18n.text(locale, "consent_title", agent=agent, organisation=view.organisation)
        else:
            title = i18n.text(locale, "consent_title_no_org", agent=agent)
        body = i18n.text(locale, "consent_body", agent=agent)
        w, pad = 600, 36
        title_lines = _wrap(title, 24, w - 2 * pad)
        body_lines = _wrap(body, 18, w - 2 * pad)
        h = pad + 64 + 20 + 32 * len(title_lines) + 12 + 27 * len(body_lines) + 28 + 52 + pad - 8
        x, y = (WIDTH - w) // 2, (HEIGHT - h) // 2
        c.shadow(x, y, w, h, 28, blur=24, alpha=0.45, dy=8)
        c.rrect(x, y, w, h, 28, SURFACE)
        ov.surfaces.append(Rect(x, y, w, h))
        ov.modal = True
        ov.modal_from = len(ov.controls)
        cy = y + pad + 32
        c.circle(WIDTH // 2, cy, 32, BRAND_LIGHT)
        c.glyph("pointer", 34, BRAND, WIDTH // 2 + 2, cy)
        ty = cy + 32 + 20 + 16
        for line in title_lines:
            c.text(WIDTH / 2, ty, line, 24, TEXT_COLOR, "mm", bold=True)
            ty += 32
        ty += 12 - 16 + 13
        for line in body_lines:
            c.text(WIDTH / 2, ty, line, 18, TEXT_MUTED, "mm")
            ty += 27
        by = y + h - pad - 52 + 8
        bw = (w - 2 * pad - 12) // 2
        deny = Rect(x + pad, by, bw, 52)
        allow = Rect(x + pad + bw + 12, by, bw, 52)
        c.button(deny, i18n.text(locale, "deny"), "outlined", TEXT_COLOR, size=19)
        c.button(allow, i18n.text(locale, "allow"), "filled", PRIMARY, size=19)
        ov.controls.append(_Control("customer.deny", deny, "deny"))
        ov.controls.append(_Control("customer.allow", allow, "allow"))

    def _paint_rating(self, c: _Canvas, ov: _Overlay) -> None:
        locale = self._view.locale
        star, gap = 48, 14
        stars_w = 5 * star + 4 * gap
        prompt = i18n.text(locale, "rating_prompt")
        title = i18n.text(locale, "thanks") if self._rating is not None else prompt
        w = max(stars_w + 120, round(_text_width(prompt, 22)) + 80)
        h = 172
        x, y = (WIDTH - w) // 2, HEIGHT - 16 - h
        c.shadow(x, y, w, h, 24, blur=18, alpha=0.28, dy=6)
        c.rrect(x, y, w, h, 24, SURFACE)
        ov.surfaces.append(Rect(x, y, w, h))
        c.text(WIDTH / 2, y + 26, i18n.text(locale, "session_ended"), 15, TEXT_MUTED, "mm")
        c.text(WIDTH / 2, y + 56, title, 22, TEXT_COLOR, "mm", bold=True)
        sx = (WIDTH - stars_w) // 2
        sy = y + 80
        for i in range(1, 6):
            filled = self._rating is not None and i <= self._rating
            rect = Rect(sx + (i - 1) * (star + gap), sy, star, star)
            c.sprite(
                _glyph("star" if filled else "star_outline", star, AMBER if filled else OUTLINE),
                rect.x,
                rect.y,
            )
            if self._rating is None:
                ov.controls.append(_Control(f"customer.rate.{i}", rect, "rate", i))
        c.text(sx, sy + star + 16, i18n.text(locale, "rating_low"), 14, TEXT_MUTED, "lm")
        c.text(sx + stars_w, sy + star + 16, i18n.text(locale, "rating_high"), 14, TEXT_MUTED, "rm")
