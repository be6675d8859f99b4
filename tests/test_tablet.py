"""The simulated tablet as a screen source: apps driven by taps, drags, scrolls and typing, and
what a capture gives the device (revisions, read-only frames, safe from several threads).

The customer's own controls drawn over the apps, and their wording, are tested in
``tests/test_tablet_customer.py``; the fixtures and helpers both use are in ``tests/tablet.py``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from device_agent.customer import CustomerView
from device_agent.screens.base import Drag, Key, Rect, Scroll, Tap, Text
from device_agent.screens.tablet import SimulatedTablet

from .tablet import FakeClock, centre, luminance, region, tap
from .tablet import actions as actions
from .tablet import clock as clock
from .tablet import tablet as tablet

# ------------------------------------------------------------------------------ apps


def test_bluetooth_toggle_turns_bluetooth_on_and_changes_its_pixels(
    tablet: SimulatedTablet,
) -> None:
    assert tap(tablet, "app.settings")
    assert tablet.state()["current_app"] == "settings"
    toggle = tablet.elements()["settings.bluetooth_toggle"]
    before = region(tablet.capture(), toggle)
    assert not tablet.state()["bluetooth"]

    assert tap(tablet, "settings.bluetooth_toggle")

    assert tablet.state()["bluetooth"]
    after = region(tablet.capture(), toggle)
    assert np.abs(after.astype(int) - before.astype(int)).sum(axis=2).max() > 100
    assert tap(tablet, "settings.bluetooth_toggle")
    assert not tablet.state()["bluetooth"]


def test_wifi_toggle_and_status_bar(tablet: SimulatedTablet) -> None:
    status_bar = Rect(1100, 0, 180, 36)
    before = region(tablet.capture(), status_bar)
    tap(tablet, "app.settings")
    tap(tablet, "settings.wifi_toggle")
    assert not tablet.state()["wifi"]
    tablet.inject(Key("Escape"))
    assert not np.array_equal(before, region(tablet.capture(), status_bar))


def test_brightness_drag_sets_the_value_and_dims_the_screen(tablet: SimulatedTablet) -> None:
    tap(tablet, "app.settings")
    slider = tablet.elements()["settings.brightness_slider"]
    bright = luminance(tablet.capture())
    x, y = centre(slider)

    assert tablet.inject(Drag(x, y, slider.x, y))

    assert tablet.state()["brightness"] == 0
    dim = luminance(tablet.capture())
    assert dim < bright * 0.6
    assert dim > 20, "never black: the customer must still see the screen"

    assert tablet.inject(Tap(slider.x + slider.width - 1, y))
    assert tablet.state()["brightness"] == 100
    assert luminance(tablet.capture()) > bright


def test_bluetooth_device_list_scrolls_and_pairs(tablet: SimulatedTablet) -> None:
    tap(tablet, "app.settings")
    tap(tablet, "settings.bluetooth_toggle")
    elements = tablet.elements()
    assert "bluetooth.pair.kitchen_speaker" in elements
    assert "bluetooth.pair.smart_watch" not in elements, "the list must not fit on screen"
    view = elements["settings.bluetooth_list"]
    before = region(tablet.capture(), view)

    assert tablet.inject(Scroll(*centre(view), dx=0, dy=120))

    state = tablet.state()
    assert state["scroll_offset"] == 120
    assert not np.array_equal(before, region(tablet.capture(), view))
    tablet.inject(Scroll(*centre(view), dx=0, dy=10_000))
    state = tablet.state()
    assert state["scroll_offset"] == state["scroll_max"] > 0
    elements = tablet.elements()
    assert "bluetooth.pair.smart_watch" in elements
    assert "bluetooth.pair.kitchen_speaker" not in elements
    revision = tablet.revision
    tablet.inject(Scroll(*centre(view), dx=0, dy=50))
    assert tablet.revision == revision, "scrolling past the end changes nothing"

    assert tap(tablet, "bluetooth.pair.smart_watch")
    assert tablet.state()["paired_devices"] == ["Smart Watch"]
    assert "bluetooth.pair.smart_watch" not in tablet.elements()

    x, y = centre(view)
    tablet.inject(Drag(x, y - 100, x, y + 100))  # dragging down shows the top again
    assert tablet.state()["scroll_offset"] == state["scroll_max"] - 200


def test_sign_in_with_typing_backspace_tab_and_enter(tablet: SimulatedTablet) -> None:
    tap(tablet, "app.signin")
    assert tablet.inject(Text("ignored")) is False, "nothing is focused yet"
    assert tap(tablet, "signin.email")
    assert tablet.state()["focused_field"] == "email"

    tablet.inject(Text("anna@example.comm"))
    assert tablet.inject(Key("Backspace"))
    assert tablet.inject(Key("Tab"))
    assert tablet.state()["focused_field"] == "password"
    tablet.inject(Text("hunter"))
    tablet.inject(Key("2"))
    state = tablet.state()
    assert state["fields"] == {"email": "anna@example.com", "password": "hunter2"}

    assert tablet.inject(Key("Enter"))

    state = tablet.state()
    assert state["signed_in_as"] == "anna@example.com"
    assert state["fields"]["password"] == "", "the password does not outlive the sign-in"
    assert "signin.password" not in tablet.elements()
    assert tablet.sensitive_regions() == []


def test_sign_in_button_validates_and_submits(tablet: SimulatedTablet) -> None:
    tap(tablet, "app.signin")
    tap(tablet, "signin.submit")
    assert tablet.state()["sign_in_error"] == "Enter a valid email address."
    assert tablet.state()["signed_in_as"] is None
    tap(tablet, "signin.email")
    tablet.inject(Text("bob@example.org"))
    tap(tablet, "signin.submit")
    assert tablet.state()["sign_in_error"] == "Enter your password."
    tap(tablet, "signin.password")
    tablet.inject(Text("pw"))
    tap(tablet, "signin.submit")
    assert tablet.state()["signed_in_as"] == "bob@example.org"


def test_password_pixels_lie_inside_the_sensitive_regions(tablet: SimulatedTablet) -> None:
    assert tablet.sensitive_regions() == [], "no password field on the home screen"
    tap(tablet, "app.signin")
    password = tablet.elements()["signin.password"]
    assert tablet.sensitive_regions() == [password], "sensitive whenever on screen, even empty"
    tap(tablet, "signin.password")
    before = tablet.capture().copy()

    tablet.inject(Text("correct horse"))

    after, regions = tablet.capture_private()
    changed = np.argwhere(np.any(after != before, axis=2))
    assert len(changed) > 100
    inside = np.zeros(before.shape[:2], dtype=bool)
    for r in regions:
        inside[r.y : r.y + r.height, r.x : r.x + r.width] = True
    assert inside[changed[:, 0], changed[:, 1]].all()


def test_back_navigation(tablet: SimulatedTablet) -> None:
    assert tablet.inject(Key("Escape")) is False, "nothing to go back to at home"
    tap(tablet, "app.books")
    tap(tablet, "books.book.moby_dick")
    assert tablet.state()["open_book"] == "Moby Dick"
    assert tap(tablet, "back")
    assert tablet.state()["open_book"] is None
    assert tablet.inject(Key("Escape"))
    assert tablet.state()["current_app"] == "home"
    for app in ("mail", "browser", "photos", "signin", "settings"):
        tap(tablet, f"app.{app}")
        assert tablet.state()["current_app"] == app
        assert tap(tablet, "back")
        assert tablet.state()["current_app"] == "home"


# ------------------------------------------------------------------------------ capture


def test_revision_counts_visual_changes_only(tablet: SimulatedTablet, clock: FakeClock) -> None:
    first = tablet.capture()
    revision = tablet.revision
    assert tablet.capture() is first, "an unchanged screen is not drawn again"
    assert tablet.revision == revision
    assert tablet.inject(Tap(20, 700)) is False, "nothing there"
    assert tablet.revision == revision
    tablet.set_customer_view(CustomerView())
    assert tablet.revision == revision, "the same view again changes nothing"

    tap(tablet, "app.settings")
    assert tablet.revision > revision
    revision = tablet.revision
    before = tablet.capture()

    clock.minute += 1
    assert tablet.revision == revision + 1, "the clock's minute is a visual change"
    after = tablet.capture()
    assert after is not before
    assert not np.array_equal(after[:36, :100], before[:36, :100])


def test_capture_is_read_only_and_the_right_size(tablet: SimulatedTablet) -> None:
    frame = tablet.capture()
    assert frame.shape == (800, 1280, 3)
    assert frame.dtype == np.uint8
    assert tablet.size == (1280, 800)
    assert not frame.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        frame[0, 0] = 0


def test_capture_and_inject_from_several_threads(tablet: SimulatedTablet) -> None:
    tap(tablet, "app.settings")
    toggle = centre(tablet.elements()["settings.wifi_toggle"])
    errors: list[BaseException] = []

    def injector() -> None:
        try:
            for _ in range(20):
                tablet.inject(Tap(*toggle))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def capturer() -> None:
        try:
            for _ in range(20):
                frame, _regions = tablet.capture_private()
                assert frame.shape == (800, 1280, 3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (injector, injector, capturer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert tablet.state()["wifi"] is True, "40 toggles: back where it started"
