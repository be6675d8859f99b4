"""The simulated tablet: apps driven by taps, the customer's own controls, and what leaves the device."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from device_agent import i18n
from device_agent.customer import CustomerAction, CustomerView
from device_agent.screens.base import (
    Drag,
    Frame,
    InputEvent,
    InputOrigin,
    Key,
    Rect,
    Scroll,
    Tap,
    Text,
)
from device_agent.screens.tablet import SimulatedTablet, TabletState


class FakeClock:
    def __init__(self, hour: int = 10, minute: int = 42) -> None:
        self.hour, self.minute = hour, minute

    def __call__(self) -> time.struct_time:
        return time.struct_time((2026, 11, 24, self.hour, self.minute, 0, 1, 328, 0))


class Recorder:
    def __init__(self) -> None:
        self.actions: list[tuple[CustomerAction, int | None]] = []

    def __call__(self, action: CustomerAction, value: int | None) -> None:
        self.actions.append((action, value))


@pytest.fixture
def actions() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tablet(actions: Recorder, clock: FakeClock) -> SimulatedTablet:
    return SimulatedTablet(on_customer_action=actions, clock=clock)


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.width // 2, rect.y + rect.height // 2


def tap(tablet: SimulatedTablet, name: str, origin: InputOrigin = "agent") -> bool:
    x, y = centre(tablet.elements()[name])
    return tablet.inject(Tap(x, y), origin)


def region(frame: Frame, rect: Rect) -> Frame:
    return frame[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width].copy()


def luminance(frame: Frame) -> float:
    return float(frame.astype(np.float32).mean())


def snapshot(tablet: SimulatedTablet) -> tuple[TabletState, int, Frame]:
    return tablet.state(), tablet.revision, tablet.capture().copy()


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


# ------------------------------------------------------------------------------ the customer's controls

OVERLAY_CASES: list[tuple[CustomerView, str, CustomerAction, int | None]] = [
    (CustomerView(phase="idle"), "customer.help", "help", None),
    (
        CustomerView(phase="queued", position=2, estimated_wait_s=90),
        "customer.cancel",
        "cancel",
        None,
    ),
    (CustomerView(phase="connecting"), "customer.cancel", "cancel", None),
    (CustomerView(phase="connected", agent_name="Ada"), "customer.pause", "pause", None),
    (
        CustomerView(phase="connected", agent_name="Ada", sharing_paused=True),
        "customer.resume",
        "resume",
        None,
    ),
    (CustomerView(phase="connected", agent_name="Ada"), "customer.end", "end", None),
    (
        CustomerView(phase="connected", agent_name="Ada", control_active=True),
        "customer.stop_control",
        "stop_control",
        None,
    ),
    (
        CustomerView(
            phase="connected", agent_name="Ada", organisation="Acme", consent_requested=True
        ),
        "customer.allow",
        "allow",
        None,
    ),
    (
        CustomerView(
            phase="connected", agent_name="Ada", organisation="Acme", consent_requested=True
        ),
        "customer.deny",
        "deny",
        None,
    ),
    (CustomerView(phase="ended", rating_requested=True), "customer.rate.1", "rate", 1),
    (CustomerView(phase="ended", rating_requested=True), "customer.rate.5", "rate", 5),
]


@pytest.mark.parametrize(("view", "element", "action", "value"), OVERLAY_CASES)
def test_customer_controls_answer_the_customer_only(
    tablet: SimulatedTablet,
    actions: Recorder,
    view: CustomerView,
    element: str,
    action: CustomerAction,
    value: int | None,
) -> None:
    tablet.set_customer_view(view)
    state, revision, frame = snapshot(tablet)

    assert tap(tablet, element, "agent") is False
    assert actions.actions == []
    assert tablet.state() == state
    assert tablet.revision == revision
    assert np.array_equal(tablet.capture(), frame)

    assert tap(tablet, element, "customer") is True
    assert actions.actions == [(action, value)]


def test_agent_taps_on_allow_and_stop_control_do_nothing(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(
        CustomerView(
            phase="connected", agent_name="Ada", organisation="Acme", consent_requested=True
        )
    )
    state, revision, frame = snapshot(tablet)
    for _ in range(3):
        assert not tap(tablet, "customer.allow")
    assert (tablet.state(), tablet.revision) == (state, revision)
    assert np.array_equal(tablet.capture(), frame)

    tablet.set_customer_view(CustomerView(phase="connected", agent_name="Ada", control_active=True))
    state, revision, frame = snapshot(tablet)
    stop = tablet.elements()["customer.stop_control"]
    x, y = centre(stop)
    for event in (Tap(x, y), Drag(x, y, x + 300, y - 300), Scroll(x, y, 0, 100)):
        assert tablet.inject(event, "agent") is False
    assert (tablet.state(), tablet.revision) == (state, revision)
    assert np.array_equal(tablet.capture(), frame)
    assert actions.actions == []


def test_agent_input_changes_nothing_while_the_consent_dialog_is_up(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tap(tablet, "app.settings")
    tablet.set_customer_view(
        CustomerView(
            locale="de-DE",
            phase="connected",
            agent_name="Jana",
            organisation="Stadtwerke",
            consent_requested=True,
        )
    )
    state, revision, frame = snapshot(tablet)
    elements = tablet.elements()
    slider = elements["settings.brightness_slider"]
    events: list[InputEvent] = [
        *(Tap(*centre(elements[name])) for name in elements if not name.startswith("customer.")),
        Drag(*centre(slider), slider.x, slider.y),
        Scroll(640, 500, 0, 200),
        Key("Escape"),
        Key("Home"),
        Text("hello"),
    ]
    for event in events:
        assert tablet.inject(event, "agent") is False, event
    assert (tablet.state(), tablet.revision) == (state, revision)
    assert np.array_equal(tablet.capture(), frame)
    # The dialog is modal for the customer too: it has to be answered first.
    assert tap(tablet, "settings.wifi_toggle", "customer") is False
    assert tablet.state()["wifi"]
    assert actions.actions == []


def test_stop_control_stays_within_the_customers_reach_under_the_dialog(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(
        CustomerView(
            phase="connected", agent_name="Ada", control_active=True, consent_requested=True
        )
    )
    assert tap(tablet, "customer.end", "customer") is False, "the dialog is answered first"
    assert tap(tablet, "customer.stop_control", "agent") is False
    assert tap(tablet, "customer.stop_control", "customer") is True
    assert actions.actions == [("stop_control", None)]


def test_agent_input_on_an_overlay_surface_does_not_reach_the_app_below(
    tablet: SimulatedTablet,
) -> None:
    tap(tablet, "app.settings")
    tablet.set_customer_view(CustomerView(phase="connected", agent_name="Ada"))
    pause = tablet.elements()["customer.pause"]
    # the dock's text, left of its buttons: an overlay surface, though not a control
    assert tablet.inject(Tap(pause.x - 60, pause.y + pause.height // 2), "agent") is False
    # app elements outside the overlay still work for the agent
    assert tap(tablet, "settings.wifi_toggle")
    assert not tablet.state()["wifi"]


def test_rating_is_taken_once_and_thanked(tablet: SimulatedTablet, actions: Recorder) -> None:
    tablet.set_customer_view(CustomerView(phase="ended", rating_requested=True))
    assert tap(tablet, "customer.rate.4", "customer")
    assert tablet.state()["rating"] == 4
    assert not any(name.startswith("customer.rate.") for name in tablet.elements())
    assert actions.actions == [("rate", 4)]
    tablet.set_customer_view(CustomerView(phase="idle"))
    assert tablet.state()["rating"] is None
    assert "customer.help" in tablet.elements()


def test_customer_uses_the_tablet_normally(tablet: SimulatedTablet) -> None:
    assert tap(tablet, "app.settings", "customer")
    assert tap(tablet, "settings.bluetooth_toggle", "customer")
    assert tablet.state()["bluetooth"]


def test_german_texts_come_from_the_view_locale(tablet: SimulatedTablet) -> None:
    assert i18n.text("de", "help") == "Hilfe"
    assert i18n.text("de-DE", "allow") == "Erlauben"
    assert i18n.text("de_AT", "deny") == "Ablehnen"
    assert (
        i18n.text("de", "consent_title", agent="Jana", organisation="Stadtwerke")
        == "Jana von Stadtwerke möchte Ihren Bildschirm steuern"
    )
    english = CustomerView(
        phase="connected", agent_name="Jana", organisation="X", consent_requested=True
    )
    tablet.set_customer_view(english)
    allow_en = region(tablet.capture(), tablet.elements()["customer.allow"])
    tablet.set_customer_view(replace(english, locale="de"))
    allow_de = region(tablet.capture(), tablet.elements()["customer.allow"])
    assert allow_en.shape == allow_de.shape
    assert not np.array_equal(allow_en, allow_de), "Allow and Erlauben look different"


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


# ------------------------------------------------------------------------------ i18n


def test_locale_resolution() -> None:
    assert i18n.language("de-DE") == "de"
    assert i18n.language("DE") == "de"
    assert i18n.language("de_CH") == "de"
    assert i18n.language("en-GB") == "en"
    assert i18n.language("fr-FR") == "en"
    assert i18n.language("") == "en"
    assert i18n.language(None) == "en"
    assert i18n.text("xx", "help") == "Help"


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    assert i18n.LANGUAGES == ("en", "de")
    assert i18n.keys("en") == i18n.keys("de")
    for key in i18n.keys("en"):
        names = i18n.placeholders("en", key)
        assert names == i18n.placeholders("de", key), key
        params = dict.fromkeys(names, "X")
        english, german = i18n.text("en", key, **params), i18n.text("de", key, **params)
        assert german != english or key == "agent_fallback", key


def test_queue_status_wording() -> None:
    assert i18n.queue_status("en", 2, 150) == "You are number 2 in line · about 3 min"
    assert i18n.queue_status("en", 1, 5) == "You are number 1 in line · about 1 min"
    assert i18n.queue_status("en", 4, None) == "You are number 4 in line"
    assert i18n.queue_status("de", 2, 60) == "Sie sind Nummer 2 in der Warteschlange · etwa 1 Min."
    assert i18n.queue_status("de", None, None).startswith("Sie sind in der Warteschlange")


def test_consent_title_names_the_organisation_when_known() -> None:
    assert i18n.consent_title("en", "Ada", "City Library") == (
        "Ada from City Library wants to control your screen"
    )
    assert i18n.consent_title("en", "Ada", None) == "Ada wants to control your screen"
    assert i18n.consent_title("de", "Ada", "") == "Ada möchte Ihren Bildschirm steuern"
