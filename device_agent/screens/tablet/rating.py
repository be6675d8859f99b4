"""The tablet's rating card after a session: stars, then "Was your problem solved?", a comment.

Its own module so the customer's other controls (:mod:`.controls`) stay readable. Once the stars
are tapped the card thanks the customer and asks whether the problem was solved, with two big
Yes / No buttons (a finger-sized target each; the answer shows filled and may still be changed);
the answer is optional: Close works without it. Every string is the view's locale's, drawn as
text.
"""

from __future__ import annotations

from typing import Literal

from ... import i18n
from ...customer import CustomerView
from ..base import Rect
from .art import glyph
from .canvas import Canvas, button_width
from .keyboard import Typing, keyboard_height, paint_field, paint_keyboard
from .text import text_width
from .theme import (
    AMBER,
    GREEN,
    HEIGHT,
    OUTLINE,
    PRIMARY,
    SURFACE,
    TEXT_COLOR,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from .widgets import Control, Overlay

__all__ = ["RatingCard"]

ANSWER_H, ANSWER_MIN_W = 56, 148
"""Yes / No: taller than the card's other buttons, as wide as a thumb press needs."""


class RatingCard:
    """Paints the rating card; mixed into the tablet's controls, which hold the state it reads."""

    _view: CustomerView
    _rating: int | None
    _typing: Typing
    _commenting: bool

    def _paint_rating(self, c: Canvas, ov: Overlay) -> None:
        """The card after a session: stars; once tapped, a thank-you, "Was your problem
        solved?" Yes / No, a comment, Close."""
        view = self._view
        locale = view.locale
        rating = self._rating
        star, gap = 48, 14
        stars_w = 5 * star + 4 * gap
        prompt = i18n.text(locale, "rating_prompt")
        question = i18n.text(locale, "solved_prompt")
        if rating is None:
            title = prompt
        elif view.rating_comment_sent:
            title = i18n.text(locale, "comment_thanks")
        else:
            title = i18n.text(locale, "rating_thanks")
        w = max(
            stars_w + 200,
            round(text_width(title, 22)) + 100,
            round(text_width(prompt, 22)) + 80,
            round(text_width(question, 19)) + 80,
        )
        commenting = rating is not None and self._commenting and not view.rating_comment_sent
        h = 172 + (178 if rating is not None else 0) + (60 if commenting else 0)
        x, y = (WIDTH - w) // 2, HEIGHT - 16 - h
        if commenting:
            kb_w = 640
            kb = Rect((WIDTH - kb_w) // 2 + 16, y - 16 - keyboard_height() - 16, kb_w - 32, 0)
            kb = Rect(kb.x, kb.y, kb.width, keyboard_height())
            c.shadow(kb.x - 16, kb.y - 16, kb_w, kb.height + 32, 22, blur=18, alpha=0.28, dy=6)
            c.rrect(kb.x - 16, kb.y - 16, kb_w, kb.height + 32, 22, SURFACE)
            ov.surfaces.append(Rect(kb.x - 16, kb.y - 16, kb_w, kb.height + 32))
            paint_keyboard(c, ov, kb, locale, self._typing.shift)
        c.shadow(x, y, w, h, 24, blur=18, alpha=0.28, dy=6)
        c.rrect(x, y, w, h, 24, SURFACE)
        ov.surfaces.append(Rect(x, y, w, h))
        c.text(WIDTH / 2, y + 26, i18n.text(locale, "session_ended"), 15, TEXT_MUTED, "mm")
        if rating is not None:
            cx = WIDTH // 2 - round(text_width(title, 22)) // 2 - 20
            c.circle(cx, y + 56, 12, GREEN)
            c.glyph("check", 16, WHITE, cx, y + 56)
            c.text(WIDTH / 2 + 12, y + 56, title, 22, TEXT_COLOR, "mm", bold=True)
        else:
            c.text(WIDTH / 2, y + 56, title, 22, TEXT_COLOR, "mm", bold=True)
        sx = (WIDTH - stars_w) // 2
        sy = y + 80
        for i in range(1, 6):
            filled = rating is not None and i <= rating
            rect = Rect(sx + (i - 1) * (star + gap), sy, star, star)
            c.sprite(
                glyph("star" if filled else "star_outline", star, AMBER if filled else OUTLINE),
                rect.x,
                rect.y,
            )
            if rating is None:
                ov.controls.append(Control(f"customer.rate.{i}", rect, "rate", i))
        c.text(sx, sy + star + 16, i18n.text(locale, "rating_low"), 14, TEXT_MUTED, "lm")
        c.text(sx + stars_w, sy + star + 16, i18n.text(locale, "rating_high"), 14, TEXT_MUTED, "rm")
        if rating is None:
            return
        self._paint_solved(c, ov, y + 160, x, w)
        by = y + 172 + 178 - 72
        if commenting:
            send_label = i18n.text(locale, "comment_send")
            send_w = round(text_width(send_label, 17)) + 40
            field = Rect(x + 24, by, w - 48 - send_w - 10, 48)
            send = Rect(x + w - 24 - send_w, by, send_w, 48)
            paint_field(c, field, self._typing.draft, i18n.text(locale, "comment_prompt"))
            c.button(send, send_label, "filled", PRIMARY, size=17)
            ov.controls.append(Control("customer.comment_send", send, "rate_comment"))
            by += 60
        close_label = i18n.text(locale, "close")
        close_w = button_width(close_label, 17, 24)
        buttons: list[tuple[Control, str, Literal["filled", "outlined", "tonal"]]] = []
        if not commenting and not view.rating_comment_sent:
            label = i18n.text(locale, "comment_prompt")
            comment_w = button_width(label, 17, 22)
            total = comment_w + 12 + close_w
            bx = (WIDTH - total) // 2
            rect = Rect(bx, by, comment_w, 48)
            buttons.append((Control("customer.comment", rect, "comment_open"), label, "tonal"))
            bx += comment_w + 12
        else:
            bx = x + w - 24 - close_w if commenting else (WIDTH - close_w) // 2
        close = Rect(bx, by, close_w, 48)
        buttons.append((Control("customer.rate_done", close, "rate_done"), close_label, "outlined"))
        for control, label, style in buttons:
            c.button(control.rect, label, style, PRIMARY, size=17)
            ov.controls.append(control)

    def _paint_solved(self, c: Canvas, ov: Overlay, top: int, x: int, w: int) -> None:
        """ "Was your problem solved?" over Yes / No, between a divider and the card's buttons."""
        locale = self._view.locale
        solved = self._view.rating_solved
        c.rect(x + 24, top, w - 48, 1, (230, 232, 237))
        c.text(
            WIDTH / 2, top + 30, i18n.text(locale, "solved_prompt"), 19, TEXT_COLOR, "mm", bold=True
        )
        answers: tuple[tuple[str, bool], ...] = (("yes", True), ("no", False))
        labels = [i18n.text(locale, key) for key, _ in answers]
        bw = max(ANSWER_MIN_W, *(button_width(label, 19, 28) for label in labels))
        gap = 16
        bx = (WIDTH - 2 * bw - gap) // 2
        for (key, answer), label in zip(answers, labels, strict=True):
            rect = Rect(bx, top + 52, bw, ANSWER_H)
            chosen = solved is answer
            if chosen:
                c.button(rect, label, "filled", PRIMARY, size=19)
                c.circle(rect.x + 28, rect.y + ANSWER_H // 2, 11, WHITE)
                c.glyph("check", 14, PRIMARY, rect.x + 28, rect.y + ANSWER_H // 2)
            else:
                c.button(rect, label, "tonal" if solved is None else "outlined", PRIMARY, size=19)
            ov.controls.append(Control(f"customer.solved.{key}", rect, "rate_solved", key))
            bx += bw + gap
