"""The customer's controls on the simulated tablet (Help, queue card, consent dialog, Stop control,
rating): only the customer's own input reaches them, agent input on them or under the consent
dialog changes nothing, and their wording comes from the view's locale (``device_agent.i18n``).

The apps and capture are tested in ``tests/test_tablet.py``; the fixtures and helpers both use are
in ``tests/tablet.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from device_agent import i18n
from device_agent.customer import CustomerAction, CustomerView
from device_agent.screens.base import Drag, InputEvent, Key, Scroll, Tap, Text
from device_agent.screens.tablet import SimulatedTablet
from device_agent.screens.tablet.controls import _title_lines
from device_agent.screens.tablet.theme import OVERLAY_TOP

from .tablet import Recorder, centre, region, snapshot, tap
from .tablet import actions as actions
from .tablet import clock as clock
from .tablet import tablet as tablet

# ------------------------------------------------------------------------------ the customer's controls

OVERLAY_CASES: list[tuple[CustomerView, str, CustomerAction, int | str | None]] = [
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
    (CustomerView(phase="connected", agent_name="Ada"), "customer.chat", "chat_open", None),
    (
        CustomerView(phase="connected", agent_name="Ada", chat_state="open"),
        "customer.chat_hide",
        "chat_close",
        None,
    ),
    (
        CustomerView(phase="ended", rating_requested=True, rating=3),
        "customer.rate_done",
        "rate_done",
        None,
    ),
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
    (
        CustomerView(phase="ended", rating_requested=True, rating=3),
        "customer.solved.no",
        "rate_solved",
        "no",
    ),
]


@pytest.mark.parametrize(("view", "element", "action", "value"), OVERLAY_CASES)
def test_customer_controls_answer_the_customer_only(
    tablet: SimulatedTablet,
    actions: Recorder,
    view: CustomerView,
    element: str,
    action: CustomerAction,
    value: int | str | None,
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
    before = tablet.capture().copy()
    assert tap(tablet, "customer.rate.4", "customer")
    assert tablet.state()["rating"] == 4
    assert not any(name.startswith("customer.rate.") for name in tablet.elements())
    assert actions.actions == [("rate", 4)]
    # The card stays, thanks the customer, and offers a comment and Close.
    assert {"customer.comment", "customer.rate_done"} <= tablet.elements().keys()
    assert not np.array_equal(tablet.capture(), before)
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
    assert i18n.LANGUAGES == ("en", "cs", "de", "nl", "pl", "tr")  # tests/test_catalogues.py: all
    assert i18n.keys("en") == i18n.keys("de")
    for key in i18n.keys("en"):
        names = i18n.placeholders("en", key)
        assert names == i18n.placeholders("de", key), key
        params: dict[str, object] = {name: 2 if name == "n" else "X" for name in names}
        english, german = i18n.text("en", key, **params), i18n.text("de", key, **params)
        same_word = ("agent_fallback", "chat", "preview_live")
        assert german != english or key in same_word, key


def test_queue_status_wording() -> None:
    assert i18n.queue_status("en", 2, 150) == "You are number 2 in line · about 3 min"
    assert i18n.queue_status("en", 1, 5) == "You are number 1 in line · about 1 min"
    assert i18n.queue_status("en", 4, None) == "You are number 4 in line · wait time unknown"
    assert i18n.queue_status("de", 4, None).endswith("Wartezeit unbekannt")
    # Nobody online who could help: said at once, and no number of minutes.
    for wait in (None, 0.0, 300.0):
        assert i18n.queue_status("en", 1, wait, 0) == (
            "Your request stays in line. You can cancel at any time."
        )
        assert "Min" not in i18n.queue_status("de", 1, wait, 0)
    assert i18n.queue_title("en", 0) == "Nobody is available right now"
    assert i18n.queue_title("de", 0) == "Gerade ist niemand erreichbar"
    assert i18n.queue_title("en", 3) == i18n.queue_title("en", None) == "Help requested"
    assert i18n.requeued_status("en", 1, None, 0).startswith("Your request stays in line")
    assert i18n.queue_status("de", 2, 60) == "Sie sind Nummer 2 in der Warteschlange · etwa 1 Min."
    assert i18n.queue_status("de", None, None).startswith("Sie sind in der Warteschlange")


def test_consent_title_names_the_organisation_when_known() -> None:
    assert i18n.consent_title("en", "Ada", "City Library") == (
        "Ada from City Library wants to control your screen"
    )
    assert i18n.consent_title("en", "Ada", None) == "Ada wants to control your screen"
    assert i18n.consent_title("de", "Ada", "") == "Ada möchte Ihren Bildschirm steuern"


def test_a_long_dock_title_takes_two_lines_instead_of_an_ellipsis() -> None:
    """German "… steuert Ihren Bildschirm" with a 21-character name does not fit beside five
    buttons: it wraps to two whole lines and the dock grows upwards; a short title keeps the
    one-line dock exactly where it was."""
    name = "Maximiliane Grünewald"
    assert len(name) == 21
    screen = SimulatedTablet()
    short = CustomerView(locale="de", phase="connected", agent_name="Ada", control_active=True)
    screen.set_customer_view(short)
    stop_short = screen.elements()["customer.stop_control"]
    assert stop_short.y == OVERLAY_TOP + (72 - 44) // 2  # centred in the one-line dock
    long = CustomerView(locale="de", phase="connected", agent_name=name, control_active=True)
    screen.set_customer_view(long)
    stop_long = screen.elements()["customer.stop_control"]
    assert stop_long.y == stop_short.y - 24 // 2  # centred in a dock one line taller
    title = i18n.text("de", "control_active", agent=name)
    lines = _title_lines(title, 380)
    assert len(lines) == 2
    assert " ".join(lines) == title  # every word, no ellipsis
    assert _title_lines("Mit Ada verbunden", 380) == ("Mit Ada verbunden",)
