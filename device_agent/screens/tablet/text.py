"""Text on the tablet: the font, shaping, width, fitting, wrapping and drawing.

The customer reads six languages (``device_agent/locales``), Polish, Czech and Turkish among
them, so the tablet draws with DejaVu Sans Condensed (Debian's ``fonts-dejavu-extra``, a
``make system-deps`` package), which has every letter they use at about the widths the layout was
made for; else DejaVu Sans (``fonts-dejavu-core``). Without either, Pillow's bundled font
(Aileron) is the fallback: it has no umlauts or ``ß``, so text is first shaped into glyphs it has
(substitutes such as ``ß`` → ``ss``) plus accent marks that :func:`draw_text` draws over the base
letter; letters beyond that come out as ``?``. Widths, fits and wraps are cached because the same
strings are drawn every frame.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

from .theme import RGB

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


FONT_FILES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
"""The fonts with every letter of the customer's languages, the first one found is used."""


@lru_cache(maxsize=1)
def _font_file() -> Path | None:
    return next((path for path in FONT_FILES if path.is_file()), None)


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    file = _font_file()
    if file is not None:
        return ImageFont.truetype(str(file), size)
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow without FreeType"
    return font


@lru_cache(maxsize=8192)
def _shape(text: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The string in glyphs the font has, and the accents to draw: (index, mark)."""
    if _font_file() is not None:
        return text, ()  # a full font: every letter as it is
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
def text_width(text: str, size: int) -> float:
    return _font(size).getlength(_shape(text)[0])


@lru_cache(maxsize=1024)
def fit(text: str, size: int, max_width: float) -> str:
    """``text``, cut with an ellipsis if it is wider than ``max_width``."""
    if text_width(text, size) <= max_width:
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
def wrap(text: str, size: int, max_width: float) -> tuple[str, ...]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, size) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return tuple(lines)


def draw_text(
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
    """Text in the tablet's font; with the bundled fallback, accented letters get their marks
    drawn over the base letter."""
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
