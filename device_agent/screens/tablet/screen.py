"""The :class:`SimulatedTablet` itself: state, input dispatch and the apps' screens.

The behaviour (security rule, lazy rendering) is described in the package docstring; the
customer's controls are painted by the :class:`CustomerControls` mixin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Literal

import numpy as np
from PIL import Image

from ...customer import CustomerActionCallback, CustomerView
from ..base import (
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
from .art import app_icon, cover, landscape, rrect_mask, wallpaper
from .canvas import Canvas, backlight, button_width, centre, clip, dim_lut
from .controls import CustomerControls
from .model import (
    APPS,
    BOOKS,
    DAYS,
    DEVICES,
    EMAIL,
    FIELD_MAX,
    MAILS,
    MONTHS,
    PHOTO_COUNT,
    App,
    FieldName,
    TabletFields,
    TabletState,
)
from .text import fit, text_width, wrap
from .theme import (
    BG,
    BRAND,
    CONTENT_TOP,
    DIVIDER,
    GREEN,
    HEIGHT,
    OUTLINE,
    PRIMARY,
    PRIMARY_LIGHT,
    RED,
    STATUS_H,
    SURFACE,
    TEXT_COLOR,
    TEXT_FAINT,
    TEXT_MUTED,
    TITLE_H,
    WHITE,
    WIDTH,
)
from .widgets import Control, Hotspot, Overlay, event_point, ignore_point

SETTINGS_X, SETTINGS_W = 190, 900
LIST_TOP, LIST_BOTTOM = 404, 704
ROW_H = 64


class SimulatedTablet(CustomerControls, ScreenSource):
    """A believable tablet for demos, tests and QA; see the package docstring."""

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
        self._hotspots: list[Hotspot] = []
        self._overlay = Overlay()
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
        x, y = centre(self.elements()[name])
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
        if not EMAIL.match(email):
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

    def _dispatch(self, event: InputEvent, origin: InputOrigin) -> tuple[bool, Control | None]:
        overlay = self._overlay
        point = event_point(event)
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

    def _hit(self, x: int, y: int, kind: Literal["tap", "drag", "scroll"]) -> Hotspot | None:
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
        canvas = Canvas(image)
        hotspots: list[Hotspot] = []
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
            image = image.point(dim_lut(backlight(self._brightness)))
            canvas = Canvas(image)
        overlay = Overlay()
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

    def _paint_status_bar(self, c: Canvas) -> None:
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
        x -= round(text_width(label, 16)) + 8 + 26
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

    def _paint_title_bar(self, c: Canvas, hot: list[Hotspot], title: str) -> None:
        c.rect(0, STATUS_H, WIDTH, TITLE_H, BG)
        back = Rect(12, STATUS_H + 8, 48, 48)
        c.glyph("back", 24, TEXT_COLOR, back.x + 24, back.y + 24)
        hot.append(Hotspot("back", back, tap=ignore_point(self._back)))
        c.text(76, STATUS_H + TITLE_H // 2, title, 24, TEXT_COLOR, "lm", bold=True)

    # home

    def _paint_home(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
        c.image.paste(wallpaper(), (0, 0))
        now = self._now
        c.text(WIDTH / 2, 168, f"{now.tm_hour:02d}:{now.tm_min:02d}", 110, WHITE, "mm")
        date = f"{DAYS[now.tm_wday]}, {now.tm_mday} {MONTHS[now.tm_mon - 1]}"
        c.text(WIDTH / 2, 250, date, 24, (226, 232, 245), "mm")
        search = Rect(WIDTH // 2 - 300, 300, 600, 54)
        c.shadow(search.x, search.y, search.width, search.height, 27, blur=12, alpha=0.25)
        c.rrect(search.x, search.y, search.width, search.height, 27, SURFACE)
        c.glyph("search", 22, TEXT_MUTED, search.x + 34, search.y + 27)
        c.text(search.x + 60, search.y + 27, "Search the web", 19, TEXT_FAINT, "lm")
        hot.append(Hotspot("home.search", search, tap=ignore_point(partial(self._open, "browser"))))
        cell, icon = 164, 100
        left = (WIDTH - cell * len(APPS)) // 2
        top = 436
        for i, (app, label) in enumerate(APPS):
            cx = left + cell * i + cell // 2
            c.shadow(cx - icon // 2, top, icon, icon, 24, blur=10, alpha=0.35, dy=5)
            c.sprite(app_icon(app, icon), cx - icon // 2, top)
            c.text(cx, top + icon + 26, label, 19, WHITE, "mm")
            hot.append(
                Hotspot(
                    f"app.{app}",
                    Rect(cx - cell // 2 + 8, top - 8, cell - 16, icon + 52),
                    tap=ignore_point(partial(self._open, app)),
                )
            )

    # settings

    def _paint_settings(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
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
            hot.append(Hotspot(f"settings.{name}_row", Rect(x0, y, w, 72), tap=ignore_point(act)))
            hot.append(Hotspot(f"settings.{name}_toggle", toggle, tap=ignore_point(act)))

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
            Hotspot(
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
            Hotspot(
                "settings.bluetooth_list",
                view,
                scroll=self._scroll_by,
                drag=lambda e: self._scroll_by(e.y0 - e.y1),
            )
        )
        panel = Image.new("RGB", (view.width, view.height), SURFACE)
        pc = Canvas(panel)
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
            row_rect = clip(Rect(view.x, view.y + top, view.width, ROW_H), view)
            if row_rect is not None:
                hot.append(
                    Hotspot(
                        f"bluetooth.device.{device.slug}",
                        row_rect,
                        tap=ignore_point(partial(self._pair, device.name)),
                    )
                )
            if paired:
                pc.glyph(
                    "check", 18, GREEN, view.width - 24 - button_width("Connected", 16, 0) - 14, cy
                )
                pc.text(view.width - 24, cy, "Connected", 16, GREEN, "rm", bold=True)
            else:
                bw = 92
                button = Rect(view.width - 24 - bw, cy - 19, bw, 38)
                pc.button(button, "Pair", "outlined", size=17)
                clipped = clip(Rect(view.x + button.x, view.y + button.y, bw, 38), view)
                if clipped is not None:
                    hot.append(
                        Hotspot(
                            f"bluetooth.pair.{device.slug}",
                            clipped,
                            tap=ignore_point(partial(self._pair, device.name)),
                        )
                    )
        if self._scroll_max():
            content = len(DEVICES) * ROW_H
            thumb = max(30, view.height * view.height // content)
            ty0 = round((view.height - thumb - 16) * self._scroll / self._scroll_max()) + 8
            pc.rrect(view.width - 9, ty0, 4, thumb, 2, (200, 204, 212))
        c.image.paste(panel, (view.x, view.y), rrect_mask(view.width, view.height, 20))

    # sign-in

    def _paint_signin(self, c: Canvas, hot: list[Hotspot], sensitive: list[Rect]) -> None:
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
                fit(f"Signed in as {self._signed_in_as}", 18, card_w - 48),
                18,
                TEXT_MUTED,
                "mm",
            )
            sign_out = Rect(cx - 80, 340, 160, 48)
            c.button(sign_out, "Sign out", "outlined")
            hot.append(Hotspot("signin.signout", sign_out, tap=ignore_point(self._sign_out)))
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
            hot.append(
                Hotspot(f"signin.{name}", box, tap=ignore_point(partial(self._set_focus, name)))
            )
        if self._sign_in_error:
            c.text(fx + 2, 500, self._sign_in_error, 16, RED, "lm")
        submit = Rect(fx, 528, fw, 52)
        c.button(submit, "Sign in", "filled", size=19)
        hot.append(Hotspot("signin.submit", submit, tap=ignore_point(self._submit)))
        c.text(cx, 616, "Forgot password?", 16, PRIMARY, "mm", bold=True)

    # books

    def _paint_books(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
        self._paint_title_bar(c, hot, "Books")
        if self._book is not None:
            book = BOOKS[self._book]
            c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, (250, 247, 240))
            col_x, col_w = 240, 800
            c.text(col_x, 136, book.title.upper() + "  ·  " + book.author, 14, TEXT_MUTED, "lm")
            c.text(col_x, 186, "Chapter 1", 32, TEXT_COLOR, "lm", bold=True)
            y = 236
            for paragraph in book.opening:
                for line in wrap(paragraph, 22, col_w):
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
            c.image.paste(cover(i, cw, ch), (x, top), rrect_mask(cw, ch, 6))
            y = top + ch + 22
            for line in wrap(book.title, 17, cw)[:2]:
                c.text(x, y, line, 17, TEXT_COLOR, "lm", bold=True)
                y += 22
            c.text(x, y, book.author, 15, TEXT_MUTED, "lm")
            c.rrect(x, y + 18, cw, 4, 2, (222, 225, 232))
            c.rrect(x, y + 18, max(4, round(cw * book.progress)), 4, 2, PRIMARY)
            hot.append(
                Hotspot(
                    f"books.book.{book.slug}",
                    Rect(x, top, cw, ch + 90),
                    tap=ignore_point(partial(self._open_book, i)),
                )
            )
        c.rrect(64, 556, WIDTH - 128, 120, 20, SURFACE)
        c.circle(120, 616, 28, (255, 240, 224))
        c.sprite(app_icon("books", 36), 102, 598)
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

    def _paint_mail(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
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
            c.text(40, y + 53, fit(mail.subject, 16, list_w - 70), 16, TEXT_COLOR, "lm")
            snippet = " ".join(mail.body).replace("\n", " ")
            c.text(40, y + 76, fit(snippet, 15, list_w - 70), 15, TEXT_MUTED, "lm")
            hot.append(
                Hotspot(
                    f"mail.message.{i}",
                    Rect(0, y, list_w, 96),
                    tap=ignore_point(partial(self._select_mail, i)),
                )
            )
        mail = MAILS[self._mail]
        px, pw = list_w + 28, WIDTH - list_w - 56
        c.rrect(px, 116, pw, 580, 20, SURFACE)
        y = 160
        for line in wrap(mail.subject, 26, pw - 64):
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
            for line in wrap(paragraph, 19, pw - 64):
                c.text(px + 32, y, line, 19, (52, 55, 62), "lm")
                y += 29
            y += 12

    # browser

    def _paint_browser(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
        c.rect(0, STATUS_H, WIDTH, TITLE_H, BG)
        back = Rect(12, STATUS_H + 8, 48, 48)
        c.glyph("back", 24, TEXT_COLOR, back.x + 24, back.y + 24)
        hot.append(Hotspot("back", back, tap=ignore_point(self._back)))
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
                Hotspot(
                    "browser.open_settings",
                    button,
                    tap=ignore_point(partial(self._open, "settings")),
                )
            )
            return
        c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, SURFACE)
        c.rect(0, CONTENT_TOP, WIDTH, 64, (24, 38, 66))
        c.text(140, CONTENT_TOP + 32, "The Daily Example", 26, WHITE, "lm", bold=True)
        x = WIDTH - 140
        for item in reversed(("World", "Local", "Science", "Sport", "Weather")):
            c.text(x, CONTENT_TOP + 32, item, 16, (205, 214, 232), "rm")
            x -= round(text_width(item, 16)) + 28
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
        hero = landscape(7, col_w, 220)
        c.image.paste(hero, (col_x, 298), rrect_mask(col_w, 220, 14))
        y = 550
        body = (
            "Volunteers will help visitors set up tablets, borrow e-books and video-call their "
            "families. The corner is open every weekday morning, and no appointment is needed. "
            "“Most questions take five minutes,” says librarian Ada Novak, “and then people are "
            "off reading.”"
        )
        for line in wrap(body, 19, col_w):
            c.text(col_x, y, line, 19, (52, 55, 62), "lm")
            y += 30

    # photos

    def _paint_photos(self, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
        if self._photo is not None:
            c.rect(0, 0, WIDTH, HEIGHT, (16, 16, 18))
            back = Rect(12, STATUS_H + 8, 48, 48)
            c.glyph("back", 24, WHITE, back.x + 24, back.y + 24)
            hot.append(Hotspot("back", back, tap=ignore_point(self._back)))
            c.text(
                76,
                STATUS_H + TITLE_H // 2,
                f"Photo {self._photo + 1} of {PHOTO_COUNT}",
                20,
                WHITE,
                "lm",
            )
            pw, ph = 900, 600
            c.image.paste(landscape(self._photo, pw, ph), ((WIDTH - pw) // 2, CONTENT_TOP + 6))
            return
        self._paint_title_bar(c, hot, "Photos")
        c.text(66, 128, "Recent", 18, TEXT_MUTED, "lm", bold=True)
        tw, th, gap, cols = 220, 165, 12, 5
        left = (WIDTH - cols * tw - (cols - 1) * gap) // 2
        for i in range(PHOTO_COUNT):
            x = left + (i % cols) * (tw + gap)
            y = 148 + (i // cols) * (th + gap)
            c.image.paste(landscape(i, tw, th), (x, y), rrect_mask(tw, th, 10))
            hot.append(
                Hotspot(
                    f"photos.photo.{i}",
                    Rect(x, y, tw, th),
                    tap=ignore_point(partial(self._open_photo, i)),
                )
            )
