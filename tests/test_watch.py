"""A supervisor watches a live session, joins it, leaves it (docs/protocol.md §19.3).

The customer is always told who watches; the screen reaches the watcher over a connection of its
own, whose messages the server marks with the watcher's id; a watcher writes in the chat only
once it joined, and never gets remote control.
"""

from __future__ import annotations

from typing import Any

from server.appkeys import RECORDS

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import Client, agent_auth


async def _supervisor(desk: Desk, name: str = "sue") -> tuple[Client, str]:
    await desk.add_agent(name, role="supervisor")
    client = await desk.client("agent").connect(agent_auth(await desk.token(name)))
    row = await desk.app[RECORDS].agent_by_name(name)
    assert row is not None
    return client, row.id


def _names(update: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["name"], w["mode"]) for w in update["watchers"]]


async def test_a_supervisor_watches_joins_and_leaves_and_the_customer_knows(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    device, alice, _, session_id = await desk.session("alice")
    sue, sue_id = await _supervisor(desk)

    ack = await sue.call("session.watch", {"session_id": session_id})
    assert ack.get("ok") is True, ack
    watched = ack["session"]
    assert (watched["mode"], watched["agent"]["name"]) == ("watch", "alice")
    assert isinstance(watched["ice_servers"], list)
    for party in (device, alice, sue):
        assert _names(await party.next("session.watchers")) == [("sue", "watch")]

    # The device offers sue a connection of her own; her answer reaches it as hers.
    offer = await device.call(
        "rtc.offer", {"session_id": session_id, "sdp": "v=0 for sue", "watcher_id": sue_id}
    )
    assert offer == {"ok": True}
    got = await sue.next("rtc.offer")
    assert (got["sdp"], got["watcher_id"]) == ("v=0 for sue", sue_id)
    assert not [e for e, d in alice.received if e == "rtc.offer" and d.get("watcher_id")]
    answer = await sue.call(
        "rtc.answer", {"session_id": session_id, "sdp": "v=0 sue", "watcher_id": "agt_other"}
    )
    assert answer == {"ok": True}
    relayed = await device.next("rtc.answer")
    assert (relayed["sdp"], relayed["watcher_id"]) == ("v=0 sue", sue_id)
    ice = await sue.call("rtc.ice", {"session_id": session_id, "candidate": None})
    assert ice == {"ok": True}
    assert (await device.next("rtc.ice"))["watcher_id"] == sue_id
    # The agent's own connection carries no watcher id, and nobody else's can be named.
    refused = await alice.call(
        "rtc.answer", {"session_id": session_id, "sdp": "v=0", "watcher_id": sue_id}
    )
    assert refused["error"]["code"] == "bad_request", refused
    refused = await device.call(
        "rtc.offer", {"session_id": session_id, "sdp": "v=0", "watcher_id": "agt_nobody"}
    )
    assert refused["error"]["code"] == "not_found", refused

    # Watching is read-only; joined, she writes; never control.
    line = {"session_id": session_id, "text": "Hello from the desk"}
    assert (await sue.call("chat.send", line))["error"]["code"] == "forbidden"
    assert (await sue.call("session.watch", {"session_id": session_id, "mode": "join"}))["ok"]
    assert _names(await device.next("session.watchers")) == [("sue", "join")]
    assert (await sue.call("chat.send", line)).get("ok") is True
    for party in (device, alice, sue):
        message = await party.next("chat.message")
        assert (message["sender"], message["name"], message["text"]) == (
            "supervisor",
            "sue",
            "Hello from the desk",
        )
    control = await sue.call("control.request", {"session_id": session_id})
    assert control["error"]["code"] == "not_party", control
    assert (await sue.call("session.end", {"session_id": session_id}))["error"]["code"] == (
        "not_party"
    )

    assert (await sue.call("session.leave", {"session_id": session_id})) == {"ok": True}
    assert _names(await device.next("session.watchers")) == []
    token = await desk.token("sue")
    status, body = await desk.get(f"/api/sessions/{session_id}/events", token)
    assert status == 200
    kinds = [e["kind"] for e in body["events"]]
    assert [k for k in kinds if k.startswith("supervisor.")] == [
        "supervisor.watching",
        "supervisor.joined",
        "supervisor.left",
    ]


async def test_a_watcher_who_drops_off_is_no_longer_shown(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    device, alice, _, session_id = await desk.session("alice")
    sue, _sue_id = await _supervisor(desk)
    assert (await sue.call("session.watch", {"session_id": session_id}))["ok"]
    assert _names(await device.next("session.watchers")) == [("sue", "watch")]
    await sue.close()
    assert _names(await device.next("session.watchers")) == []

    # Back, she watches again; the end of the session reaches her.
    sue = await desk.client("agent").connect(agent_auth(await desk.token("sue")))
    assert (await sue.call("session.watch", {"session_id": session_id}))["ok"]
    ended = await alice.call("session.end", {"session_id": session_id, "reason": "resolved"})
    assert ended.get("ok") is True, ended
    assert (await sue.next("session.ended"))["session_id"] == session_id


@MEMORY_ONLY
async def test_only_supervisors_watch_and_only_running_sessions(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    _device, alice, _, session_id = await desk.session("alice")
    bob = await desk.agent("bob", available=False)
    answer = await bob.call("session.watch", {"session_id": session_id})
    assert answer["error"]["code"] == "forbidden", answer
    answer = await bob.call("session.leave", {"session_id": session_id})
    assert answer["error"]["code"] == "forbidden", answer
    sue, _ = await _supervisor(desk)
    for payload, code in (
        ({"session_id": "ses_nothing"}, "not_found"),
        ({"session_id": session_id, "mode": "stare"}, "bad_request"),
    ):
        answer = await sue.call("session.watch", payload)
        assert answer["error"]["code"] == code, (payload, answer)
    # A supervisor serving the customer is its agent, not a watcher of it.
    await desk.add_agent("vera", role="supervisor")
    vera = await desk.client("agent").connect(agent_auth(await desk.token("vera")))
    assert (await vera.call("presence.set", {"status": "available"}))["ok"]
    device2, _ = await desk.device("second")
    await device2.call("help.request", {})
    ring = await vera.next("ring")
    assert (await vera.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]
    started = await vera.next("session.started")
    mine = await vera.call("session.watch", {"session_id": started["session_id"]})
    assert mine["error"]["code"] == "conflict", mine
    assert alice.sio.connected
