"""The Account app: the sign-in form (its password field is a sensitive region), or who is signed in."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..canvas import Canvas
from ..model import FieldName
from ..text import fit, text_width
from ..theme import (  # every page starts alike: theme names, then a Painter (.bars)
    OUTLINE,
    PRIMARY,
    PRIMARY_LIGHT,
    RED,
    SURFACE,
    TEXT_COLOR,
    TEXT_FAINT,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_signin"]


def paint_signin(a: Apps, c: Canvas, hot: list[Hotspot], sensitive: list[Rect]) -> None:
    paint_title_bar(a, c, hot, "Account")
    cx = WIDTH // 2
    card_w = 500
    x0 = cx - card_w // 2
    if a.signed_in_as is not None:
        c.shadow(x0, 124, card_w, 300, 24, blur=14, alpha=0.12)
        c.rrect(x0, 124, card_w, 300, 24, SURFACE)
        c.circle(cx, 184, 38, PRIMARY)
        c.text(cx, 184, a.signed_in_as[:1].upper(), 34, WHITE, "mm", bold=True)
        c.text(cx, 258, "You’re signed in", 26, TEXT_COLOR, "mm", bold=True)
        c.text(
            cx,
            296,
            fit(f"Signed in as {a.signed_in_as}", 18, card_w - 48),
            18,
            TEXT_MUTED,
            "mm",
        )
        sign_out = Rect(cx - 80, 340, 160, 48)
        c.button(sign_out, "Sign out", "outlined")
        hot.append(Hotspot("signin.signout", sign_out, tap=ignore_point(a.sign_out)))
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
        focused = a.focus == name
        c.text(fx + 2, y - 10, label, 15, PRIMARY if focused else TEXT_MUTED, "ls", bold=focused)
        box = Rect(fx, y, fw, fh)
        if focused:
            c.rrect(box.x, box.y, fw, fh, 10, SURFACE, outline=PRIMARY, width=2)
        else:
            c.rrect(box.x, box.y, fw, fh, 10, SURFACE, outline=OUTLINE, width=1)
        value = a.fields[name]
        tx, ty = box.x + 16, box.y + fh // 2
        end = float(tx)
        if name == "email":
            if value:
                shown = value
                while shown and text_width(shown, 20) > fw - 36:
                    shown = shown[1:]
                c.text(tx, ty, shown, 20, TEXT_COLOR, "lm")
                end = tx + text_width(shown, 20)
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
        hot.append(Hotspot(f"signin.{name}", box, tap=ignore_point(partial(a.set_focus, name))))
    if a.sign_in_error:
        c.text(fx + 2, 500, a.sign_in_error, 16, RED, "lm")
    submit = Rect(fx, 528, fw, 52)
    c.button(submit, "Sign in", "filled", size=19)
    hot.append(Hotspot("signin.submit", submit, tap=ignore_point(a.submit)))
    c.text(cx, 616, "Forgot password?", 16, PRIMARY, "mm", bold=True)
