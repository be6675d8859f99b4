"""The whole help flow over real socket.io clients against a real server on loopback."""

from __future__ import annotations

import asyncio

import pytest

import server.desk

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import assert_eventually


async def test_help_press_rings_agent_and_accept_starts_session(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, registered = await desk.device("kitchen tablet")

    ack = await device.call("help.request", {"topic": "general", "locale": "en-US"})
    assert ack["ok"] is True
    ticket = ack["ticket"]
    assert ticket["position"] == 1

    ring = await agent.next("ring")
    assert ring["ticket"]["ticket_id"] == ticket["id"]
    assert ring["ticket"]["device_name"] == "kitchen tablet"

    accepted = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert accepted == {"ok": True, "session_id": ticket["id"]}

    started_device = await device.next("session.started")
    started_agent = await agent.next("session.started")
    assert started_device["session_id"] == started_agent["session_id"] == ticket["id"]
    assert started_device["agent"]["name"] == "alice"
    assert started_agent["device"]["id"] == registered["device_id"]

    token = await desk.token("alice")
    status, body = await desk.get(f"/api/sessions/{ticket['id']}", token)
    assert status == 200
    assert body["state"] == "connecting"

    assert await device.call("session.end", {"session_id": ticket["id"]}) == {"ok": True}
    ended = await agent.next("session.ended")
    assert ended["ended_by"] == "device"

    status, body = await desk.get(f"/api/sessions/{ticket['id']}/events", token)
    assert status == 200
    kinds = [(e["kind"], e.get("to_state")) for e in body["events"]]
    assert kinds[0] == ("help.requested", None)
    assert ("transition", "ringing") in kinds
    assert kinds[-1] == ("transition", "ended")


async def test_second_customer_waits_with_position_and_moves_up(desk: Desk) -> None:
    agent = await desk.agent("alice")
    first, _ = await desk.device("first")
    second, _ = await desk.device("second")

    first_ticket = (await first.call("help.request", {"topic": "general"}))["ticket"]
    ring = await agent.next("ring")
    assert ring["ticket"]["ticket_id"] == first_ticket["id"]
    second_ticket = (await second.call("help.request", {"topic": "general"}))["ticket"]
    assert second_ticket["position"] == 2
    assert second_ticket["state"] == "queued"

    queue = await agent.next_matching("queue.update", lambda q: q["length"] == 2)
    assert [e["ticket_id"] for e in queue["entries"]] == [first_ticket["id"], second_ticket["id"]]
    assert queue["entries"][0]["state"] == "ringing"

    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    update = await second.next_matching("ticket.update", lambda u: u["ticket"]["position"] == 1)
    assert update["ticket"]["id"] == second_ticket["id"]

    await agent.call("session.end", {"session_id": first_ticket["id"], "reason": "resolved"})
    next_ring = await agent.next("ring")
    assert next_ring["ticket"]["ticket_id"] == second_ticket["id"]


async def test_wait_estimate_follows_agents_and_observed_handling_time(desk: Desk) -> None:
    lonely, _ = await desk.device("lonely")
    ticket = (await lonely.call("help.request", {}))["ticket"]
    assert ticket["estimated_wait_s"] is None, "no agent online: the wait is unknown"
    assert ticket["agents_online"] == 0, "nobody is available: the customer is told so"

    agent = await desk.agent("alice")
    update = await lonely.next_matching("ticket.update", lambda u: u["ticket"]["agents_online"])
    assert update["ticket"]["agents_online"] == 1, "an agent came: the customer hears it at once"
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    waiting, _ = await desk.device("waiting")
    ticket_behind = (await waiting.call("help.request", {}))["ticket"]
    assert ticket_behind["agents_online"] == 1
    assert ticket_behind["estimated_wait_s"] is None, "nothing handled yet: unknown, not a guess"

    await agent.call("session.end", {"session_id": ticket["id"], "reason": "resolved"})

    async def learned() -> bool:  # folded in at once, or at the next sweep with a shared store
        stats = await desk.desk.context.store.stats()
        return stats.handled == 1 and stats.handling_time_s < 60

    await assert_eventually(learned, message="the estimate never learned the handling time")


async def test_agents_who_cannot_serve_the_customer_do_not_count_as_online(desk: Desk) -> None:
    await desk.agent("german", languages=("de",))
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {"locale": "fr-FR"}))["ticket"]
    assert (ticket["agents_online"], ticket["estimated_wait_s"]) == (0, None)


async def test_declined_ring_goes_to_the_next_agent_and_not_back(desk: Desk) -> None:
    alice = await desk.agent("alice")
    bob = await desk.agent("bob")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]

    first = await alice.next("ring")  # alice has been idle longest
    assert await alice.call("ring.decline", {"ring_id": first["ring_id"]}) == {"ok": True}
    cancelled = await alice.next("ring.cancelled")
    assert cancelled == {"ring_id": first["ring_id"], "reason": "declined"}
    second = await bob.next("ring")
    assert second["ticket"]["ticket_id"] == ticket["id"]

    assert await bob.call("ring.decline", {"ring_id": second["ring_id"]}) == {"ok": True}
    await desk.add_agent("sue", role="supervisor")  # bob only declined: not his to read (§19.1)
    status, events = await desk.get(f"/api/sessions/{ticket['id']}/events", await desk.token("sue"))
    assert status == 200
    assert [e["kind"] for e in events["events"]].count("ring.declined") == 2
    assert alice.drain("ring") == []
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", await desk.token("sue"))
    assert session["state"] == "queued"


async def test_unanswered_ring_times_out_sets_agent_away_and_rings_the_next(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(ring_timeout_s=0.3)
    alice = await desk.agent("alice")
    device, _ = await desk.device()
    await device.call("help.request", {})
    ring = await alice.next("ring")
    bob = await desk.agent("bob")

    cancelled = await alice.next("ring.cancelled")
    assert cancelled == {"ring_id": ring["ring_id"], "reason": "timeout"}
    presence = await alice.next_matching("presence.update", lambda p: p["reason"] != "connected")
    assert presence["status"] == "away"
    assert (await bob.next("ring"))["ticket"]["ticket_id"] == ring["ticket"]["ticket_id"]
    late = await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert late["error"]["code"] == "not_found"


async def test_customer_is_routed_to_an_agent_with_language_and_skill(desk: Desk) -> None:
    english = await desk.agent("emma", languages=("en",), skills=("kindle",))
    german = await desk.agent("gerd", languages=("de",), skills=("kindle",))
    device, _ = await desk.device()
    await device.call("help.request", {"topic": "kindle", "locale": "de-DE"})
    ring = await german.next("ring")
    assert ring["ticket"]["locale"] == "de-DE"
    assert english.drain("ring") == []

    other, _ = await desk.device()
    await other.call("help.request", {"topic": "echo", "locale": "en"})
    await asyncio.sleep(0.1)
    assert english.drain("ring") == [], "emma has no 'echo' skill"


async def test_customer_cancels_while_ringing(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    assert await device.call("help.cancel", {"ticket_id": ticket["id"]}) == {"ok": True}
    assert await agent.next("ring.cancelled") == {"ring_id": ring["ring_id"], "reason": "cancelled"}
    ended = await device.next("session.ended")
    assert ended == {"session_id": ticket["id"], "reason": "cancelled", "ended_by": "device"}
    late = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert late["error"]["code"] == "not_found"
    # The agent is free again for the next customer.
    other, _ = await desk.device()
    await other.call("help.request", {})
    assert (await agent.next("ring"))["ring_id"] != ring["ring_id"]


async def test_pressing_help_twice_keeps_one_ticket(desk: Desk) -> None:
    device, _ = await desk.device()
    first = await device.call("help.request", {"topic": "general"})
    again = await device.call("help.request", {"topic": "general"})
    assert again["ticket"]["id"] == first["ticket"]["id"]
    assert len(await desk.desk.context.store.waiting()) == 1


async def test_away_agent_is_not_rung_until_available(desk: Desk) -> None:
    agent = await desk.agent("alice", available=False)
    device, _ = await desk.device()
    await device.call("help.request", {})
    await asyncio.sleep(0.1)
    assert agent.drain("ring") == []
    await agent.call("presence.set", {"status": "available"})
    assert (await agent.next("ring"))["ticket"]["device_name"] == "tablet"


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_session_started_carries_ice_servers_without_nulls(make_desk: DeskFactory) -> None:
    desk = await make_desk(stun_urls=["stun:127.0.0.1:3478"])
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    assert ticket["estimated_wait_s"] == 0
    ring = await agent.next("ring")
    update = await device.next_matching(
        "ticket.update", lambda u: u["ticket"]["state"] == "ringing"
    )
    assert update["ticket"]["estimated_wait_s"] == 0, "an agent is being rung for this customer"
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    started = await device.next("session.started")
    assert started["ice_servers"] == [{"urls": ["stun:127.0.0.1:3478"]}]


async def test_a_full_chat_refuses_more_lines_and_the_session_goes_on(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.desk, "MAX_CHAT_LINES", 3)
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    session_id = (await device.call("help.request", {}))["ticket"]["id"]
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    for i in range(3):
        sender = device if i % 2 else agent
        assert (await sender.call("chat.send", {"session_id": session_id, "text": f"{i}"}))["ok"]
    for sender in (device, agent):
        full = await sender.call("chat.send", {"session_id": session_id, "text": "more"})
        assert full["error"]["code"] == "rate_limited"
        assert "chat is full (3 lines)" in full["error"]["message"]
    assert (await agent.call("session.end", {"session_id": session_id}))["ok"] is True
    await device.next("session.ended")


async def test_chat_reaches_both_parties_and_the_timeline_and_notes_are_kept(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, _ = await desk.device("kitchen tablet")
    ticket = (await device.call("help.request", {}))["ticket"]
    early = await device.call("chat.send", {"session_id": ticket["id"], "text": "hello?"})
    assert early["error"]["code"] == "conflict"
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})

    ack = await agent.call(
        "chat.send", {"session_id": ticket["id"], "text": "Hi, I'm Alice <b>!</b>"}
    )
    assert ack["ok"] is True
    for client in (device, agent):
        line = await client.next("chat.message")
        assert (line["sender"], line["name"], line["text"]) == (
            "agent",
            "alice",
            "Hi, I'm Alice <b>!</b>",
        )
    await device.call("chat.send", {"session_id": ticket["id"], "text": "Thanks"})
    assert (await agent.next("chat.message"))["sender"] == "device"
    assert (await device.call("session.note", {"session_id": ticket["id"], "text": "x"}))["error"][
        "code"
    ] == "forbidden"
    assert await agent.call(
        "session.note", {"session_id": ticket["id"], "text": "paired speaker"}
    ) == {"ok": True}
    token = await desk.token("alice")
    _, body = await desk.get(f"/api/sessions/{ticket['id']}", token)
    assert body["notes"] == "paired speaker"
    _, events = await desk.get(f"/api/sessions/{ticket['id']}/events", token)
    chats = [e["detail"]["text"] for e in events["events"] if e["kind"] == "chat"]
    assert chats == ["Hi, I'm Alice <b>!</b>", "Thanks"]
