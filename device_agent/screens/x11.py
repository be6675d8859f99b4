"""A real X display as a screen source: capture with mss, input through the XTest extension.

This is what runs on a Linux desktop (or a kiosk on X11): the agent sees the real screen and,
once the customer consents, clicks and types into real applications.

Capture uses mss's XShmGetImage backend (it falls back to XGetImage by itself when MIT-SHM is
not usable, e.g. when the X server runs in another IPC namespace). Measured per 1280×800×24
frame on Xvfb, medians of 60–100 on an otherwise quiet 2-core machine:

============================  ===========  ==========================
backend                       grab only    grab + BGRA→RGB as here
============================  ===========  ==========================
mss, XShmGetImage (used)      0.65 ms      1.7 ms (``capture()``)
mss, XGetImage over XCB       1.2 ms       2.4 ms
mss, legacy Xlib backend      4.4–8 ms     5.8 ms
python-xlib ``get_image``     7.6 ms       ≈9 ms (13–20 ms under load)
============================  ===========  ==========================

The conversion copies the three channels one by one (0.9 ms): a single fancy-indexed
``[..., 2::-1]`` copy takes 3.1 ms, Pillow's ``BGRX`` decoder 3.6 ms. python-xlib is still
needed for input: mss has no XTest.

X connections are not thread-safe and the device captures from worker threads, so every thread
gets its own mss instance (a connection and a shared-memory segment), kept in a
:class:`threading.local`; :meth:`X11Screen.close` closes them all. Input goes through a single
python-xlib connection behind a lock, which also keeps one event's presses and releases from
interleaving with another's.

Keys: named keys map to X keysyms; a character is looked up in the current keymap and typed
with Shift when it sits on the shifted level. A character the keymap lacks (``€`` on a US map,
``ä``) is put on a spare keycode with a core ``ChangeKeyboardMapping``, the way xdotool does.
Those keycodes stay mapped until :meth:`X11Screen.close` (reverting right after the key press
would race with the client that has yet to translate it), are reused least recently used
first, and each change is followed by a short pause (see :meth:`X11Screen._type`), so the first
use of such a character costs ~25 ms. A keymap change by someone else (a layout switch) is
picked up before the next key event.

``revision`` is ``None``: X tells nobody cheaply that the screen changed (XDamage would, at the
cost of another connection and event loop), so the streamer compares pixels for this source.

The customer's own controls (:class:`device_agent.ui_tk.CustomerWindow`) are ordinary X windows
here. Pass ``protected`` to refuse agent pointer input on them, as the simulated tablet does for
its overlay. Consent itself is enforced by the device, which only forwards agent input while
the customer's consent holds.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

import mss
import numpy as np
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib.ext import xtest

from signaling.annotations import DeviceFacts

from ..facts import host_facts
from .base import Drag, Frame, InputEvent, InputOrigin, Key, Rect, ScreenSource, Scroll, Tap, Text
from .keysyms import NAMED_KEYS, char_keysym, key_keysym

__all__ = ["NAMED_KEYS", "X11Screen"]  # NAMED_KEYS lives in .keysyms; still importable here

SCROLL_STEP_PX = 40
"""Pixels of scroll per wheel click (button 4/5/6/7 press)."""
MAX_SCROLL_CLICKS = 100
DRAG_STEPS = 12
DRAG_STEP_DELAY_S = 0.008
"""Pause between a drag's motions so toolkits see a movement, not a jump (≈0.1 s per drag)."""
SHIFT_LEVEL = 1
REMAP_SETTLE_S = 0.025
"""Pause after changing the keymap, so clients pick up one change before the next arrives."""


class X11Screen(ScreenSource):
    """An X display (or a rectangle of it) as a :class:`ScreenSource`.

    ``region`` is in root-window pixels and defaults to the whole screen; events and
    ``sensitive`` rectangles are in source pixels (relative to the region). ``protected`` returns,
    in root-window pixels, where agent pointer input is refused (the customer's window); it is
    called on every agent pointer event, from the injecting thread.

    The size is fixed at construction: a later resolution change (RandR) is not followed.
    """

    def __init__(
        self,
        display: str | None = None,
        region: Rect | None = None,
        sensitive: Iterable[Rect] = (),
        *,
        protected: Callable[[], Iterable[Rect]] | None = None,
        show_cursor: bool = False,
    ) -> None:
        name = display if display is not None else os.environ.get("DISPLAY")
        if not name:
            raise ValueError("no X display: pass display= or set $DISPLAY")
        self._display_name = name
        self._input = xdisplay.Display(name)
        if self._input.query_extension("XTEST") is None:
            self._input.close()
            raise RuntimeError(f"X display {name} has no XTEST extension; input cannot be injected")
        screen = self._input.screen()
        root_w, root_h = int(screen.width_in_pixels), int(screen.height_in_pixels)
        if region is None:
            region = Rect(0, 0, root_w, root_h)
        elif (
            region.width <= 0
            or region.height <= 0
            or region.x < 0
            or region.y < 0
            or region.x + region.width > root_w
            or region.y + region.height > root_h
        ):
            self._input.close()
            raise ValueError(f"capture region {region} is not inside the {root_w}×{root_h} screen")
        self._region = region
        self._grab_box = {
            "left": region.x,
            "top": region.y,
            "width": region.width,
            "height": region.height,
        }
        self._sensitive = tuple(sensitive)
        self._protected = protected
        self._show_cursor = show_cursor
        self._input_lock = threading.Lock()
        self._local = threading.local()
        self._grabbers: list[mss.MSS] = []
        self._grabbers_lock = threading.Lock()
        self._closed = False
        self._spare_keycodes: list[int] = []
        self._remapped: OrderedDict[int, int] = OrderedDict()
        """keysym → spare keycode it was mapped to, least recently used first."""
        self._load_keymap()

    # ---------------------------------------------------------------- ScreenSource

    @property
    def size(self) -> tuple[int, int]:
        return self._region.width, self._region.height

    def facts(self) -> DeviceFacts:
        return host_facts(self.size)

    @property
    def region(self) -> Rect:
        """The captured rectangle, in root-window pixels."""
        return self._region

    def capture(self) -> Frame:
        """The region as RGB, from this thread's own X connection."""
        if self._closed:
            raise RuntimeError("X11Screen is closed")
        shot = self._grabber().grab(self._grab_box)
        h, w = self._region.height, self._region.width
        bgra = np.frombuffer(shot.raw, dtype=np.uint8).reshape(h, w, 4)
        # Three channel copies are ~3× faster than one fancy-indexed copy of [..., 2::-1].
        frame = np.empty((h, w, 3), dtype=np.uint8)
        frame[..., 0] = bgra[..., 2]
        frame[..., 1] = bgra[..., 1]
        frame[..., 2] = bgra[..., 0]
        return frame

    def sensitive_regions(self) -> list[Rect]:
        return list(self._sensitive)

    def capture_private(self) -> tuple[Frame, list[Rect]]:
        """The configured rectangles never change, so one read covers the frame."""
        return self.capture(), list(self._sensitive)

    @property
    def revision(self) -> int | None:
        return None

    def inject(self, event: InputEvent, origin: InputOrigin = "agent") -> bool:
        """Send the event to the X server through XTest; ``True`` once it was sent.

        ``False`` for a point outside the source, agent pointer input on a ``protected``
        rectangle, a key with no keysym, or an empty scroll or text.
        """
        with self._input_lock:
            if self._closed:
                return False
            if isinstance(event, Tap):
                return self._tap(event, origin)
            if isinstance(event, Drag):
                return self._drag(event, origin)
            if isinstance(event, Scroll):
                return self._scroll(event, origin)
            if isinstance(event, Key):
                return self._key(event.key)
            return self._text(event)

    def close(self) -> None:
        """Restore remapped keycodes and close every X connection this source opened."""
        with self._input_lock:
            if self._closed:
                return
            self._closed = True
            try:
                for keycode in self._remapped.values():
                    self._input.change_keyboard_mapping(keycode, [(X.NoSymbol,)])
                self._input.sync()
            finally:
                self._input.close()
        with self._grabbers_lock:
            grabbers, self._grabbers = self._grabbers, []
        for grabber in grabbers:
            grabber.close()

    def __enter__(self) -> X11Screen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- capture

    def _grabber(self) -> mss.MSS:
        grabber: mss.MSS | None = getattr(self._local, "grabber", None)
        if grabber is None:
            if self._closed:
                raise RuntimeError("X11Screen is closed")
            grabber = mss.MSS(display=self._display_name, with_cursor=self._show_cursor)
            self._local.grabber = grabber
            with self._grabbers_lock:
                self._grabbers.append(grabber)
        return grabber

    # ---------------------------------------------------------------- pointer

    def _to_root(self, x: int, y: int) -> tuple[int, int] | None:
        """Source pixels → root pixels; the far edge (``x == width``) is clamped onto the screen."""
        w, h = self.size
        if not (0 <= x <= w and 0 <= y <= h):
            return None
        return self._region.x + min(x, w - 1), self._region.y + min(y, h - 1)

    def _refused(self, origin: InputOrigin, *points: tuple[int, int]) -> bool:
        if origin != "agent" or self._protected is None:
            return False
        rects = list(self._protected())
        return any(r.contains(x, y) for r in rects for x, y in points)

    def _move(self, x: int, y: int) -> None:
        xtest.fake_input(self._input, X.MotionNotify, x=x, y=y)

    def _button(self, button: int, press: bool) -> None:
        xtest.fake_input(self._input, X.ButtonPress if press else X.ButtonRelease, button)

    def _tap(self, event: Tap, origin: InputOrigin) -> bool:
        point = self._to_root(event.x, event.y)
        if point is None or self._refused(origin, point):
            return False
        self._move(*point)
        self._button(1, True)
        self._button(1, False)
        self._input.sync()
        return True

    def _drag(self, event: Drag, origin: InputOrigin) -> bool:
        start = self._to_root(event.x0, event.y0)
        end = self._to_root(event.x1, event.y1)
        if start is None or end is None or self._refused(origin, start, end):
            return False
        self._move(*start)
        self._button(1, True)
        try:
            self._input.sync()
            for step in range(1, DRAG_STEPS + 1):
                time.sleep(DRAG_STEP_DELAY_S)
                t = step / DRAG_STEPS
                self._move(
                    round(start[0] + (end[0] - start[0]) * t),
                    round(start[1] + (end[1] - start[1]) * t),
                )
                self._input.sync()
        finally:
            # Never leave the customer's mouse button held down.
            self._button(1, False)
            self._input.sync()
        return True

    def _scroll(self, event: Scroll, origin: InputOrigin) -> bool:
        point = self._to_root(event.x, event.y)
        if point is None or self._refused(origin, point):
            return False
        clicks: list[int] = []
        # Positive dy shows what is further down: wheel down (5); positive dx: wheel right (7).
        for delta, back, forward in ((event.dy, 4, 5), (event.dx, 6, 7)):
            if delta:
                n = min(MAX_SCROLL_CLICKS, max(1, round(abs(delta) / SCROLL_STEP_PX)))
                clicks += [forward if delta > 0 else back] * n
        if not clicks:
            return False
        self._move(*point)
        for button in clicks:
            self._button(button, True)
            self._button(button, False)
        self._input.sync()
        return True

    # ---------------------------------------------------------------- keyboard

    def _load_keymap(self) -> None:
        """Find the spare keycodes, and forget remaps that a new keymap replaced."""
        mn = int(self._input.display.info.min_keycode)
        mx = int(self._input.display.info.max_keycode)
        mapping = self._input.get_keyboard_mapping(mn, mx - mn + 1)
        still_ours = {
            keysym: code
            for keysym, code in self._remapped.items()
            if set(mapping[code - mn]) - {X.NoSymbol} == {keysym}
        }
        self._remapped = OrderedDict(still_ours)
        # Keycode 8 is skipped: some clients treat the lowest keycode specially.
        self._spare_keycodes = [
            mn + i
            for i, syms in enumerate(mapping)
            if mn + i > 8 and (not any(syms) or mn + i in still_ours.values())
        ]
        self._shift = self._input.keysym_to_keycode(XK.string_to_keysym("Shift_L"))

    def _follow_keymap(self) -> None:
        """Keep up with keymap changes (a layout switch), which X announces to every client.

        Also drains the queue, where our own MappingNotify events would otherwise pile up.
        """
        foreign = False
        while self._input.pending_events():
            event = self._input.next_event()
            if event.type == X.MappingNotify and event.request == X.MappingKeyboard:
                self._input.refresh_keyboard_mapping(event)
                ours = event.count == 1 and event.first_keycode in self._remapped.values()
                foreign = foreign or not ours
        if foreign:
            self._load_keymap()

    def _key(self, name: str) -> bool:
        self._follow_keymap()
        if len(name) == 1:
            return self._type([name])
        keysym = key_keysym(name)
        if keysym == X.NoSymbol:
            return False
        keycode, shift = self._keycode_for(keysym)
        self._stroke(keycode, shift)
        self._input.sync()
        return keycode != 0

    def _text(self, event: Text) -> bool:
        self._follow_keymap()
        return self._type(list(event.text))

    def _type(self, chars: list[str]) -> bool:
        """Type characters; ``True`` if at least one had a key.

        Keys the keymap lacks are remapped before the keys of their chunk are sent, each
        followed by a pause: a client that receives several keymap changes before it looks
        at the keyboard again loses some of them (measured with Tk on Xvfb: 7 of 60 runs of
        ``"äöü€ß"`` lost a letter without the pause, 0 of 100 with it). A chunk needs at most
        as many remapped keys as there are spare keycodes, so none is reused inside it; between
        chunks the client gets time to translate the keys before their keycodes change.
        """
        keysyms = [char_keysym(c) for c in chars]
        sent = False
        for n, chunk in enumerate(self._chunks(keysyms)):
            if n:
                self._input.sync()
                time.sleep(REMAP_SETTLE_S)
            strokes = [self._keycode_for(k) if k != X.NoSymbol else (0, False) for k in chunk]
            for keycode, shift in strokes:
                self._stroke(keycode, shift)
                sent = sent or keycode != 0
        self._input.sync()
        return sent

    def _chunks(self, keysyms: list[int]) -> list[list[int]]:
        """Split so that no chunk needs more remapped keysyms than there are spare keycodes."""
        limit = max(1, len(self._spare_keycodes))
        chunks: list[list[int]] = [[]]
        foreign: set[int] = set()
        for keysym in keysyms:
            if keysym != X.NoSymbol and self._keymap_level(keysym) is None:
                if keysym not in foreign and len(foreign) == limit:
                    chunks.append([])
                    foreign = set()
                foreign.add(keysym)
            chunks[-1].append(keysym)
        return chunks

    def _stroke(self, keycode: int, shift: bool) -> None:
        if keycode == 0:
            return
        if shift:
            xtest.fake_input(self._input, X.KeyPress, self._shift)
        xtest.fake_input(self._input, X.KeyPress, keycode)
        xtest.fake_input(self._input, X.KeyRelease, keycode)
        if shift:
            xtest.fake_input(self._input, X.KeyRelease, self._shift)

    def _keymap_level(self, keysym: int) -> tuple[int, bool] | None:
        """The keymap's own keycode for ``keysym`` and whether it needs Shift, if it has one."""
        levels = sorted(
            (index, code)
            for code, index in self._input.keysym_to_keycodes(keysym)
            if index <= SHIFT_LEVEL and code not in self._remapped.values()
        )
        if levels and (levels[0][0] != SHIFT_LEVEL or self._shift):
            index, code = levels[0]
            return code, index == SHIFT_LEVEL
        return None

    def _keycode_for(self, keysym: int) -> tuple[int, bool]:
        """A keycode that produces ``keysym``, and whether Shift must be held; ``0`` if none."""
        if keysym in self._remapped:
            self._remapped.move_to_end(keysym)
            return self._remapped[keysym], False
        own = self._keymap_level(keysym)
        if own is not None:
            return own
        return self._remap(keysym), False

    def _remap(self, keysym: int) -> int:
        """Put ``keysym`` on a spare keycode (the least recently used once all are taken)."""
        if len(self._remapped) < len(self._spare_keycodes):
            keycode = self._spare_keycodes[len(self._remapped)]
        elif self._remapped:
            _, keycode = self._remapped.popitem(last=False)
        else:
            return 0
        self._input.change_keyboard_mapping(keycode, [(keysym, keysym)])
        self._input.sync()
        time.sleep(REMAP_SETTLE_S)
        self._remapped[keysym] = keycode
        return keycode
