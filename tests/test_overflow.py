"""Nobody waits in vain (docs/protocol.md §20.1, §20.2): a customer whom no signed-in agent can
serve is told so at once and, after ``MAYDAY_OVERFLOW_S``, rung at any free agent, one who speaks
their language first; outside the opening hours the customer is told when the desk opens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from server.settings import Settings

from .conftest import MEMORY_ONLY, Desk, DeskFactory

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


async def _events(desk: Desk, session_id: str, agent: str) -> list[dict[str, object]]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", await desk.token(agent))
    assert status == 200, body
    events: list[dict[str, object]] = body["events"]
    return events


@MEMORY_ONLY  # the store's side of it (the new ticket fields) runs on both in test_callback.py
async def test_a_customer_nobody_speaks_for_is_told_and_served_after_the_overflow_time(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(overflow_s=1.0)
    alice = await desk.agent("alice", languages=("en",))
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {"topic": "kindle", "locale": "de-DE"}))["ticket"]
    # Told at once: nobody who speaks German is signed in; routing widens at widens_at.
    assert ticket["matched"] is False
    assert ticket["widened"] is False
    assert ticket["agents_online"] == 0
    assert ticket["widens_at"] is not None

    ring = await alice.next("ring", timeout=10)
    assert ring["ticket"]["widened"] is True
    assert ring["ticket"]["locale"] == "de-DE"
    widened = await device.next_matching("ticket.update", lambda u: u["ticket"]["widened"])
    assert widened["ticket"]["widens_at"] is None
    assert widened["ticket"]["agents_online"] == 1
    await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert (await device.next("session.started"))["agent"]["name"] == "alice"

    # Not before the overflow time: the ring came after the moment the customer was told.
    rung = [e for e in await _events(desk, ticket["id"], "alice") if e.get("to_state") == "ringing"]
    assert rung
    assert float(str(rung[0]["at"])) >= ticket["widens_at"]


@MEMORY_ONLY
async def test_widened_routing_rings_the_customers_language_first(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(overflow_s=0.5)
    # Bob has waited longest, but only Carla speaks Dutch; neither knows the topic.
    bob = await desk.agent("bob", languages=("en",), skills=("printer",))
    carla = await desk.agent("carla", languages=("nl", "en"), skills=("printer",))
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {"topic": "kindle", "locale": "nl-NL"}))["ticket"]
    assert ticket["matched"] is False
    ring = await carla.next("ring", timeout=10)
    assert ring["ticket"]["ticket_id"] == ticket["id"]
    assert bob.drain("ring") == []


@MEMORY_ONLY
async def test_a_customer_someone_can_serve_waits_for_them(make_desk: DeskFactory) -> None:
    desk = await make_desk(overflow_s=0)
    anna = await desk.agent("anna", languages=("de",))
    device, _ = await desk.device()
    first = (await device.call("help.request", {"locale": "de-AT"}))["ticket"]
    ring = await anna.next("ring")
    await anna.call("ring.accept", {"ring_id": ring["ring_id"]})
    # Anna is busy; Bob is free but speaks no German: a matched customer waits for Anna.
    bob = await desk.agent("bob", languages=("en",))
    other, _ = await desk.device("other")
    second = (await other.call("help.request", {"locale": "de-DE"}))["ticket"]
    assert second["matched"] is True
    assert second["widens_at"] is None
    third, _ = await desk.device("third")
    english = (await third.call("help.request", {"locale": "en"}))["ticket"]
    ring = await bob.next("ring")
    assert ring["ticket"]["ticket_id"] == english["id"]
    assert first["id"] != second["id"]


def _closed_today(zone: ZoneInfo) -> tuple[str, float]:
    """Opening hours that are closed all of today in ``zone``, and when they open next."""
    today = datetime.now(UTC).astimezone(zone)
    tomorrow = today + timedelta(days=1)
    opens = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, 0, tzinfo=zone)
    return f"{OSM_DAYS[tomorrow.weekday()]} 08:00-20:00", opens.timestamp()


@MEMORY_ONLY
async def test_outside_opening_hours_the_customer_is_told_when_the_desk_opens(
    make_desk: DeskFactory,
) -> None:
    zone = ZoneInfo("Pacific/Auckland")
    hours, opens_at = _closed_today(zone)
    desk = await make_desk(opening_hours=hours, time_zone="Pacific/Auckland")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    assert ticket["opens_at"] == opens_at
    assert ticket["agents_online"] == 0
    # The customer asks for a callback instead of waiting through the night.
    ack = await device.call("callback.request", {"ticket_id": ticket["id"]})
    assert ack["ticket"]["callback"]["missed"] == 0
    assert ack["ticket"]["opens_at"] == opens_at

    # An agent working late serves whoever comes: the desk is not "closed" to them.
    alice = await desk.agent("alice")
    ring = await device.next("callback.ring")
    assert (await alice.next("callback.calling"))["ring_id"] == ring["ring_id"]


def test_hours_that_do_not_parse_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="opening hours 'whenever we feel like it'"):
        Settings(opening_hours="whenever we feel like it")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(time_zone="Mars/Olympus")
