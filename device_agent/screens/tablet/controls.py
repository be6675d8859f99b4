"""The customer's own session controls, drawn over the apps: Help, queue card, dock, consent, rating.

A mixin for :class:`SimulatedTablet`, which owns the state it reads (the customer view and the
rating); it records each control in the :class:`Overlay` so input can be checked against them.
"""

from __future__ import annotations

from typing import Literal

from PIL import Image

from ... import i18n
from ...customer import CustomerAction, CustomerView
from ..base import Rect
from .art import glyph
from .canvas import Canvas, button_width, dim_lut
from .text import fit, text_width, wrap
from .theme import (
    AMBER,
    BRAND,
    BRAND_LIGHT,
    CHAT_LINES_SHOWN,
    HEIGHT,
    OUTLINE,
    OVERLAY_TOP,
    PRIMARY,
    RED,
    RED_LIGHT,
    RGB,
    SCRIM,
    SURFACE,
    TEXT_COLOR,
    TEXT_MUTED,
    WHITE,
    WIDTH,
)
from .widgets import Control, Overlay


class CustomerControls:
    """Paints the customer's controls; mixed into :class:`SimulatedTablet`."""

    _view: CustomerView
    _rating: int | None

    def _paint_overlay(self, c: Canvas, ov: Overlay) -> Image.Image:
        view = self._view
        locale = view.locale
        agent = view.agent_name or i18n.text(locale, "agent_fallback")
        if view.control_active:
            self._paint_control_marks(c, ov, i18n.text(locale, "control_active", agent=agent))
        if view.phase == "idle" or (view.phase == "ended" and not view.rating_requested):
            self._paint_help_button(c, ov, i18n.text(locale, "help"))
        elif view.phase == "queued" and view.requeued:
            self._paint_card(
                c,
                ov,
                "clock",
                i18n.text(locale, "agent_lost"),
                i18n.requeued_status(locale, view.position, view.estimated_wait_s),
                [("customer.cancel", "cancel", i18n.text(locale, "cancel"), "outlined", PRIMARY)],
            )
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
            c = Canvas(c.image.point(dim_lut(SCRIM)))
            self._paint_consent(c, ov, agent)
        return c.image

    def _paint_chat(self, c: Canvas, ov: Overlay) -> None:
        """The latest chat lines as bubbles above the session bar, newest at the bottom."""
        width, size, pad, line_h = 380, 16, 14, 22
        bottom = OVERLAY_TOP - 14
        for who, text in reversed(self._view.chat[-CHAT_LINES_SHOWN:]):
            lines = wrap(text, size, width - 2 * pad)[:3]
            if len(wrap(text, size, width - 2 * pad)) > 3:
                lines = (*lines[:2], fit(lines[2] + " …", size, width - 2 * pad))
            h = pad + 18 + line_h * len(lines) + pad - 4
            x, y = WIDTH - 28 - width, bottom - h
            if y < 60:
                break
            c.shadow(x, y, width, h, 16, blur=12, alpha=0.22, dy=4)
            c.rrect(x, y, width, h, 16, SURFACE)
            ov.surfaces.append(Rect(x, y, width, h))
            c.text(
                x + pad, y + pad + 6, fit(who, 14, width - 2 * pad), 14, PRIMARY, "lm", bold=True
            )
            for index, line in enumerate(lines):
                c.text(x + pad, y + pad + 18 + line_h * index + 11, line, size, TEXT_COLOR, "lm")
            bottom = y - 10

    def _paint_help_button(self, c: Canvas, ov: Overlay, label: str) -> None:
        h = 60
        w = round(text_width(label, 22)) + 96
        rect = Rect(WIDTH - 28 - w, HEIGHT - 24 - h, w, h)
        c.shadow(rect.x, rect.y, w, h, h // 2, blur=14, alpha=0.35, dy=5)
        c.rrect(rect.x, rect.y, w, h, h // 2, BRAND)
        c.circle(rect.x + 34, rect.y + 30, 17, WHITE)
        c.text(rect.x + 34, rect.y + 31, "?", 24, BRAND, "mm", bold=True)
        c.text(rect.x + 64, rect.y + 30, label, 22, WHITE, "lm", bold=True)
        ov.controls.append(Control("customer.help", rect, "help"))

    def _paint_card(
        self,
        c: Canvas,
        ov: Overlay,
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
        widths = [button_width(label, 17, 20) for _, _, label, _, _ in buttons]
        buttons_w = sum(widths) + gap * (len(buttons) - 1)
        max_text = WIDTH - 48 - pad * 2 - 44 - 14 - 24 - buttons_w
        title = fit(title, 19, max_text)
        subtitle = fit(subtitle, 16, max_text) if subtitle else None
        text_w = max(text_width(title, 19), text_width(subtitle, 16) if subtitle else 0)
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
            ov.controls.append(Control(name, rect, action))
            bx += bw + gap

    def _paint_session_dock(self, c: Canvas, ov: Overlay, agent: str) -> None:
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

    def _paint_control_marks(self, c: Canvas, ov: Overlay, banner: str) -> None:
        """A red frame around the screen and a red chip in the status bar while the agent controls."""
        t = 5
        c.rect(0, 0, WIDTH, t, RED)
        c.rect(0, HEIGHT - t, WIDTH, t, RED)
        c.rect(0, 0, t, HEIGHT, RED)
        c.rect(WIDTH - t, 0, t, HEIGHT, RED)
        label = fit(banner, 15, 560)
        w = round(text_width(label, 15)) + 56
        rect = Rect((WIDTH - w) // 2, 5, w, 27)
        c.rrect(rect.x, rect.y, w, rect.height, 13, RED)
        c.glyph("pointer", 16, WHITE, rect.x + 20, rect.y + 14)
        c.text(rect.x + 36, rect.y + 14, label, 15, WHITE, "lm", bold=True)
        ov.surfaces.append(rect)

    def _paint_consent(self, c: Canvas, ov: Overlay, agent: str) -> None:
        view = self._view
        locale = view.locale
        title = i18n.consent_title(locale, agent, view.organisation)
        body = i18n.text(locale, "consent_body", agent=agent)
        w, pad = 600, 36
        title_lines = wrap(title, 24, w - 2 * pad)
        body_lines = wrap(body, 18, w - 2 * pad)
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
        ov.controls.append(Control("customer.deny", deny, "deny"))
        ov.controls.append(Control("customer.allow", allow, "allow"))

    def _paint_rating(self, c: Canvas, ov: Overlay) -> None:
        locale = self._view.locale
        star, gap = 48, 14
        stars_w = 5 * star + 4 * gap
        prompt = i18n.text(locale, "rating_prompt")
        title = i18n.text(locale, "thanks") if self._rating is not None else prompt
        w = max(stars_w + 120, round(text_width(prompt, 22)) + 80)
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
                glyph("star" if filled else "star_outline", star, AMBER if filled else OUTLINE),
                rect.x,
                rect.y,
            )
            if self._rating is None:
                ov.controls.append(Control(f"customer.rate.{i}", rect, "rate", i))
        c.text(sx, sy + star + 16, i18n.text(locale, "rating_low"), 14, TEXT_MUTED, "lm")
        c.text(sx + stars_w, sy + star + 16, i18n.text(locale, "rating_high"), 14, TEXT_MUTED, "rm")
