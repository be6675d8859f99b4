"""The :class:`SimulatedTablet` itself: the lock, the clock, the security rule for input and the
cached frame.

The behaviour (security rule, lazy rendering) is described in the package docstring. The apps'
state lives in :class:`~.apps.Apps`, their screens in :mod:`.pages`, the way input reaches them
in :mod:`.input`; the customer's controls are painted by the :class:`CustomerControls` mixin.
What is left here is what ties them together under one lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import cast

import numpy as np
from PIL import Image

from signaling.annotations import DeviceFacts

from ...customer import CustomerAction, CustomerActionCallback, CustomerView
from ..base import Drag, Frame, InputEvent, InputOrigin, Key, Rect, ScreenSource, Scroll, Tap, Text
from .apps import Apps
from .canvas import Canvas, backlight, centre, dim_lut
from .controls import LOCAL_ACTIONS, CustomerControls
from .input import dispatch_app
from .keyboard import Typing
from .model import BOOKS, TabletFields, TabletState
from .pages import PAGES, paint_status_bar
from .theme import BG, HEIGHT, WIDTH
from .widgets import Control, Hotspot, Overlay, event_point

CHAT_TEXT_MAX = 2000
"""A chat line's most characters (``chat.send``); a rating comment is cut at 1000 when sent."""

TABLET_MODEL = "mayday simulated tablet"
TABLET_OS = "mayday Tablet OS 1"
"""What the simulated tablet reports about itself (:meth:`SimulatedTablet.facts`)."""


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
        now = clock()
        self._apps = Apps(
            touch=self._touch,
            now=now,
            battery_percent=battery_percent,
            wifi=wifi,
            bluetooth=bluetooth,
            brightness=brightness,
        )
        self._view = CustomerView()
        self._rating: int | None = None
        self._typing = Typing(limit=CHAT_TEXT_MAX)
        self._commenting = False
        self._confirm_end = False
        self._chat_scroll = 0
        self._chat_history: Rect | None = None
        self._chat_scroll_max = 0
        self._revision = 0
        self._dirty = True
        self._clock_key = self._minute(now)
        self._frame: Frame | None = None
        self._hotspots: list[Hotspot] = []
        self._overlay = Overlay()
        self._sensitive: list[Rect] = []
        self.last_render_s = 0.0
        """How long the last full render took (for benchmarks)."""

    # ---------------------------------------------------------------- ScreenSource

    def facts(self) -> DeviceFacts:
        width, height = self.size
        with self._lock:
            battery, wifi = self._apps.battery, self._apps.wifi
        return DeviceFacts(
            model=TABLET_MODEL,
            os=TABLET_OS,
            screen_width=width,
            screen_height=height,
            battery_percent=battery,
            charging=False,
            network="Wi-Fi" if wifi else "offline",
        )

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
            assert action.action not in LOCAL_ACTIONS, action
            self._on_customer_action(cast(CustomerAction, action.action), action.value)
        return landed

    # ---------------------------------------------------------------- device and QA API

    def on_customer_action(self, callback: CustomerActionCallback | None) -> None:
        """Where the customer's taps on the support controls go (the device agent)."""
        self._on_customer_action = callback

    def set_customer_view(self, view: CustomerView) -> None:
        with self._lock:
            if view == self._view:
                return
            self._reset_local(view)
            self._view = view
            self._touch()

    @property
    def customer_view(self) -> CustomerView:
        with self._lock:
            return self._view

    def state(self) -> TabletState:
        with self._lock:
            a = self._apps
            return TabletState(
                current_app=a.app,
                wifi=a.wifi,
                bluetooth=a.bluetooth,
                brightness=a.brightness,
                focused_field=a.focus,
                fields=TabletFields(email=a.fields["email"], password=a.fields["password"]),
                signed_in_as=a.signed_in_as,
                sign_in_error=a.sign_in_error,
                paired_devices=list(a.paired),
                scroll_offset=a.scroll,
                scroll_max=a.scroll_max(),
                open_book=BOOKS[a.book].title if a.book is not None else None,
                selected_mail=a.mail,
                open_photo=a.photo,
                rating=self._rating,
                customer_phase=self._view.phase,
                customer_draft=self._typing.draft,
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

    # ---------------------------------------------------------------- revisions and the clock

    def _touch(self) -> None:
        """Something visible changed: count a revision and draw anew on the next capture."""
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
            self._apps.now = now
            self._touch()

    def _ensure_rendered(self) -> None:
        self._sync_clock()
        if self._dirty or self._frame is None:
            self._render()

    # ---------------------------------------------------------------- input

    def _dispatch(self, event: InputEvent, origin: InputOrigin) -> tuple[bool, Control | None]:
        """The security rule (package docstring); what passes it goes to the apps."""
        overlay = self._overlay
        point = event_point(event)
        if overlay.modal:
            # A dialog (consent, End): the agent changes nothing; the customer only answers it.
            if origin != "customer" or not isinstance(event, Tap):
                return False, None
            control = overlay.modal_control_at(event.x, event.y)
            if control is None:
                return False, None
            return True, self._customer_tap(control)
        if origin == "customer" and isinstance(event, Key | Text) and self._typing_for():
            # The customer types a chat line or a comment; the agent's keys never land there.
            return self._customer_keys(event)
        if point is not None and overlay.covers(*point):
            # The customer's own controls: never for agent input, not even to look through.
            if origin != "customer":
                return False, None
            if isinstance(event, Scroll):
                return self._customer_scroll(event.x, event.y, event.dy), None
            if isinstance(event, Drag):
                landed = self._customer_scroll(event.x0, event.y0, event.y0 - event.y1)
                return landed, None
            if not isinstance(event, Tap):
                return False, None
            control = overlay.control_at(event.x, event.y)
            if control is None:
                return False, None
            if control.action == "rate" and self._rating is not None:
                return False, None
            return True, self._customer_tap(control)
        return dispatch_app(self._apps, self._hotspots, event), None

    # ---------------------------------------------------------------- rendering

    def _render(self) -> None:
        """Draw the open app, the status bar over it, the backlight, then the customer's controls.

        The backlight dims what is drawn so far and nothing after it: the customer's controls stay
        bright at any brightness. Hotspots, overlay and sensitive regions are swapped in with the
        frame, so input always meets the picture the customer sees.
        """
        started = time.perf_counter()
        image = Image.new("RGB", (WIDTH, HEIGHT), BG)
        canvas = Canvas(image)
        hotspots: list[Hotspot] = []
        sensitive: list[Rect] = []
        PAGES[self._apps.app](self._apps, canvas, hotspots, sensitive)
        paint_status_bar(self._apps, canvas)
        if self._apps.brightness < 100:
            image = image.point(dim_lut(backlight(self._apps.brightness)))
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
