"""Callback instead of waiting (docs/protocol.md §20.3): the customer leaves the line but keeps
their place; when an agent is free the server holds that agent and rings the customer's device;
an answer connects at once, a missed callback goes back to the queue with its place, a limited
number of times, then the ticket ends and the customer is told.
"""

from __future__ import annotations

from typing import Any

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import Client


async def _callback_ticket(desk: Desk, name: str = "tablet") -> tuple[Client, dict[str, Any]]:
    """A device whose customer pressed Help, then chose "Call me back"."""
    device, _ = await desk.device(name)
    ticket = (await device.call("help.request", {"topic": "kindle", "locale": "en-GB"}))["ticket"]
    assert ticket["callback"] is None
    ack = await device.call("callback.request", {"ticket_id": ticket["id"]})
    assert ack.get("ok") is True, ack
    return device, ack["ticket"]


async def _presence(agent: Client) -> list[str]:
    return [update["status"] for update in agent.drain("presence.update")]


async def test_a_free_agent_is_held_while_the_customer_is_rung_and_an_answer_connects(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(callback_retries=2)
    device, ticket = await _callback_ticket(desk)
    assert ticket["callback"]["missed"] == 0
    assert ticket["callback"]["tries_left"] == 2
    assert ticket["position"] == 1

    alice = await desk.agent("alice")
    calling = await alice.next("callback.calling")
    ring = await device.next("callback.ring")
    assert ring["ring_id"] == calling["ring_id"]
    assert ring["ticket_id"] == ticket["id"]
    assert ring["agent"]["name"] == "alice"
    assert ring["attempt"] == 1
    assert calling["ticket"]["callback"] is True
    assert calling["ticket"]["ticket_id"] == ticket["id"]
    # The agent does not answer a callback: the customer does.
    refused = await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert refused["error"]["code"] == "conflict", refused

    answered = await device.call("callback.answer", {"ring_id": ring["ring_id"], "accept": True})
    assert answered == {"ok": True}
    started = await device.next("session.started")
    assert started["session_id"] == ticket["id"]
    assert started["agent"]["name"] == "alice"
    assert (await alice.next("session.started"))["session_id"] == ticket["id"]
    assert alice.drain("ring") == []

    # The timeline says who connected: the customer answering the callback.
    token = await desk.token("alice")
    status, body = await desk.get(f"/api/sessions/{ticket['id']}/events", token)
    assert status == 200, body
    kinds = [(e["kind"], e.get("reason")) for e in body["events"]]
    assert ("callback.requested", "") in kinds
    assert ("transition", "callback answered") in kinds


async def test_a_missed_callback_keeps_its_place_then_ends_after_the_retries(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(callback_ring_s=0.5, callback_retries=1, callback_retry_s=0)
    first, ticket = await _callback_ticket(desk, "first")
    second, _ = await desk.device("second")
    behind = (await second.call("help.request", {}))["ticket"]
    assert behind["position"] == 2

    alice = await desk.agent("alice")
    ring = await first.next("callback.ring")
    await _presence(alice)  # what signing in said
    # Unanswered: missed once; the customer is told, keeps the head of the line, the agent is
    # not set away (it was the customer who did not answer) and is held for them again.
    cancelled = await first.next("callback.cancelled")
    assert cancelled == {"ring_id": ring["ring_id"], "reason": "timeout"}
    over = await alice.next_matching("ring.cancelled", lambda c: c["ring_id"] == ring["ring_id"])
    assert over["reason"] == "callback_missed"
    again = await first.next("callback.ring")
    assert again["attempt"] == 2
    assert "away" not in await _presence(alice)
    assert second.drain("session.started") == []
    missed = await first.next_matching(
        "ticket.update", lambda t: (t["ticket"]["callback"] or {}).get("missed") == 1
    )
    assert missed["ticket"]["callback"]["tries_left"] == 0
    assert missed["ticket"]["position"] == 1

    # "Not now" on the last try: the ticket ends, the customer is told why.
    ack = await first.call("callback.answer", {"ring_id": again["ring_id"], "accept": False})
    assert ack == {"ok": True}
    assert (await first.next("callback.cancelled"))["reason"] == "declined"
    ended = await first.next("session.ended")
    assert ended == {"session_id": ticket["id"], "reason": "callback_missed", "ended_by": "system"}

    # The one behind is served next: an ordinary ring at the agent.
    ring = await alice.next("ring")
    assert ring["ticket"]["ticket_id"] == behind["id"]
    assert "callback" not in ring["ticket"]


async def test_after_not_now_the_agent_serves_the_next_customer_until_the_retry_pause_is_over(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(callback_retries=2, callback_retry_s=1.5)
    first, ticket = await _callback_ticket(desk, "first")
    second, _ = await desk.device("second")
    behind = (await second.call("help.request", {}))["ticket"]

    alice = await desk.agent("alice")
    ring = await first.next("callback.ring")
    ack = await first.call("callback.answer", {"ring_id": ring["ring_id"], "accept": False})
    assert ack == {"ok": True}
    assert (await first.next("callback.cancelled"))["reason"] == "declined"
    # Not rung straight back ("not now" would be the answer again): the free agent is rung for
    # the customer behind, while the first keeps the head of the line.
    other = await alice.next("ring")
    assert other["ticket"]["ticket_id"] == behind["id"]
    assert first.drain("callback.ring") == []
    missed = await first.next_matching(
        "ticket.update", lambda t: (t["ticket"]["callback"] or {}).get("missed") == 1
    )
    assert missed["ticket"]["position"] == 1
    assert missed["ticket"]["callback"]["tries_left"] == 1

    # The agent passes on that one; after the pause the first customer is rung again.
    assert (await alice.call("ring.decline", {"ring_id": other["ring_id"]})) == {"ok": True}
    again = await first.next("callback.ring", timeout=10)
    assert again["attempt"] == 2
    ack = await first.call("callback.answer", {"ring_id": again["ring_id"], "accept": True})
    assert ack == {"ok": True}
    assert (await first.next("session.started"))["session_id"] == ticket["id"]


@MEMORY_ONLY
async def test_an_agent_who_withdraws_costs_the_customer_nothing(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(decline_hold_s=60)
    device, ticket = await _callback_ticket(desk)
    alice = await desk.agent("alice")
    ring = await device.next("callback.ring")
    assert (await alice.call("ring.decline", {"ring_id": ring["ring_id"]})) == {"ok": True}
    cancelled = await device.next("callback.cancelled")
    assert cancelled == {"ring_id": ring["ring_id"], "reason": "agent_cancelled"}

    # Not a miss; the next free agent is held for the customer instead.
    bob = await desk.agent("bob")
    ring = await device.next("callback.ring")
    assert ring["agent"]["name"] == "bob"
    assert ring["attempt"] == 1
    assert (await bob.next("callback.calling"))["ring_id"] == ring["ring_id"]
    ack = await device.call("callback.answer", {"ring_id": ring["ring_id"], "accept": True})
    assert ack == {"ok": True}
    assert (await device.next("session.started"))["agent"]["name"] == "bob"
    assert ticket["id"] == (await bob.next("session.started"))["session_id"]


@MEMORY_ONLY
async def test_callbacks_refuse_what_is_not_the_customers(desk: Desk) -> None:
    device, ticket = await _callback_ticket(desk)
    stranger, _ = await desk.device("stranger")
    refused = await stranger.call("callback.request", {"ticket_id": ticket["id"]})
    assert refused["error"]["code"] == "not_party", refused
    unknown = await device.call("callback.answer", {"ring_id": "rng_nope", "accept": True})
    assert unknown["error"]["code"] == "not_found", unknown
    malformed = await device.call("callback.answer", {"ring_id": "rng_x", "accept": "yes please"})
    assert malformed["error"]["code"] == "bad_request", malformed
    # Asking twice changes nothing.
    again = await device.call("callback.request", {"ticket_id": ticket["id"]})
    assert again["ticket"]["callback"] == ticket["callback"]
    # Agents do not take a callback by hand: the server rings the customer for the next free one.
    alice = await desk.agent("alice", available=False)
    taken = await alice.call("queue.take", {"ticket_id": ticket["id"]})
    assert taken["error"]["code"] == "conflict", taken

    alice_ring = await desk.agent("bob")
    ring = await device.next("callback.ring")
    other = await stranger.call("callback.answer", {"ring_id": ring["ring_id"], "accept": True})
    assert other["error"]["code"] == "not_party", other
    assert alice_ring.drain("session.started") == []
