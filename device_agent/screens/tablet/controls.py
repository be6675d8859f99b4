"""The customer's own session controls, drawn over the apps: Help, queue card, dock, consent, rating
(the rating card itself is :mod:`.rating`'s; the waiting card and the callback's ring are
:mod:`.waiting`'s).

A mixin for :class:`SimulatedTablet`, which owns the state it reads (the customer view and the
rating); it records each control in the :class:`Overlay` so input can be checked against them.
"""

from __future__ import annotations

from typing import Literal

from PIL import Image

from ... import i18n
from ...customer import CustomerAction, CustomerView
from ..base import Key, Rect, Text
from .canvas import Canvas, button_width, dim_lut
from .chat import paint_panel, paint_peek
from .keyboard import BACKSPACE, Typing
from .rating import RatingCard
from .text import fit, text_width, wrap
from .theme import (
    BRAND,
    BRAND_LIGHT,
    GREEN,
    HEIGHT,
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
from .waiting import paint_given_up, paint_ring, paint_waiting
from .widgets import Control, LocalAction, Overlay

LOCAL_ACTIONS: frozenset[str] = frozenset({"key", "end_ask", "end_no", "comment_open"})
_CARD_H = 72
"""The floating card's height for up to two lines (title and subtitle); its bottom stays there."""
_LINE_H = 24
"""One more line of the card (a title that takes two)."""
_TITLE_SIZE = 19


def _title_lines(title: str, max_width: float) -> tuple[str, ...]:
    """The card's title as one line if it fits, else two of about equal width (the narrowest
    width that still needs only two lines), the second cut with an ellipsis only if even two
    lines of ``max_width`` cannot hold it."""
    if text_width(title, _TITLE_SIZE) <= max_width:
        return (title,)
    lines = wrap(title, _TITLE_SIZE, max_width)
    if len(lines) > 2:
        rest = " ".join(lines[1:])
        return (fit(lines[0], _TITLE_SIZE, max_width), fit(rest, _TITLE_SIZE, max_width))
    lo, hi = max_width / 2, max_width  # two lines at hi; find about the narrowest width that does
    while hi - lo > 4:
        mid = (lo + hi) / 2
        if len(wrap(title, _TITLE_SIZE, mid)) <= 2:
            hi = mid
        else:
            lo = mid
    return tuple(fit(line, _TITLE_SIZE, max_width) for line in wrap(title, _TITLE_SIZE, hi))


class CustomerControls(RatingCard):
    """Paints the customer's controls and answers the customer's own taps and keys on them;
    mixed into :class:`SimulatedTablet`, which holds the lock around both."""

    _view: CustomerView
    _rating: int | None
    _typing: Typing
    """The chat line or rating comment being typed with the on-screen keyboard."""
    _commenting: bool
    """The rating card's comment field is open."""
    _confirm_end: bool
    """End was tapped: the "End the session with …?" dialog is up."""
    _chat_scroll: int
    """How far the open chat's history is scrolled up from its newest line, in pixels."""
    _chat_history: Rect | None
    _chat_scroll_max: int

    def _touch(self) -> None: ...

    # ---------------------------------------------------------------- the customer's input

    def _typing_for(self) -> Literal["chat", "comment", "callback"] | None:
        """Where the customer's keys go now: the open chat, the rating comment, the callback's
        ring (Enter connects, Escape says "Not now"), or the apps."""
        view = self._view
        if view.phase == "queued" and view.callback_ring is not None:
            return "callback"
        if view.phase == "connected" and view.chat_state == "open" and not self._confirm_end:
            return "chat"
        if view.phase == "ended" and view.rating_requested and self._commenting:
            return "comment"
        return None

    def _customer_tap(self, control: Control) -> Control | None:
        """A customer's tap on one of their controls: what to report, if anything."""
        if control.action == "rate":
            if self._rating is not None:
                return None
            self._rating = control.value if isinstance(control.value, int) else None
        elif control.action == "key" and isinstance(control.value, str):
            if control.value == "enter":
                return self._finish_typing(control)
            self._typing.press(control.value)
        elif control.action == "end_ask":
            self._confirm_end = True
        elif control.action in ("end_no", "end"):
            self._confirm_end = False
        elif control.action == "comment_open":
            self._commenting = True
        elif control.action in ("chat_send", "rate_comment"):
            return self._finish_typing(control)
        elif control.action == "chat_open":
            self._chat_scroll = 0
        self._touch()
        return None if control.action in LOCAL_ACTIONS else control

    def _finish_typing(self, control: Control) -> Control | None:
        target = self._typing_for()
        text = self._typing.take()
        self._touch()
        if not text or target in (None, "callback"):
            return None
        if target == "comment":
            self._commenting = False
            return Control(control.name, control.rect, "rate_comment", text)
        self._chat_scroll = 0
        return Control(control.name, control.rect, "chat_send", text)

    def _customer_keys(self, event: Key | Text) -> tuple[bool, Control | None]:
        """A physical key (the preview page) while the customer types in the chat or comment,
        or answers the callback's ring."""
        if self._typing_for() == "callback":
            keys: dict[str, CustomerAction] = {
                "Enter": "callback_accept",
                "Escape": "callback_decline",
            }
            answer = keys.get(event.key) if isinstance(event, Key) else None
            if answer is None:
                return False, None
            return True, Control(f"key.{answer}", Rect(0, 0, 1, 1), answer)
        if isinstance(event, Text):
            self._typing.insert(event.text)
        elif event.key == "Enter":
            return True, self._finish_typing(Control("key.Enter", Rect(0, 0, 1, 1), "key"))
        elif event.key == "Backspace":
            self._typing.press(BACKSPACE)
        elif event.key == "Escape":
            if self._typing_for() == "comment":
                self._commenting = False
                self._touch()
                return True, None
            return True, Control("key.Escape", Rect(0, 0, 1, 1), "chat_close")
        else:
            return False, None
        self._touch()
        return True, None

    def _customer_scroll(self, x: int, y: int, dy: int) -> bool:
        """The customer scrolls the open chat's history (a wheel on the preview page, a drag)."""
        history = self._chat_history
        if history is None or not history.contains(x, y) or self._typing_for() != "chat":
            return False
        scroll = max(0, min(self._chat_scroll_max, self._chat_scroll - dy))
        if scroll != self._chat_scroll:
            self._chat_scroll = scroll
            self._touch()
        return True

    def _reset_local(self, view: CustomerView) -> None:
        """Forget what the customer was in the middle of once the view moved on from it."""
        if view.phase != self._view.phase:
            self._typing.take()
        if view.phase != "connected":
            self._confirm_end = False
        if view.chat_state != "open":
            self._chat_scroll = 0
        if not view.rating_requested:
            self._rating = None
            self._commenting = False
        elif view.rating is not None:
            self._rating = view.rating

    # ---------------------------------------------------------------- painting

    def _paint_overlay(self, c: Canvas, ov: Overlay) -> Image.Image:
        view = self._view
        locale = view.locale
        agent = view.agent_name or i18n.text(locale, "agent_fallback")
        self._chat_history = None
        if view.control_active:
            self._paint_control_marks(c, ov, i18n.text(locale, "control_active", agent=agent))
        if view.phase == "idle" or (view.phase == "ended" and not view.rating_requested):
            self._paint_help_button(c, ov, i18n.text(locale, "help"))
            if view.callback_given_up:
                paint_given_up(c, ov, view, ov.controls[-1].rect)
        elif view.phase == "queued":
            paint_waiting(c, ov, view, i18n.text(locale, "cancel"))
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
            if view.phase == "connected" and view.chat_state == "open":
                self._chat_history, self._chat_scroll_max = paint_panel(
                    c, ov, view, agent, self._typing, self._chat_scroll
                )
            elif view.phase == "connected" and view.chat_state == "peek":
                paint_peek(c, ov, view, agent)
        if view.phase == "queued" and view.callback_ring is not None:
            c = Canvas(c.image.point(dim_lut(SCRIM)))
            connect, not_now = (
                i18n.text(locale, k) for k in ("callback_connect", "callback_not_now")
            )
            paint_ring(c, ov, view, connect, not_now)
        elif view.consent_requested:
            c = Canvas(c.image.point(dim_lut(SCRIM)))
            self._paint_consent(c, ov, agent)
        elif self._confirm_end and view.phase == "connected":
            c = Canvas(c.image.point(dim_lut(SCRIM)))
            self._paint_end_confirm(c, ov, agent)
        return c.image

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
        buttons: list[
            tuple[
                str, CustomerAction | LocalAction, str, Literal["filled", "outlined", "tonal"], RGB
            ]
        ],
        *,
        avatar: str | None = None,
        title_colour: RGB = TEXT_COLOR,
        icon_colours: tuple[RGB, RGB] = (BRAND_LIGHT, BRAND),
    ) -> None:
        """A floating card at the bottom centre: icon, title and subtitle lines, buttons on the
        right. A title too wide for one line takes two (a longer language, a long agent name)
        rather than losing its end; the card then grows upwards, its bottom edge where it was."""
        pad, bh, gap = 14, 44, 10
        widths = [button_width(label, 17, 20) for _, _, label, _, _ in buttons]
        buttons_w = sum(widths) + gap * (len(buttons) - 1)
        max_text = WIDTH - 48 - pad * 2 - 44 - 14 - 24 - buttons_w
        titles = _title_lines(title, max_text)
        subtitle = fit(subtitle, 16, max_text) if subtitle else None
        lines = len(titles) + (1 if subtitle else 0)
        h = _CARD_H + _LINE_H * max(0, lines - 2)
        text_w = max(
            *(text_width(line, _TITLE_SIZE) for line in titles),
            text_width(subtitle, 16) if subtitle else 0,
        )
        w = round(pad + 44 + 14 + text_w + 28 + buttons_w + pad)
        w = max(w, 460)
        x, y = (WIDTH - w) // 2, OVERLAY_TOP + _CARD_H - h
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
        # The lines' centres, _LINE_H apart around the card's middle (one lower with a subtitle,
        # whose smaller type sits optically high).
        ty = y + (h - (lines - 1) * _LINE_H) // 2 + (1 if subtitle else 0)
        for line in titles:
            c.text(tx, ty, line, _TITLE_SIZE, title_colour, "lm", bold=True)
            ty += _LINE_H
        if subtitle:
            c.text(tx, ty, subtitle, 16, TEXT_MUTED, "lm")
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
            tuple[
                str, CustomerAction | LocalAction, str, Literal["filled", "outlined", "tonal"], RGB
            ]
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
        if view.phase == "connected":
            # The customer's microphone: off until tapped; while on, a filled "Mute" says so.
            buttons.append(
                ("customer.talk", "talk_stop", i18n.text(locale, "talk_stop"), "filled", GREEN)
                if view.talking
                else ("customer.talk", "talk", i18n.text(locale, "talk"), "tonal", PRIMARY)
            )
            chat_open = view.chat_state == "open"
            buttons.append(
                (
                    "customer.chat",
                    "chat_close" if chat_open else "chat_open",
                    i18n.text(locale, "chat"),
                    "filled" if chat_open else "tonal",
                    PRIMARY,
                )
            )
        buttons.append(("customer.end", "end_ask", i18n.text(locale, "end"), "outlined", RED))
        connected = i18n.text(locale, "connected", agent=agent)
        if view.control_active:
            title, colour = i18n.text(locale, "control_active", agent=agent), RED
        elif view.sharing_paused:
            title, colour = i18n.text(locale, "sharing_paused"), TEXT_COLOR
        else:
            title, colour = connected, TEXT_COLOR
        watching = i18n.watchers_line(locale, view.watchers)
        if view.sharing_paused:
            subtitle = i18n.text(locale, "sharing_paused_detail", agent=agent)
        elif watching is not None:  # who else sees the screen is never left unsaid
            subtitle = watching
        elif view.talking:
            subtitle = i18n.text(locale, "talking", agent=agent)
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
        chat = next((ctl for ctl in ov.controls if ctl.name == "customer.chat"), None)
        if chat is not None and view.chat_unread and view.chat_state != "open":
            # The unread count, a red badge on the Chat button's corner.
            label = str(min(view.chat_unread, 99))
            r = 13
            bw = max(2 * r, round(text_width(label, 14)) + 12)
            bx, by = chat.rect.x + chat.rect.width - bw + 8, chat.rect.y - 8
            c.rrect(bx - 2, by - 2, bw + 4, 2 * r + 4, r + 2, SURFACE)
            c.rrect(bx, by, bw, 2 * r, r, RED)
            c.text(bx + bw / 2, by + r, label, 14, WHITE, "mm", bold=True)

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
        x, y = _modal_card(c, ov, w, h)
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

    def _paint_end_confirm(self, c: Canvas, ov: Overlay, agent: str) -> None:
        """ "End the session with Anna?" No / Yes: modal, like the consent dialog."""
        locale = self._view.locale
        w, pad = 520, 32
        title_lines = wrap(i18n.text(locale, "end_confirm", agent=agent), 24, w - 2 * pad)
        body = i18n.text(locale, "end_confirm_detail", agent=agent)
        body_lines = wrap(body, 18, w - 2 * pad)
        h = pad + 32 * len(title_lines) + 10 + 26 * len(body_lines) + 24 + 52 + pad
        x, y = _modal_card(c, ov, w, h)
        ty = y + pad + 16
        for line in title_lines:
            c.text(WIDTH / 2, ty, line, 24, TEXT_COLOR, "mm", bold=True)
            ty += 32
        ty += 10 - 16 + 13
        for line in body_lines:
            c.text(WIDTH / 2, ty, line, 18, TEXT_MUTED, "mm")
            ty += 26
        by = y + h - pad - 52
        bw = (w - 2 * pad - 12) // 2
        no = Rect(x + pad, by, bw, 52)
        yes = Rect(x + pad + bw + 12, by, bw, 52)
        c.button(no, i18n.text(locale, "no"), "outlined", TEXT_COLOR, size=19)
        c.button(yes, i18n.text(locale, "yes"), "filled", RED, size=19)
        ov.controls.append(Control("customer.end_no", no, "end_no"))
        ov.controls.append(Control("customer.end_yes", yes, "end"))


def _modal_card(c: Canvas, ov: Overlay, w: int, h: int) -> tuple[int, int]:
    """A centred modal card (the consent and End questions): only its own controls take taps
    while it is up. Its top-left corner."""
    x, y = (WIDTH - w) // 2, (HEIGHT - h) // 2
    c.shadow(x, y, w, h, 28, blur=24, alpha=0.45, dy=8)
    c.rrect(x, y, w, h, 28, SURFACE)
    ov.surfaces.append(Rect(x, y, w, h))
    ov.modal = True
    ov.modal_from = len(ov.controls)
    return x, y
