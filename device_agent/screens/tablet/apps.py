"""What the tablet's apps hold (the open app, Wi-Fi, the sign-in form, the open book …) and every
change a tap or a key makes to it.

Rule: only the methods here change an :class:`Apps`; the pages (:mod:`.pages`) read its
attributes to draw and hand its methods to their hotspots, and :mod:`.input` calls them for keys
and typed text. Every change calls ``touch`` exactly once, which is how
:class:`~.screen.SimulatedTablet` counts its revisions and knows to draw anew. The customer's
own controls (the view, the rating) are not app state: the tablet keeps those itself.

Not thread-safe on its own: the tablet calls it only under its lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .model import DEVICES, EMAIL, FIELD_MAX, App, FieldName
from .theme import LIST_BOTTOM, LIST_TOP, ROW_H

__all__ = ["Apps"]


class Apps:
    """The apps' state; see the module docstring for who may change it."""

    # SimulatedTablet's own options, passed on by name; battery and brightness are clamped here.
    def __init__(
        self,
        *,
        touch: Callable[[], None],
        now: time.struct_time,
        battery_percent: int,
        wifi: bool,
        bluetooth: bool,
        brightness: int,
    ) -> None:
        self._touch = touch
        self.now = now
        """The time the status bar and the home screen show; the tablet sets it once a minute."""
        self.battery = max(0, min(100, battery_percent))
        self.wifi = wifi
        self.bluetooth = bluetooth
        self.brightness = max(0, min(100, brightness))
        self.app: App = "home"
        self.paired: list[str] = []
        self.scroll = 0
        """How far the Bluetooth device list is scrolled, in pixels."""
        self.focus: FieldName | None = None
        self.fields: dict[FieldName, str] = {"email": "", "password": ""}
        self.signed_in_as: str | None = None
        self.sign_in_error: str | None = None
        self.book: int | None = None
        self.mail = 0
        self.mail_read = {0}
        self.photo: int | None = None

    # navigation

    def open(self, app: App) -> None:
        if app == self.app:
            return
        self.app = app
        self.focus = None
        self.book = None
        self.photo = None
        self._touch()

    def back(self) -> bool:
        """One step back: out of an open book or photo, else to the home screen."""
        if self.app == "books" and self.book is not None:
            self.book = None
        elif self.app == "photos" and self.photo is not None:
            self.photo = None
        elif self.app != "home":
            self.app = "home"
            self.focus = None
        else:
            return False
        self._touch()
        return True

    # settings

    def toggle_wifi(self) -> None:
        self.wifi = not self.wifi
        self._touch()

    def toggle_bluetooth(self) -> None:
        self.bluetooth = not self.bluetooth
        self._touch()

    def set_brightness(self, value: int) -> None:
        value = max(0, min(100, value))
        if value != self.brightness:
            self.brightness = value
            self._touch()

    def scroll_max(self) -> int:
        return max(0, len(DEVICES) * ROW_H - (LIST_BOTTOM - LIST_TOP))

    def scroll_by(self, dy: int) -> None:
        offset = max(0, min(self.scroll_max(), self.scroll + dy))
        if offset != self.scroll:
            self.scroll = offset
            self._touch()

    def pair(self, name: str) -> None:
        if name not in self.paired:
            self.paired.append(name)
            self._touch()

    # the account's sign-in form

    @property
    def signin_form(self) -> bool:
        """Whether the sign-in form is on screen (the Account app, nobody signed in)."""
        return self.app == "signin" and self.signed_in_as is None

    def set_focus(self, name: FieldName | None) -> None:
        if name != self.focus:
            self.focus = name
            self._touch()

    def insert(self, text: str) -> bool:
        """Type ``text`` into the focused field; ``False`` when no field takes it."""
        if self.app != "signin" or self.signed_in_as is not None or self.focus is None:
            return False
        text = "".join(ch for ch in text if ch.isprintable())
        current = self.fields[self.focus]
        text = text[: max(0, FIELD_MAX - len(current))]
        if not text:
            return False
        self.fields[self.focus] = current + text
        self.sign_in_error = None
        self._touch()
        return True

    def backspace(self) -> bool:
        if self.app != "signin" or self.focus is None or not self.fields[self.focus]:
            return False
        self.fields[self.focus] = self.fields[self.focus][:-1]
        self._touch()
        return True

    def submit(self) -> None:
        email = self.fields["email"].strip()
        if not EMAIL.match(email):
            error: str | None = "Enter a valid email address."
        elif not self.fields["password"]:
            error = "Enter your password."
        else:
            error = None
            self.signed_in_as = email
            self.fields["password"] = ""
            self.focus = None
        self.sign_in_error = error
        self._touch()

    def sign_out(self) -> None:
        self.signed_in_as = None
        self._touch()

    # books, mail, photos

    def open_book(self, index: int) -> None:
        self.book = index
        self._touch()

    def select_mail(self, index: int) -> None:
        if index != self.mail or index not in self.mail_read:
            self.mail = index
            self.mail_read.add(index)
            self._touch()

    def open_photo(self, index: int) -> None:
        self.photo = index
        self._touch()
