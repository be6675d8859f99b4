"""Dropped sockets: a grace period to come back to the same session or queue place, then peer_lost."""

from __future__ import annotations

from .conftest import Desk, DeskFactory
from .support import agent_auth, assert_eventually, device_auth


async def test_device_reconnects_within_grace_and_resumes_the_same_session(desk: Desk) -> None:
    device, agent, registered, session_id = await desk.session()
    await device.close()
    lost = await agent.next("session.peer")
    assert lost["peer"] == "device"
    assert lost["connected"] is False
    assert lost["grace_s"] == desk.desk.context.settings.grace_period_s

    again = await desk.client("device").connect(device_auth(registered))
    resumed = await again.next("session.started")
    assert resumed["session_id"] == session_id
    assert resumed["resumed"] is True
    back = await agent.next("session.peer")
    assert (back["peer"], back["connected"]) == ("device", True)
    # Signaling flows again on the new socket.
    assert await again.call("rtc.offer", {"session_id": session_id, "sdp": "v=0"}) == {"ok": True}
    assert (await agent.next("rtc.offer"))["session_id"] == session_id

    token = await desk.token("alice")
    _, events = await desk.get(f"/api/sessions/{session_id}/events", token)
    kinds = [e["kind"] for e in events["events"]]
    assert kinds.count("peer.lost") == 1
    assert kinds.count("peer.back") == 1


async def test_agent_reconnects_within_grace_and_resumes(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session()
    await agent.close()
    lost = await device.next("session.peer")
    assert (lost["peer"], lost["connected"]) == ("agent", False)
    again = await desk.client("agent").connect(agent_auth(await desk.token("alice")))
    resumed = await again.next("session.started")
    assert (resumed["session_id"], resumed["resumed"]) == (session_id, True)
    assert (await device.next("session.peer"))["connected"] is True


async def test_session_ends_with_peer_lost_after_the_grace_period(make_desk: DeskFactory) -> None:
    desk = await make_desk(grace_period_s=0.3)
    device, agent, _, session_id = await desk.session()
    await device.close()
    ended = await agent.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "peer_lost", "ended_by": "system"}

    async def recorded() -> bool:
        status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("alice"))
        return status == 200 and body["state"] == "ended" and body["end_reason"] == "peer_lost"

    await assert_eventually(recorded)
    # The agent is free again.
    other, _ = await desk.device()
    await other.call("help.request", {})
    assert (await agent.next("ring"))["ticket"]["ticket_id"] != session_id


async def test_queued_customer_keeps_their_place_across_a_reconnect(desk: Desk) -> None:
    first, registered = await desk.device("first")
    second, _ = await desk.device("second")
    first_ticket = (await first.call("help.request", {}))["ticket"]
    second_ticket = (await second.call("help.request", {}))["ticket"]
    await first.close()
    again = await desk.client("device").connect(device_auth(registered))
    update = await again.next("ticket.update")
    assert update["ticket"] == first_ticket | {"state": "queued"}
    waiting = [s.id for s in await desk.desk.context.store.waiting()]
    assert waiting == [first_ticket["id"], second_ticket["id"]]

    agent = await desk.agent("alice")
    assert (await agent.next("ring"))["ticket"]["ticket_id"] == first_ticket["id"]


async def test_disconnected_customer_is_not_rung_and_ring_is_withdrawn(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, registered = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    await device.close()
    assert await agent.next("ring.cancelled") == {"ring_id": ring["ring_id"], "reason": "peer_lost"}
    again = await desk.client("device").connect(device_auth(registered))
    del again
    rung_again = await agent.next("ring")
    assert rung_again["ticket"]["ticket_id"] == ticket["id"]


async def test_a_newer_socket_replaces_the_older_one(desk: Desk) -> None:
    _device, agent, registered, session_id = await desk.session()
    newer = await desk.client("device").connect(device_auth(registered))
    assert (await newer.next("session.started"))["session_id"] == session_id

    async def old_dropped() -> bool:
        return not _device.sio.connected

    await assert_eventually(old_dropped, message="the replaced socket stayed connected")
    assert await newer.call("rtc.offer", {"session_id": session_id, "sdp": "v=0"}) == {"ok": True}
    assert agent.drain("session.peer") == [], "a replaced socket is not a lost peer"


async def test_a_replacing_agent_socket_makes_the_device_offer_again(desk: Desk) -> None:
    device, _agent, _, session_id = await desk.session()
    console_reload = await desk.client("agent").connect(agent_auth(await desk.token("alice")))
    resumed = await console_reload.next("session.started")
    assert (resumed["session_id"], resumed["resumed"]) == (session_id, True)
    back = await device.next("session.peer")
    assert back == {"session_id": session_id, "peer": "agent", "connected": True, "grace_s": None}


async def test_device_back_after_the_grace_period_learns_the_session_ended(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(grace_period_s=0.2)
    device, agent, registered, session_id = await desk.session()
    await device.close()
    await agent.next("session.ended")
    await desk.desk.context.writer.flush()
    late = await desk.client("device").connect(device_auth(registered))
    ended = await late.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "peer_lost", "ended_by": "system"}


async def test_one_socket_per_device_even_without_a_ticket(desk: Desk) -> None:
    first, registered = await desk.device()
    second = await desk.client("device").connect(device_auth(registered))

    async def first_dropped() -> bool:
        return not first.sio.connected

    await assert_eventually(first_dropped, message="two sockets of one device stayed connected")
    assert (await second.call("help.request", {}))["ok"] is True


async def test_a_device_away_when_the_agent_ended_learns_of_it_when_back(desk: Desk) -> None:
    """The agent ends the session while the device is reconnecting (say, through another server
    process during a rolling restart): the device is told the end, with its reason, when back."""
    device, agent, registered, session_id = await desk.session()
    await device.close()
    await agent.next("session.peer")
    assert await agent.call("session.end", {"session_id": session_id, "reason": "resolved"}) == {
        "ok": True
    }
    again = await desk.client("device").connect(device_auth(registered))
    ended = await again.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "resolved", "ended_by": "agent"}


async def test_a_device_that_saw_the_end_is_not_told_again(desk: Desk) -> None:
    device, agent, registered, session_id = await desk.session()
    assert await agent.call("session.end", {"session_id": session_id, "reason": "resolved"}) == {
        "ok": True
    }
    assert (await device.next("session.ended"))["reason"] == "resolved"
    await device.close()
    again = await desk.client("device").connect(device_auth(registered))
    # A round trip on the new socket: a session.ended sent on connect would have come before it.
    assert (await again.call("help.request", {}))["ticket"]
    assert again.drain("session.ended") == []
