"""The customer's on-screen keyboard and the line being typed with it (chat, rating comment).

:class:`Typing` is what the customer is in the middle of: the draft, the Shift key. The keyboard
is drawn by :func:`paint_keyboard` inside a rectangle the caller gives, each key recorded as a
:class:`~.widgets.Control` named ``customer.key.<key>`` (``customer.key.a``, ``customer.key.shift``,
``customer.key.backspace``, ``customer.key.space``) whose ``value`` is the key. Only the customer's
taps reach those keys, like every customer control; the agent's typing never lands in the draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import i18n
from ..base import Rect
from .canvas import Canvas
from .text import fit, text_width
from .theme import OUTLINE, PRIMARY, PRIMARY_LIGHT, RGB, SURFACE, TEXT_COLOR, TEXT_MUTED
from .widgets import Control, Overlay

__all__ = [
    "KEYBOARD_ROWS",
    "SHIFT",
    "Typing",
    "keyboard_height",
    "paint_field",
    "paint_keyboard",
    "rows",
]

SHIFT, BACKSPACE, SPACE = "shift", "backspace", "space"
_LETTERS: dict[str, tuple[str, str, str]] = {
    "en": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    "de": ("qwertzuiopü", "asdfghjklöä", "yxcvbnm"),
}
KEYBOARD_ROWS = 5
KEY_H, KEY_GAP = 40, 6

KEY_FILL: RGB = (233, 236, 242)


def rows(locale: str | None) -> tuple[tuple[str, ...], ...]:
    """The keys, row by row, for the locale's language (QWERTZ with umlauts for German)."""
    top, middle, bottom = _LETTERS.get(i18n.language(locale), _LETTERS["en"])
    return (
        tuple("1234567890"),
        tuple(top),
        tuple(middle),
        (SHIFT, *bottom, BACKSPACE),
        (",", SPACE, ".", "?", "!"),
    )


def keyboard_height() -> int:
    return KEYBOARD_ROWS * KEY_H + (KEYBOARD_ROWS - 1) * KEY_GAP


@dataclass
class Typing:
    """The line the customer is typing on the tablet, and whether Shift is on."""

    limit: int
    draft: str = ""
    shift: bool = False

    def press(self, key: str) -> None:
        """One key of the on-screen keyboard (Shift lasts for one letter, as on a phone)."""
        if key == SHIFT:
            self.shift = not self.shift
        elif key == BACKSPACE:
            self.draft = self.draft[:-1]
        elif key == SPACE:
            self.insert(" ")
        else:
            self.insert(key.upper() if self.shift else key)
            self.shift = False

    def insert(self, text: str) -> None:
        """Typed text (a physical keyboard on the preview page), cut at the limit."""
        self.draft = (self.draft + text)[: self.limit]

    def take(self) -> str:
        """The finished line, the draft emptied."""
        text, self.draft, self.shift = self.draft.strip(), "", False
        return text


def paint_keyboard(c: Canvas, ov: Overlay, area: Rect, locale: str, shift: bool) -> None:
    """The keys in ``area`` (its height is :func:`keyboard_height`), each a customer control."""
    layout = rows(locale)
    columns = max(len(row) for row in layout[:3])
    unit = (area.width - (columns - 1) * KEY_GAP) / columns
    y = area.y
    for row in layout:
        widths = [_key_units(key, row) * unit + (_key_units(key, row) - 1) * KEY_GAP for key in row]
        total = sum(widths) + KEY_GAP * (len(row) - 1)
        x = area.x + (area.width - total) / 2
        for key, width in zip(row, widths, strict=True):
            rect = Rect(round(x), y, round(width), KEY_H)
            _paint_key(c, rect, key, shift)
            ov.controls.append(Control(f"customer.key.{key}", rect, "key", key))
            x += width + KEY_GAP
        y += KEY_H + KEY_GAP


def _key_units(key: str, row: tuple[str, ...]) -> float:
    if key == SPACE:
        return 5.0
    if key in (SHIFT, BACKSPACE):
        return 1.5
    return 1.0


def _paint_key(c: Canvas, rect: Rect, key: str, shift: bool) -> None:
    special = key in (SHIFT, BACKSPACE)
    fill = PRIMARY_LIGHT if key == SHIFT and shift else ((214, 219, 228) if special else KEY_FILL)
    c.rrect(rect.x, rect.y, rect.width, rect.height, 8, fill)
    cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
    if key == BACKSPACE:
        c.glyph("back", 20, TEXT_COLOR, cx, cy)
    elif key == SHIFT:
        # An upward arrow: the back glyph turned, drawn as lines (the font has no arrows).
        colour = PRIMARY if shift else TEXT_COLOR
        c.draw.line((cx, cy - 9, cx, cy + 9), fill=colour, width=2)
        c.draw.line((cx - 8, cy - 1, cx, cy - 9, cx + 8, cy - 1), fill=colour, width=2)
    elif key != SPACE:
        c.text(cx, cy, key.upper() if shift else key, 18, TEXT_COLOR, "mm")


def paint_field(
    c: Canvas, rect: Rect, draft: str, placeholder: str, *, focused: bool = True
) -> None:
    """A one-line text field: the end of the draft (what was typed last) and a caret."""
    c.rrect(
        rect.x,
        rect.y,
        rect.width,
        rect.height,
        rect.height // 2,
        SURFACE,
        outline=PRIMARY if focused else OUTLINE,
        width=2 if focused else 1,
    )
    inner = rect.width - 36
    cy = rect.y + rect.height // 2
    if not draft:
        c.text(rect.x + 18, cy, fit(placeholder, 16, inner), 16, TEXT_MUTED, "lm")
        caret_x = rect.x + 18
    else:
        shown = _tail(draft.replace("\n", " "), 16, inner - 6)
        c.text(rect.x + 18, cy, shown, 16, TEXT_COLOR, "lm")
        caret_x = rect.x + 18 + round(text_width(shown, 16)) + 2
    if focused:
        c.rect(caret_x, cy - 11, 2, 22, PRIMARY)


def _tail(text: str, size: int, max_width: float) -> str:
    """The end of ``text`` that fits in ``max_width``, with an ellipsis in front when cut."""
    if text_width(text, size) <= max_width:
        return text
    lo, hi = 0, len(text)  # the shortest cut that fits is in (lo, hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if text_width("…" + text[mid:], size) <= max_width:
            hi = mid
        else:
            lo = mid
    return "…" + text[hi:]
