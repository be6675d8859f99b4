"""Routing with a big queue (``server/routing.py``): a customer far back whom a free agent can
serve is rung at once, however many wait ahead for busy agents; first come, first served holds
among those a free agent can serve.

The ring latency at 10,000 waiting is measured by ``bench/bigqueue.py``, not here. And a long
queue's pushes: a place far back that is refreshed less often still arrives.
"""

from __future__ import annotations

from server.desk.queue import TICKET_EXACT_POSITIONS
from server.live.line import WaitingLine
from server.live.records import AgentPresence, LiveSession
from server.routing import plan_rings

from .conftest import MEMORY_ONLY, Desk


def customer(index: int, locale: str, topic: str = "billing") -> LiveSession:
    return LiveSession(
        id=f"s{index:05d}",
        device_id=f"d{index:05d}",
        device_name=f"tablet {index}",
        topic=topic,
        locale=locale,
        created_at=float(index),
        queue_score=float(index),
        device_sid=f"sock-{index}",
    )


def agent(agent_id: str, languages: list[str], *, busy: bool = False) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id,
        name=agent_id,
        languages=languages,
        skills=[],
        status="available",
        sid=f"sock-{agent_id}",
        idle_since=0.0,
        session_id="elsewhere" if busy else None,
    )


def test_a_customer_behind_thousands_waiting_for_busy_agents_is_rung_at_once() -> None:
    waiting = [customer(i, "de") for i in range(10_000)] + [customer(10_000, "sv")]
    agents = [agent("de-busy", ["de"], busy=True), agent("sv-free", ["sv"])]
    assert plan_rings(WaitingLine.of(waiting), agents, now=20_000.0, decline_hold_s=60.0) == [
        ("s10000", "sv-free")
    ]


def test_first_come_first_served_among_those_a_free_agent_serves() -> None:
    waiting = [customer(i, "de" if i % 3 else "fr") for i in range(3_000)]
    agents = [
        agent("de-1", ["de"]),
        agent("busy", ["de", "fr"], busy=True),
        agent("fr-1", ["fr"]),
        agent("de-2", ["de"]),
    ]
    plan = plan_rings(WaitingLine.of(waiting), agents, now=10_000.0, decline_hold_s=60.0)
    assert sorted(plan) == [("s00000", "fr-1"), ("s00001", "de-1"), ("s00002", "de-2")]


def test_a_customer_nobody_signed_in_serves_is_widened_after_the_overflow_wait() -> None:
    waiting = [customer(i, "de") for i in range(5_000)] + [customer(5_000, "tr")]
    agents = [agent("de-busy", ["de"], busy=True), agent("sv-free", ["sv"])]
    assert (
        plan_rings(
            WaitingLine.of(waiting), agents, now=5_010.0, decline_hold_s=60.0, overflow_s=30.0
        )
        == []
    )
    assert plan_rings(
        WaitingLine.of(waiting), agents, now=5_031.0, decline_hold_s=60.0, overflow_s=30.0
    ) == [("s05000", "sv-free")]


@MEMORY_ONLY
async def test_a_place_far_back_held_back_is_pushed_when_due_though_nothing_else_moves(
    desk: Desk,
) -> None:
    """Places behind the first 50 are refreshed less often (docs/protocol.md ``ticket.update``);
    one held back must still arrive when due, not wait for the next change of the queue."""
    behind = TICKET_EXACT_POSITIONS + 5
    devices, tickets = [], []
    for index in range(behind):
        device, _ = await desk.device(f"tablet-{index}")
        tickets.append((await device.call("help.request", {}))["ticket"])
        devices.append(device)
    last = devices[-1]
    assert tickets[-1]["position"] == behind  # the ack's ticket: what the customer was told
    # The first customer leaves: every place moves up by one; nothing else happens afterwards.
    assert await devices[0].call("help.cancel", {"ticket_id": tickets[0]["id"]}) == {"ok": True}
    moved = await last.next_matching(
        "ticket.update", lambda u: u["ticket"]["position"] == behind - 1, timeout=10
    )
    assert moved["ticket"]["id"] == tickets[-1]["id"]
