"""An agent hands its customer on: to a named colleague or back to the queue (docs/protocol.md
§19.4). The customer stays connected and is served by the next agent in a new session; the note
reaches that agent; remote control ends with the transfer; the timeline links the two sessions.
"""

from __future__ import annotations

from typing import Any

from server.appkeys import RECORDS

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import Client

NOTE = "Wi-Fi fixed; the printer still refuses. <b>not html</b>"


async def _agent_id(desk: Desk, name: str) -> str:
    row = await desk.app[RECORDS].agent_by_name(name)
    assert row is not None
    return row.id


async def _timeline(desk: Desk, session_id: str, token: str) -> list[dict[str, Any]]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", token)
    assert status == 200, body
    events: list[dict[str, Any]] = body["events"]
    return events


async def _granted_control(device: Client, agent: Client, session_id: str) -> None:
    asked = await agent.call("control.request", {"session_id": session_id})
    assert asked.get("ok") is True, asked
    request = await device.next("control.request")
    granted = await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert granted.get("ok") is True, granted


async def test_a_customer_handed_to_a_colleague_keeps_going_with_the_note(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(wrapup_s=30)
    device, alice, _, session_id = await desk.session("alice")
    assert await device.call("rtc.state", {"session_id": session_id, "state": "connected"}) == {
        "ok": True
    }
    await _granted_control(device, alice, session_id)
    bob = await desk.agent("bob")
    bob_id = await _agent_id(desk, "bob")
    device.received.clear()

    ack = await alice.call(
        "session.transfer",
        {"session_id": session_id, "to": "agent", "agent_id": bob_id, "note": NOTE},
    )
    assert ack.get("ok") is True, ack
    ticket_id = ack["ticket_id"]
    assert ticket_id != session_id

    # Control ends with the session it was given in: consent is given to a person.
    control = await device.next_matching("control.state", lambda c: c["state"] == "none")
    assert control["session_id"] == session_id
    ended = await device.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "transferred", "ended_by": "agent"}
    ended_for_alice = await alice.next("session.ended")
    assert ended_for_alice["reason"] == "transferred"
    await alice.next_matching("presence.update", lambda p: p["status"] == "wrapup")

    # Bob is rung with the note, and who handed the customer on.
    ring = await bob.next("ring")
    handed_on = ring["ticket"]["handed_on"]
    assert ring["ticket"]["ticket_id"] == ticket_id
    assert handed_on["note"] == NOTE
    assert handed_on["from_agent"]["name"] == "alice"
    assert (handed_on["to"], handed_on["to_agent"]["id"]) == ("agent", bob_id)
    assert handed_on["previous_session_id"] == session_id
    assert (await bob.call("ring.accept", {"ring_id": ring["ring_id"]})).get("ok") is True

    # The same device, connected all along, now with bob: it offers bob its screen anew.
    started = await device.next("session.started")
    assert (started["session_id"], started["agent"]["name"]) == (ticket_id, "bob")
    assert "handed_on" not in started or started["handed_on"] is None  # the note is not theirs
    started_for_bob = await bob.next("session.started")
    assert started_for_bob["handed_on"]["note"] == NOTE
    offer = await device.call("rtc.offer", {"session_id": ticket_id, "sdp": "v=0 fake"})
    assert offer == {"ok": True}
    assert (await bob.next("rtc.offer"))["session_id"] == ticket_id
    # Alice is out of it: the old session's media and control are refused to her.
    refused = await alice.call("control.request", {"session_id": session_id})
    assert refused["error"]["code"] == "not_found", refused

    # The timeline links the two sessions; bob reads both while he helps this customer.
    bob_token = await desk.token("bob")
    old = await _timeline(desk, session_id, bob_token)
    handed = next(e for e in old if e["kind"] == "transferred")
    assert handed["detail"]["next_session_id"] == ticket_id
    assert handed["detail"]["note"] == NOTE
    assert handed["actor"]["name"] == "alice"
    new = await _timeline(desk, ticket_id, bob_token)
    taken = next(e for e in new if e["kind"] == "transferred")
    assert taken["detail"]["previous_session_id"] == session_id
    # Another agent reads neither.
    await desk.add_agent("carol")
    carol = await desk.token("carol")
    assert (await desk.get(f"/api/sessions/{session_id}", carol))[0] == 404


async def test_back_to_the_queue_for_another_language(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    device, alice, _, session_id = await desk.session("alice")
    bob = await desk.agent("bob")  # English only: not for this customer now
    dora = await desk.agent("dora", languages=("de",))

    ack = await alice.call(
        "session.transfer",
        {"session_id": session_id, "to": "queue", "locale": "de-AT", "note": "Spricht Deutsch"},
    )
    assert ack.get("ok") is True, ack
    ring = await dora.next("ring")
    assert ring["ticket"]["locale"] == "de-AT"
    assert ring["ticket"]["handed_on"]["to"] == "queue"
    assert ring["ticket"]["handed_on"]["to_agent"] is None
    assert not [e for e, _ in bob.received if e == "ring"]
    assert (await dora.call("ring.accept", {"ring_id": ring["ring_id"]})).get("ok") is True
    started = await device.next_matching("session.started", lambda s: s["session_id"] != session_id)
    assert started["agent"]["name"] == "dora"


@MEMORY_ONLY
async def test_a_colleague_who_declines_lets_the_desk_take_over(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    _device, alice, _, session_id = await desk.session("alice")
    bob = await desk.agent("bob")
    ack = await alice.call(
        "session.transfer",
        {"session_id": session_id, "to": "agent", "agent_id": await _agent_id(desk, "bob")},
    )
    assert ack.get("ok") is True, ack
    ring = await bob.next("ring")
    carol = await desk.agent("carol")  # free too, but the customer is kept for bob
    assert (await bob.call("ring.decline", {"ring_id": ring["ring_id"]})).get("ok") is True
    again = await carol.next("ring")
    assert again["ticket"]["ticket_id"] == ack["ticket_id"]


@MEMORY_ONLY
async def test_a_transfer_that_cannot_be_done_changes_nothing(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    device, alice, _, session_id = await desk.session("alice")
    await desk.agent("busy", available=False)
    stranger = await desk.agent("stranger")
    busy_id = await _agent_id(desk, "busy")

    refusals: list[tuple[Client, dict[str, Any], str]] = [
        (alice, {"session_id": session_id, "to": "agent", "agent_id": busy_id}, "conflict"),
        (alice, {"session_id": session_id, "to": "agent", "agent_id": "agt_nobody"}, "not_found"),
        (
            alice,
            {"session_id": session_id, "to": "agent", "agent_id": await _agent_id(desk, "alice")},
            "conflict",
        ),
        (alice, {"session_id": session_id, "to": "agent"}, "bad_request"),
        (alice, {"session_id": session_id, "to": "queue", "agent_id": busy_id}, "bad_request"),
        (alice, {"session_id": session_id, "to": "somewhere"}, "bad_request"),
        (alice, {"session_id": session_id, "to": "queue", "note": "x" * 1001}, "bad_request"),
        (stranger, {"session_id": session_id, "to": "queue"}, "not_party"),
    ]
    for sender, payload, code in refusals:
        answer = await sender.call("session.transfer", payload)
        assert answer.get("error", {}).get("code") == code, (payload, answer)
    # The device cannot send it at all.
    answer = await device.call("session.transfer", {"session_id": session_id, "to": "queue"})
    assert answer["error"]["code"] == "forbidden", answer
    # Still the same session, still alice's.
    status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("alice"))
    assert (status, body["state"], body["agent"]["name"]) == (200, "connecting", "alice")
    assert not [e for e, _ in device.received if e == "session.ended"]
