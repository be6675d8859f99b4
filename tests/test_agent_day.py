"""The agent's working day around a session: a decline never strands a customer, a waiting
customer can be taken from the queue by hand, after-call work (wrap-up) holds rings back, and the
customer's rating and comment reach the agent's wrap-up.

Real server, real Socket.IO clients, both live stores (``make_desk``).
"""

from __future__ import annotations

import asyncio

from .conftest import DeskFactory
from .support import assert_eventually

QUIET_S = 0.6
"""Long enough for a routing pass to have rung someone, had it wanted to (it runs in ~ms)."""


async def test_a_customer_declined_by_the_only_agent_is_rung_again_after_the_hold(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(decline_hold_s=1.5)
    alice = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    first = await alice.next("ring")
    assert await alice.call("ring.decline", {"ring_id": first["ring_id"]}) == {"ok": True}
    await asyncio.sleep(QUIET_S)
    assert alice.drain("ring") == [], "rung again inside the decline hold"

    again = await alice.next("ring", timeout=10)
    assert again["ticket"]["ticket_id"] == ticket["id"]
    await alice.call("ring.accept", {"ring_id": again["ring_id"]})
    started = await device.next("session.started")
    assert started["agent"]["name"] == "alice"


async def test_an_agent_takes_a_waiting_customer_from_the_queue_by_hand(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(decline_hold_s=600)
    alice = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await alice.next("ring")
    await alice.call("ring.decline", {"ring_id": ring["ring_id"]})

    # Declined, and held for ten minutes: routing leaves the customer to others, but alice
    # changed her mind and picks the ticket from her queue.
    ack = await alice.call("queue.take", {"ticket_id": ticket["id"]})
    assert ack == {"ok": True, "session_id": ticket["id"]}
    started = await device.next("session.started")
    assert (started["session_id"], started["agent"]["name"]) == (ticket["id"], "alice")
    assert (await alice.next("session.started"))["session_id"] == ticket["id"]

    status, events = await desk.get(
        f"/api/sessions/{ticket['id']}/events", await desk.token("alice")
    )
    assert status == 200
    reasons = [e["reason"] for e in events["events"] if e["kind"] == "transition"]
    assert "taken from the queue" in reasons

    # Taken already: nobody takes it twice; alice, now busy, cannot take another.
    bob = await desk.agent("bob")
    refused = await bob.call("queue.take", {"ticket_id": ticket["id"]})
    assert refused["error"]["code"] == "conflict"
    other, _ = await desk.device("other")
    other_ticket = (await other.call("help.request", {}))["ticket"]
    ring_for_bob = await bob.next("ring")
    assert ring_for_bob["ticket"]["ticket_id"] == other_ticket["id"]
    busy = await alice.call("queue.take", {"ticket_id": other_ticket["id"]})
    assert busy["error"]["code"] == "conflict", "the ticket is being rung at bob"
    unknown = await alice.call("queue.take", {"ticket_id": "ses_doesnotexist"})
    assert unknown["error"]["code"] == "not_found"


async def test_wrap_up_holds_rings_until_the_agent_is_done(make_desk: DeskFactory) -> None:
    desk = await make_desk(wrapup_s=300)
    _, alice, _, session_id = await desk.session("alice")
    second, _ = await desk.device("second")
    await second.call("help.request", {})
    await alice.call("session.end", {"session_id": session_id, "reason": "resolved"})

    presence = await alice.next_matching("presence.update", lambda p: p["status"] == "wrapup")
    assert presence["until"] > 0
    await asyncio.sleep(QUIET_S)
    assert alice.drain("ring") == [], "rung during wrap-up"

    # "Back to the queue": done with the wrap-up, the waiting customer rings at once.
    assert await alice.call("presence.set", {"status": "available"}) == {
        "ok": True,
        "status": "available",
    }
    ring = await alice.next("ring")
    assert ring["ticket"]["device_name"] == "second"


async def test_wrap_up_ends_by_itself_when_its_time_is_over(make_desk: DeskFactory) -> None:
    desk = await make_desk(wrapup_s=0.8)
    _, alice, _, session_id = await desk.session("alice")
    await alice.call("session.end", {"session_id": session_id, "reason": "resolved"})
    await alice.next_matching("presence.update", lambda p: p["status"] == "wrapup")
    over = await alice.next_matching("presence.update", lambda p: p["status"] != "wrapup")
    assert over == {"status": "available", "reason": "wrap-up time is over"}
    second, _ = await desk.device("second")
    await second.call("help.request", {})
    assert (await alice.next("ring"))["ticket"]["device_name"] == "second"


async def test_the_rating_and_comment_reach_the_agent_and_the_record(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(wrapup_s=300)
    device, alice, _, session_id = await desk.session("alice")
    await device.call("session.end", {"session_id": session_id, "reason": "resolved"})
    await device.next("session.ended")
    comment = "Anna fixed it <b>fast</b>"
    rate = {"session_id": session_id, "rating": 5, "comment": comment, "solved": True}
    assert await device.call("session.rate", rate) == {"ok": True}
    rated = await alice.next("session.rated")
    assert rated == {"session_id": session_id, "rating": 5, "comment": comment, "solved": True}

    async def recorded() -> bool:
        status, events = await desk.get(
            f"/api/sessions/{session_id}/events", await desk.token("alice")
        )
        return status == 200 and any(
            e["kind"] == "session.rated"
            and e["detail"].get("comment") == rate["comment"]
            and e["detail"].get("solved") is True
            for e in events["events"]
        )

    await assert_eventually(recorded, message="the comment is not in the session's record")
