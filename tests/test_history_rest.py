"""A customer's history for the agent: ``GET /api/devices/{device_id}/sessions``, the device and its
sessions (newest first, limited) with agent, end reason, notes, rating and screenshots."""

from __future__ import annotations

from server.appkeys import WRITER

from .conftest import Desk


async def test_a_devices_sessions_newest_first(desk: Desk) -> None:
    agent = await desk.agent("alice", languages=("de",), skills=("kindle",))
    device, registered = await desk.device("kitchen tablet")
    device_id = registered["device_id"]
    ids = []
    for reason, note, rating in (("resolved", "new battery", 5), ("unresolved", "call back", 2)):
        ticket = (await device.call("help.request", {"topic": "kindle", "locale": "de"}))["ticket"]
        ids.append(ticket["id"])
        ring = await agent.next("ring")
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        await device.next("session.started")
        ack = await agent.call("session.note", {"session_id": ticket["id"], "text": note})
        assert ack.get("ok") is True, ack
        ack = await agent.call("session.end", {"session_id": ticket["id"], "reason": reason})
        assert ack.get("ok") is True, ack
        await device.next("session.ended")
        ack = await device.call("session.rate", {"session_id": ticket["id"], "rating": rating})
        assert ack.get("ok") is True, ack
        await agent.call("presence.set", {"status": "available"})  # done with the wrap-up
    await desk.app[WRITER].flush()
    token = await desk.token("alice")

    status, history = await desk.get(f"/api/devices/{device_id}/sessions", token)
    assert status == 200, history
    assert history["device"] | {"created_at": 0} == {
        "id": device_id,
        "name": "kitchen tablet",
        "kind": "device",
        "created_at": 0,
    }
    sessions = history["sessions"]
    assert [s["id"] for s in sessions] == ids[::-1]
    newest = sessions[0]
    assert (newest["end_reason"], newest["notes"], newest["rating"]) == (
        "unresolved",
        "call back",
        2,
    )
    assert (newest["topic"], newest["locale"], newest["state"]) == ("kindle", "de", "ended")
    assert newest["agent"]["name"] == "alice"
    assert newest["ended_by"] == "agent"
    assert newest["screenshots"] == []
    assert sessions[1]["rating"] == 5

    status, limited = await desk.get(f"/api/devices/{device_id}/sessions?limit=1", token)
    assert [s["id"] for s in limited["sessions"]] == [ids[1]]
    for bad in ("0", "101", "x", "-1"):
        status, answer = await desk.get(f"/api/devices/{device_id}/sessions?limit={bad}", token)
        assert (status, answer["error"]["code"]) == (400, "bad_request"), bad
    for path in ("/api/devices/dev_nope/sessions", "/api/devices/%00x/sessions"):
        status, answer = await desk.get(path, token)
        assert (status, answer["error"]["code"]) == (404, "not_found"), path
    status, answer = await desk.get(f"/api/devices/{device_id}/sessions")
    assert status == 401
