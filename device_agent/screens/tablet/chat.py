"""The chat with the agent on the tablet: a short peek at new lines, and the whole history.

* :func:`paint_peek`: for a few seconds after the agent writes, the newest lines in a small card
  above the session bar (tap it to open the chat, × to hide it). The device folds it into the
  Chat button (with its unread count) by itself; nothing piles up over the apps.
* :func:`paint_panel`: the open chat on the right: the history, scrollable (customer scrolls and
  drags only), the line being typed, Send, and the on-screen keyboard.

Chat text is untrusted and only ever drawn as text.
"""

from __future__ import annotations

from PIL import Image

from ... import i18n
from ...customer import ChatLine, CustomerView
from ..base import Rect
from .canvas import Canvas
from .keyboard import Typing, keyboard_height, paint_field, paint_keyboard
from .text import fit, text_width, wrap
from .theme import (
    DIVIDER,
    OVERLAY_TOP,
    PRIMARY,
    PRIMARY_LIGHT,
    STATUS_H,
    SURFACE,
    TEXT_COLOR,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from .widgets import Control, Overlay

__all__ = ["PANEL", "paint_panel", "paint_peek", "wrap_hard"]

PANEL = Rect(WIDTH - 24 - 452, STATUS_H + 12, 452, OVERLAY_TOP - 12 - (STATUS_H + 12))
"""Where the open chat sits: the right-hand side, between the status bar and the session bar."""
_PAD = 14
_HEADER_H = 58
_FIELD_H = 48
_SIZE, _LINE_H = 16, 22
_BUBBLE_MAX = 330


def wrap_hard(text: str, size: int, width: float) -> tuple[str, ...]:
    """Word-wrapped lines, with words longer than a line cut wherever they must be."""
    out: list[str] = []
    for line in wrap(text, size, width):
        while len(line) > 1 and text_width(line, size) > width:
            lo, hi = 1, len(line)  # the longest prefix that fits is in [lo, hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if text_width(line[:mid], size) <= width:
                    lo = mid
                else:
                    hi = mid
            out.append(line[:lo])
            line = line[lo:]
        out.append(line)
    return tuple(out)


def paint_peek(c: Canvas, ov: Overlay, view: CustomerView, agent: str) -> None:
    """The newest lines from the agent in a card above the session bar, bottom right."""
    theirs = [line for line in view.chat if not line.mine][-2:]
    if not theirs:
        return
    width, inner = 400, 400 - 2 * _PAD
    lines: list[str] = []
    for line in theirs:
        wrapped = wrap_hard(line.text, _SIZE, inner)
        if len(wrapped) > 2:
            wrapped = (wrapped[0], fit(wrapped[1] + " …", _SIZE, inner))
        lines.extend(wrapped)
    lines = lines[-4:]
    h = _PAD + 22 + _LINE_H * len(lines) + _PAD
    x, y = WIDTH - 28 - width, OVERLAY_TOP - 14 - h
    c.shadow(x, y, width, h, 16, blur=12, alpha=0.25, dy=4)
    c.rrect(x, y, width, h, 16, SURFACE)
    card = Rect(x, y, width, h)
    ov.surfaces.append(card)
    ov.controls.append(Control("customer.chat_peek", card, "chat_open"))
    # Who wrote the newest line: the agent, or a supervisor who joined (§19.3).
    writer = theirs[-1].name or agent
    title = fit(i18n.text(view.locale, "chat_new", agent=writer), 14, inner - 40)
    c.text(x + _PAD, y + _PAD + 8, title, 14, PRIMARY, "lm", bold=True)
    for index, text in enumerate(lines):
        c.text(x + _PAD, y + _PAD + 22 + _LINE_H * index + 11, text, _SIZE, TEXT_COLOR, "lm")
    close = Rect(x + width - 44, y + 4, 40, 36)
    cx, cy = close.x + close.width // 2, close.y + close.height // 2
    for dx in (-7, 7):
        c.draw.line((cx - 7, cy - dx, cx + 7, cy + dx), fill=TEXT_MUTED, width=2)
    ov.controls.append(Control("customer.chat_dismiss", close, "chat_close"))


def paint_panel(
    c: Canvas, ov: Overlay, view: CustomerView, agent: str, typing: Typing, scroll: int
) -> tuple[Rect, int]:
    """The open chat; returns the history's rectangle and how far it can scroll (pixels)."""
    locale = view.locale
    x, y, w, h = PANEL.x, PANEL.y, PANEL.width, PANEL.height
    c.shadow(x, y, w, h, 22, blur=18, alpha=0.3, dy=6)
    c.rrect(x, y, w, h, 22, SURFACE)
    ov.surfaces.append(PANEL)
    # Header: who the customer is writing with, and Hide.
    hide_label = i18n.text(locale, "chat_hide")
    hide_w = round(text_width(hide_label, 16)) + 36
    hide = Rect(x + w - _PAD - hide_w, y + 10, hide_w, 38)
    title = fit(i18n.text(locale, "chat_title", agent=agent), 19, w - 3 * _PAD - hide_w)
    c.text(x + _PAD + 4, y + _HEADER_H // 2, title, 19, TEXT_COLOR, "lm", bold=True)
    c.button(hide, hide_label, "tonal", PRIMARY, size=16)
    ov.controls.append(Control("customer.chat_hide", hide, "chat_close"))
    # Keyboard at the bottom, the field above it, the history fills the rest.
    kb_h = keyboard_height()
    kb = Rect(x + _PAD, y + h - _PAD - kb_h, w - 2 * _PAD, kb_h)
    field_y = kb.y - 10 - _FIELD_H
    send_label = i18n.text(locale, "chat_send")
    send_w = round(text_width(send_label, 17)) + 40
    send = Rect(x + w - _PAD - send_w, field_y, send_w, _FIELD_H)
    field = Rect(x + _PAD, field_y, w - 3 * _PAD - send_w + _PAD // 2, _FIELD_H)
    history = Rect(x + 6, y + _HEADER_H, w - 12, field_y - 10 - (y + _HEADER_H))
    c.rect(x + _PAD, y + _HEADER_H - 1, w - 2 * _PAD, 1, DIVIDER)
    scroll_max = _paint_history(c, history, view.chat, scroll, agent, locale)
    paint_field(c, field, typing.draft, i18n.text(locale, "chat_placeholder"))
    c.button(send, send_label, "filled", PRIMARY, size=17)
    ov.controls.append(Control("customer.chat_send", send, "chat_send"))
    ov.controls.append(Control("customer.chat_field", field, "chat_open"))
    paint_keyboard(c, ov, kb, locale, typing.shift)
    return history, scroll_max


def _paint_history(
    c: Canvas, area: Rect, chat: tuple[ChatLine, ...], scroll: int, agent: str, locale: str
) -> int:
    """The lines, newest at the bottom, ``scroll`` pixels up from there; returns the most scroll."""
    blocks: list[tuple[ChatLine, tuple[str, ...], int, bool]] = []
    previous: ChatLine | None = None
    for line in chat:
        lines = wrap_hard(line.text, _SIZE, _BUBBLE_MAX - 24)
        named = previous is None or previous.mine != line.mine or previous.name != line.name
        height = len(lines) * _LINE_H + 16 + (20 if named else 0)
        blocks.append((line, lines, height, named))
        previous = line
    total = sum(block[2] + 8 for block in blocks) + 8
    scroll_max = max(0, total - area.height)
    scroll = max(0, min(scroll, scroll_max))
    image = Image.new("RGB", (area.width, area.height), SURFACE)
    sub = Canvas(image)
    if not blocks:
        empty = i18n.text(locale, "chat_empty", agent=agent)
        for index, text in enumerate(wrap(empty, 16, area.width - 60)):
            sub.text(area.width / 2, area.height / 2 + index * 22, text, 16, TEXT_MUTED, "mm")
    top = area.height - total + scroll + 8 if total < area.height else -scroll_max + scroll + 8
    for line, lines, height, named in blocks:
        if top + height >= 0 and top <= area.height:
            _paint_bubble(sub, area.width, top, line, lines, named)
        top += height + 8
    if scroll < scroll_max:
        sub.rect(0, 0, area.width, 3, DIVIDER)  # there is more above: a hint of an edge
    c.image.paste(image, (area.x, area.y))
    return scroll_max


def _paint_bubble(
    c: Canvas, width: int, top: int, line: ChatLine, lines: tuple[str, ...], named: bool
) -> None:
    bubble_w = max(round(max(text_width(text, _SIZE) for text in lines)) + 24, 44)
    x = width - 10 - bubble_w if line.mine else 10
    y = top
    if named:
        anchor = "rm" if line.mine else "lm"
        name_x = width - 14 if line.mine else 14
        c.text(name_x, y + 9, fit(line.name, 13, 260), 13, TEXT_MUTED, anchor, bold=True)
        y += 20
    bubble_h = len(lines) * _LINE_H + 16
    fill, ink = (PRIMARY, WHITE) if line.mine else (PRIMARY_LIGHT, TEXT_COLOR)
    c.rrect(x, y, bubble_w, bubble_h, 14, fill)
    for index, text in enumerate(lines):
        c.text(x + 12, y + 8 + _LINE_H * index + 11, text, _SIZE, ink, "lm")
