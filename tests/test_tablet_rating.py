"""The rating card's "Was your problem solved?" on the simulated tablet, and the answer's way to
the server's record and the agent.

The card asks once the stars are tapped, with big Yes / No buttons that only the customer can
press; the answer goes out in ``session.rate`` with the stars, and every later call (the comment)
repeats it, so neither the record nor the agent's wrap-up loses it (``device_agent/rating.py``).
The card's other steps (stars, comment, Close) are tested in ``tests/test_customer_chat.py`` and
``tests/test_tablet_customer.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import numpy as np

from device_agent import i18n
from device_agent.customer import CustomerView
from device_agent.screens.tablet import SimulatedTablet
from signaling import Event
from sim import HeadlessAgent

from .conftest import Desk
from .devices import registered_device
from .support import assert_eventually
from .tablet import Recorder, region, snapshot, tap
from .tablet import actions as actions
from .tablet import clock as clock
from .tablet import tablet as tablet

RATED = CustomerView(phase="ended", rating_requested=True, rating=4, agent_name="Anna")


def test_the_question_comes_after_the_stars(tablet: SimulatedTablet, actions: Recorder) -> None:
    tablet.set_customer_view(CustomerView(phase="ended", rating_requested=True))
    assert "customer.solved.yes" not in tablet.elements(), "stars first: the rating needs them"
    assert tap(tablet, "customer.rate.4", "customer")
    elements = tablet.elements()
    assert {"customer.solved.yes", "customer.solved.no", "customer.rate_done"} <= set(elements)
    for name in ("customer.solved.yes", "customer.solved.no"):
        assert elements[name].height >= 52, "a finger's target"
        assert elements[name].width >= 140, "a finger's target"
    assert tap(tablet, "customer.solved.yes", "customer")
    assert actions.actions == [("rate", 4), ("rate_solved", "yes")]


def test_only_the_customer_answers_and_may_change_the_answer(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(RATED)
    state, revision, frame = snapshot(tablet)
    assert tap(tablet, "customer.solved.no", "agent") is False
    assert actions.actions == []
    assert (tablet.state(), tablet.revision) == (state, revision)
    assert np.array_equal(tablet.capture(), frame)

    assert tap(tablet, "customer.solved.no", "customer")
    tablet.set_customer_view(replace(RATED, rating_solved=False))
    no_chosen = region(tablet.capture(), tablet.elements()["customer.solved.no"])
    assert tap(tablet, "customer.solved.yes", "customer")
    assert actions.actions == [("rate_solved", "no"), ("rate_solved", "yes")]
    tablet.set_customer_view(RATED)
    no_unanswered = region(tablet.capture(), tablet.elements()["customer.solved.no"])
    assert not np.array_equal(no_chosen, no_unanswered), "the chosen answer shows"


def test_the_question_is_optional_and_in_the_customers_language(
    tablet: SimulatedTablet, actions: Recorder
) -> None:
    tablet.set_customer_view(RATED)
    yes_en = region(tablet.capture(), tablet.elements()["customer.solved.yes"])
    tablet.set_customer_view(replace(RATED, locale="de"))
    yes_de = region(tablet.capture(), tablet.elements()["customer.solved.yes"])
    assert not np.array_equal(yes_en, yes_de), "Yes and Ja look different"
    assert i18n.text("de", "solved_prompt") == "Wurde Ihr Problem gelöst?"
    assert tap(tablet, "customer.rate_done", "customer")
    assert actions.actions == [("rate_done", None)], "Close without an answer"


async def test_stars_and_yes_reach_the_record_and_the_agent(desk: Desk) -> None:
    await desk.add_agent("alice")
    token = await desk.token("alice")
    agent = HeadlessAgent(desk.url, token)
    tablet = SimulatedTablet()
    device = await registered_device(desk.http, desk.url, tablet)
    rated: list[dict[str, Any]] = []

    async def on_rated(data: dict[str, Any]) -> None:
        rated.append(data)

    agent.client.on(Event.SESSION_RATED, on_rated)
    try:
        await agent.start()
        await device.start()
        assert tablet.tap("customer.help", origin="customer")
        session_id = await agent.accept((await agent.next_ring())["ring_id"])
        await assert_eventually(lambda: tablet.customer_view.phase == "connected")
        await agent.end_session()
        await asyncio.wait_for(device.ended.wait(), 10)
        await assert_eventually(lambda: "customer.rate.5" in tablet.elements())
        assert tablet.tap("customer.rate.5", origin="customer")
        await assert_eventually(lambda: "customer.solved.yes" in tablet.elements())
        assert tablet.tap("customer.solved.yes", origin="customer")
        await assert_eventually(lambda: tablet.customer_view.rating_solved is True)
        await assert_eventually(lambda: any(r.get("solved") is True for r in rated))

        # A comment afterwards repeats the answer: nothing it said is taken back.
        await device.rate_comment("Quick and kind.")
        await assert_eventually(lambda: any(r.get("comment") for r in rated))
        assert rated[-1] == {
            "session_id": session_id,
            "rating": 5,
            "comment": "Quick and kind.",
            "solved": True,
        }
        status, record = await desk.get(f"/api/sessions/{session_id}", token)
        assert status == 200
        assert (record["rating"], record["solved"]) == (5, True)
    finally:
        await device.close()
        await agent.close()
