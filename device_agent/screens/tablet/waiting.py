"""The waiting customer's card on the tablet, the callback's ring and the note after a callback
that never reached the customer.

* :func:`paint_waiting`: the card at the bottom centre while the customer waits: what the queue
  says (:func:`~device_agent.waiting_text.waiting_text`), Cancel, and, while it can be chosen,
  "Call me back" with its one-line explanation. Its lines wrap and the card grows upwards, so
  long German words are never cut.
* :func:`paint_ring`: the callback rings: a centred dialog over a dimmed screen, "Anna is ready
  to help you: connect now?" with *Not now* and *Connect now* and the seconds left.
* :func:`paint_given_up`: beside Help, after the callback ended unanswered.
"""

from __future__ import annotations

from typing import Literal

from ...customer import CustomerView
from ...waiting_text import given_up_text, ring_text, waiting_text
from ..base import Rect
from .canvas import Canvas, button_width
from .text import text_width, wrap
from .theme import (
    AMBER,
    BRAND,
    BRAND_LIGHT,
    DIVIDER,
    HEIGHT,
    OVERLAY_TOP,
    PRIMARY,
    PRIMARY_LIGHT,
    RGB,
    SURFACE,
    TEXT_COLOR,
    TEXT_MUTED,
    WIDTH,
)
from .widgets import Control, Overlay

__all__ = ["RING_WIDTH", "WAITING_WIDTH", "paint_given_up", "paint_ring", "paint_waiting"]

WAITING_WIDTH = 1040
RING_WIDTH = 600
_BOTTOM = OVERLAY_TOP + 72
"""The waiting card's bottom edge: where the one-line queue card always ended."""
_PAD = 20
_ICON = 44
_TITLE, _TITLE_LH = 19, 26
_BODY, _BODY_LH = 16, 22
_BUTTON_H = 44
_AMBER_LIGHT: RGB = (255, 243, 214)
_AMBER_DARK: RGB = (176, 96, 0)
_ICONS: dict[str, tuple[str, RGB, RGB]] = {
    "plain": ("clock", BRAND_LIGHT, BRAND),
    "attention": ("clock", _AMBER_LIGHT, _AMBER_DARK),
    "callback": ("reload", PRIMARY_LIGHT, PRIMARY),
}


def paint_waiting(c: Canvas, ov: Overlay, view: CustomerView, cancel_label: str) -> None:
    """The waiting card (module docstring); records Cancel and "Call me back" in ``ov``."""
    words = waiting_text(view)
    x = (WIDTH - WAITING_WIDTH) // 2
    cancel_w = button_width(cancel_label, 17, 20)
    tx = x + _PAD + _ICON + 16
    text_w = x + WAITING_WIDTH - _PAD - cancel_w - 20 - tx
    title = wrap(words.title, _TITLE, text_w)
    lines = [line for paragraph in words.lines for line in wrap(paragraph, _BODY, text_w)]
    top_h = max(_ICON, len(title) * _TITLE_LH + len(lines) * _BODY_LH + (6 if lines else 0))
    offer_w = button_width(words.callback_label, 17, 22)
    detail_x = tx + offer_w + 16
    detail = wrap(words.callback_detail, 15, x + WAITING_WIDTH - _PAD - detail_x)
    offer_h = max(_BUTTON_H, len(detail) * 20) + 2 * 14 if view.callback_offered else 0
    h = _PAD + top_h + _PAD + offer_h
    y = _BOTTOM - h
    c.shadow(x, y, WAITING_WIDTH, h, 22, blur=18, alpha=0.28, dy=6)
    c.rrect(x, y, WAITING_WIDTH, h, 22, SURFACE)
    ov.surfaces.append(Rect(x, y, WAITING_WIDTH, h))

    glyph, bg, fg = _ICONS[words.tone]
    c.circle(x + _PAD + _ICON // 2, y + _PAD + _ICON // 2, _ICON // 2, bg)
    c.glyph(glyph, 24, fg, x + _PAD + _ICON // 2, y + _PAD + _ICON // 2)
    ty = y + _PAD + max(0, (_ICON - top_h) // 2)
    for line in title:
        c.text(tx, ty + _TITLE_LH // 2, line, _TITLE, TEXT_COLOR, "lm", bold=True)
        ty += _TITLE_LH
    ty += 6
    for line in lines:
        c.text(tx, ty + _BODY_LH // 2, line, _BODY, TEXT_MUTED, "lm")
        ty += _BODY_LH
    cancel = Rect(x + WAITING_WIDTH - _PAD - cancel_w, y + _PAD, cancel_w, _BUTTON_H)
    c.button(cancel, cancel_label, "outlined", PRIMARY, size=17)
    ov.controls.append(Control("customer.cancel", cancel, "cancel"))
    if not view.callback_offered:
        return

    oy = y + _PAD + top_h + _PAD
    c.rect(x + _PAD, oy, WAITING_WIDTH - 2 * _PAD, 1, DIVIDER)
    offer = Rect(tx, oy + (offer_h - _BUTTON_H) // 2, offer_w, _BUTTON_H)
    style: Literal["filled", "tonal"] = "filled" if words.callback_prominent else "tonal"
    c.button(offer, words.callback_label, style, PRIMARY, size=17)
    ov.controls.append(Control("customer.callback", offer, "callback"))
    dy = oy + offer_h // 2 - len(detail) * 20 // 2
    for line in detail:
        c.text(detail_x, dy + 10, line, 15, TEXT_MUTED, "lm")
        dy += 20


def paint_ring(c: Canvas, ov: Overlay, view: CustomerView, connect: str, not_now: str) -> None:
    """The callback's ring: a centred dialog (the caller dims the screen under it). While it is
    up, the whole screen is the customer's (no tap reaches the apps under it); Enter connects
    and Escape says "Not now" (see :mod:`.controls`)."""
    question = ring_text(view)
    ring = view.callback_ring
    if question is None or ring is None:
        return
    w, pad = RING_WIDTH, 36
    title = wrap(question, 24, w - 2 * pad)
    h = pad + 64 + 20 + 32 * len(title) + 24 + 52 + pad
    x, y = (WIDTH - w) // 2, (HEIGHT - h) // 2
    ov.controls.clear()  # the waiting card's, dimmed under the dialog: only its own take taps
    ov.surfaces.append(Rect(0, 0, WIDTH, HEIGHT))
    c.shadow(x, y, w, h, 28, blur=24, alpha=0.45, dy=8)
    c.rrect(x, y, w, h, 28, SURFACE)
    cy = y + pad + 32
    initial = (ring.agent_name or "?")[:1].upper()
    c.circle(WIDTH // 2, cy, 32, PRIMARY_LIGHT)
    c.text(WIDTH // 2, cy, initial, 30, PRIMARY, "mm", bold=True)
    if ring.seconds_left is not None:
        # The seconds left, a bare number in a badge on the avatar: no words to translate.
        label = str(ring.seconds_left)
        bw = max(30, round(text_width(label, 15)) + 14)
        bx, by = WIDTH // 2 + 18, cy - 40
        c.rrect(bx - 2, by - 2, bw + 4, 30, 15, SURFACE)
        c.rrect(bx, by, bw, 26, 13, AMBER)
        c.text(bx + bw / 2, by + 13, label, 15, TEXT_COLOR, "mm", bold=True)
    ty = cy + 32 + 20 + 16
    for line in title:
        c.text(WIDTH / 2, ty, line, 24, TEXT_COLOR, "mm", bold=True)
        ty += 32
    by = y + h - pad - 52
    bw = (w - 2 * pad - 12) // 2
    decline = Rect(x + pad, by, bw, 52)
    accept = Rect(x + pad + bw + 12, by, bw, 52)
    c.button(decline, not_now, "outlined", TEXT_COLOR, size=19)
    c.button(accept, connect, "filled", PRIMARY, size=19)
    ov.controls.append(Control("customer.callback_decline", decline, "callback_decline"))
    ov.controls.append(Control("customer.callback_accept", accept, "callback_accept"))


def paint_given_up(c: Canvas, ov: Overlay, view: CustomerView, help_rect: Rect) -> None:
    """The note after an unanswered callback, left of the Help button, its bottom aligned."""
    note = given_up_text(view)
    if note is None:
        return
    w = 460
    lines = wrap(note, _BODY, w - 2 * _PAD)
    h = 2 * 14 + len(lines) * _BODY_LH
    x, y = help_rect.x - 16 - w, help_rect.y + help_rect.height - h
    c.shadow(x, y, w, h, 18, blur=14, alpha=0.25, dy=4)
    c.rrect(x, y, w, h, 18, SURFACE)
    ov.surfaces.append(Rect(x, y, w, h))
    ty = y + 14
    for line in lines:
        c.text(x + _PAD, ty + _BODY_LH // 2, line, _BODY, TEXT_COLOR, "lm")
        ty += _BODY_LH
