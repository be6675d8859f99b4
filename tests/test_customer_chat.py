"""The customer's side of the conversation on the simulated tablet: typing and sending chat lines
with the on-screen keyboard, the chat history (peek, unread count, open, scroll, hide), the End
confirmation and the rating card's thank-you and comment.

Driven by pointer input and keys as the preview page sends them; the agent's input must never
type, send, scroll or end anything for the customer. Tablet only, no server: the device's side of
the same (the lines reaching the agent, the peek folding by itself) is in ``tests/test_device.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from device_agent.customer import ChatLine, CustomerView
from device_agent.screens.base import Drag, Key, Scroll, Tap, Text
from device_agent.screens.tablet import SimulatedTablet

from .tablet import Recorder, centre, region, snapshot, tap
from .tablet import actions as actions
from .tablet import clock as clock
from .tablet import tablet as tablet

SESSION = CustomerView(phase="connected", agent_name="Anna K.", organisation="City Library")
OPEN = replace(SESSION, chat_state="open")
LINES = tuple(
    ChatLine(mine=index % 2 == 1, name="You" if index % 2 else "Anna K.", text=f"line {index}")
    for index in range(30)
)


def type_keys(tablet: SimulatedTablet, keys: str) -> None:
    for key in keys:
        name = "space" if key == " " else key
        assert tap(tablet, f"customer.key.{name}", "customer"), key


def test_the_customer_types_on_the_keyboard_and_sends(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(OPEN)
    assert tap(tablet, "customer.key.shift", "customer")
    type_keys(tablet, "hi there")
    assert tap(tablet, "customer.key.backspace", "customer")
    assert tablet.state()["customer_draft"] == "Hi ther"
    assert actions.actions == [], "keys are the tablet's own business until Send"
    assert tap(tablet, "customer.chat_send", "customer")
    assert actions.actions == [("chat_send", "Hi ther")]
    assert tablet.state()["customer_draft"] == ""
    assert tap(tablet, "customer.chat_send", "customer")  # nothing typed: nothing sent
    assert actions.actions == [("chat_send", "Hi ther")]


def test_the_agent_cannot_type_send_or_scroll_for_the_customer(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(replace(OPEN, chat=LINES, control_active=True))
    tablet.inject(Text("draft"), "customer")
    state, revision, frame = snapshot(tablet)
    elements = tablet.elements()
    history = centre(elements["customer.chat_field"])
    for name in (
        "customer.key.a",
        "customer.key.shift",
        "customer.chat_send",
        "customer.chat_hide",
    ):
        assert tap(tablet, name, "agent") is False, name
    for event in (
        Text("I agree to everything"),
        Key("Enter"),
        Key("Backspace"),
        Key("Escape"),
        Scroll(history[0], history[1] - 200, 0, -300),
        Drag(history[0], history[1] - 300, history[0], history[1] - 100),
    ):
        tablet.inject(event, "agent")
    # Agent keys go to the apps, as always; nothing of the customer's changed.
    assert tablet.state()["customer_draft"] == "draft"
    assert actions.actions == []
    assert np.array_equal(tablet.capture(), frame)
    assert (tablet.state(), tablet.revision) == (state, revision)


def test_physical_keys_type_into_the_open_chat_only(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tap(tablet, "app.signin")
    tap(tablet, "signin.email", "customer")
    tablet.set_customer_view(OPEN)
    tablet.inject(Text("Hallo, geht’s?"), "customer")
    tablet.inject(Key("Backspace"), "customer")
    assert tablet.state()["customer_draft"] == "Hallo, geht’s"
    assert tablet.state()["fields"]["email"] == "", "the app's field got nothing"
    tablet.inject(Key("Enter"), "customer")
    tablet.inject(Key("Escape"), "customer")
    assert actions.actions == [("chat_send", "Hallo, geht’s"), ("chat_close", None)]
    # With the chat hidden, the customer's keys go to the app again.
    tablet.set_customer_view(SESSION)
    tablet.inject(Text("a@b.c"), "customer")
    assert tablet.state()["fields"]["email"] == "a@b.c"


def test_the_history_scrolls_and_shows_both_sides(tablet: SimulatedTablet) -> None:
    tablet.set_customer_view(replace(OPEN, chat=LINES))
    field = tablet.elements()["customer.chat_field"]
    newest = tablet.capture().copy()
    x, y = field.x + 100, field.y - 200
    assert tablet.inject(Scroll(x, y, 0, -400), "customer")
    older = tablet.capture().copy()
    assert not np.array_equal(newest, older)
    assert tablet.inject(Scroll(x, y, 0, 5000), "customer")
    assert np.array_equal(tablet.capture(), newest), "back at the newest line"
    assert tablet.inject(Drag(x, y - 50, x, y + 100), "customer")
    assert not np.array_equal(tablet.capture(), newest)


def test_a_new_line_peeks_then_folds_into_the_chat_button_with_its_count(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(SESSION)
    chat_button = tablet.elements()["customer.chat"]
    badge = type(chat_button)(chat_button.x + chat_button.width - 30, chat_button.y - 10, 40, 30)
    plain = region(tablet.capture(), badge)
    tablet.set_customer_view(replace(SESSION, chat=LINES[:1], chat_state="peek", chat_unread=1))
    assert {"customer.chat_peek", "customer.chat_dismiss"} <= tablet.elements().keys()
    assert "customer.key.a" not in tablet.elements(), "no keyboard while it only peeks"
    assert not np.array_equal(region(tablet.capture(), badge), plain), "the unread count shows"
    assert tap(tablet, "customer.chat_dismiss", "customer")
    assert tap(tablet, "customer.chat_peek", "customer")
    assert actions.actions == [("chat_close", None), ("chat_open", None)]
    tablet.set_customer_view(replace(SESSION, chat=LINES[:1], chat_state="closed", chat_unread=1))
    assert "customer.chat_peek" not in tablet.elements(), "nothing piles up over the apps"
    assert not np.array_equal(region(tablet.capture(), badge), plain)


def test_end_asks_first(tablet: SimulatedTablet, actions: Recorder) -> None:
    tablet.set_customer_view(replace(SESSION, control_active=True))
    assert tap(tablet, "customer.end", "customer")
    assert actions.actions == []
    assert {"customer.end_yes", "customer.end_no"} <= tablet.elements().keys()
    state, revision, frame = snapshot(tablet)
    assert tap(tablet, "customer.end_yes", "agent") is False
    assert tablet.inject(Tap(100, 100), "agent") is False, "modal: the agent changes nothing"
    assert (tablet.state(), tablet.revision) == (state, revision)
    assert np.array_equal(tablet.capture(), frame)
    assert tap(tablet, "customer.stop_control", "customer"), "taking control back always works"
    assert tap(tablet, "customer.end_no", "customer")
    assert "customer.end_yes" not in tablet.elements()
    assert tap(tablet, "customer.end", "customer")
    assert tap(tablet, "customer.end_yes", "customer")
    assert actions.actions == [("stop_control", None), ("end", None)]
    assert "customer.end_yes" not in tablet.elements()


def test_the_end_question_names_the_agent_in_the_customers_language(
    tablet: SimulatedTablet,
) -> None:
    tablet.set_customer_view(SESSION)
    tap(tablet, "customer.end", "customer")
    yes_en = region(tablet.capture(), tablet.elements()["customer.end_yes"])
    tablet.set_customer_view(replace(SESSION, locale="de"))
    yes_de = region(tablet.capture(), tablet.elements()["customer.end_yes"])
    assert not np.array_equal(yes_en, yes_de), "Yes and Ja look different"


def test_the_rating_card_thanks_and_takes_a_comment(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(CustomerView(phase="ended", rating_requested=True, agent_name="Anna"))
    assert tap(tablet, "customer.rate.5", "customer")
    assert tap(tablet, "customer.comment", "customer")
    type_keys(tablet, "kind")
    tablet.inject(Text(" and patient"), "customer")
    tablet.inject(Text(" (agent text)"), "agent")
    assert tap(tablet, "customer.comment_send", "customer")
    assert actions.actions == [("rate", 5), ("rate_comment", "kind and patient")]
    tablet.set_customer_view(
        CustomerView(phase="ended", rating_requested=True, rating=5, rating_comment_sent=True)
    )
    assert "customer.comment" not in tablet.elements()
    assert tablet.state()["rating"] == 5
    assert tap(tablet, "customer.rate_done", "customer")
    assert actions.actions[-1] == ("rate_done", None)
