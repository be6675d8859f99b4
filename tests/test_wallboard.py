"""The supervisors' live wallboard (§19): subscribe, see the queue, the agents and the figures
change as customers and agents act, stop the pushes; agents may not subscribe.

Real server, real Socket.IO clients, both live stores (``make_desk``).
"""

from __future__ import annotations

from typing import Any

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import Client, agent_auth


async def supervisor(desk: Desk, name: str = "sue") -> Client:
    await desk.add_agent(name, role="supervisor")
    return await desk.client("agent").connect(agent_auth(await desk.token(name)))


def agent_named(board: dict[str, Any], name: str) -> dict[str, Any]:
    return next(agent for agent in board["agents"] if agent["name"] == name)


async def test_the_wallboard_follows_a_help_request_from_the_queue_to_the_figures(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    sue = await supervisor(desk)
    alice = await desk.agent("alice", languages=("en", "de"))
    ack = await sue.call("wallboard.subscribe", {})
    assert ack["ok"] is True
    first = ack["wallboard"]
    assert first["queue"] == []
    assert first["service_level_s"] == 15
    assert first["today"]["help_requests"] == 0
    assert first["today"]["service_level"] is None
    assert agent_named(first, "alice")["state"] == "available"
    assert agent_named(first, "sue")["role"] == "supervisor"

    device, registered = await desk.device("kitchen")
    ticket = (await device.call("help.request", {"topic": "kindle", "locale": "de-DE"}))["ticket"]
    queued = await sue.next_matching("wallboard.update", lambda b: len(b["queue"]) == 1)
    entry = queued["queue"][0]
    assert entry["ticket_id"] == ticket["id"]
    assert entry["position"] == 1
    assert (entry["topic"], entry["locale"], entry["language"]) == ("kindle", "de-DE", "de")
    assert entry["customer"] == {"id": registered["device_id"], "name": "kitchen", "kind": "device"}
    assert entry["kind"] == "live"
    assert entry["state"] in ("queued", "ringing")

    ring = await alice.next("ring")
    await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    serving = await sue.next_matching(
        "wallboard.update",
        lambda b: b["queue"] == [] and agent_named(b, "alice")["state"] == "in_session",
    )
    busy = agent_named(serving, "alice")
    assert busy["session_id"] == ticket["id"]
    assert busy["sessions_today"] == 1
    assert busy["since"] is not None
    assert busy["since"] <= serving["at"]
    assert serving["today"]["answered"] == 1
    assert serving["today"]["help_requests"] == 1

    await alice.call("session.end", {"session_id": ticket["id"], "reason": "resolved"})
    done = await sue.next_matching(
        "wallboard.update", lambda b: b["today"]["average_handle_time_s"] is not None
    )
    today = done["today"]
    assert (today["help_requests"], today["answered"], today["abandoned"]) == (1, 1, 0)
    assert today["answered_in_time"] == 1
    assert today["service_level"] == 1.0
    assert agent_named(done, "alice")["state"] == "available"
    assert done["hours"][-1]["answered"] == 1
    assert done["last_hour"]["answered"] == 1

    status, board = await desk.get("/api/wallboard", await desk.token("sue"))
    assert status == 200
    assert board["today"]["answered"] == 1


@MEMORY_ONLY
async def test_an_agent_account_may_not_watch_the_wallboard(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    alice = await desk.agent("alice", available=False)
    refused = await alice.call("wallboard.subscribe", {})
    assert refused["error"]["code"] == "forbidden"
    status, body = await desk.get("/api/wallboard", await desk.token("alice"))
    assert status == 403
    assert body["error"]["code"] == "forbidden"


@MEMORY_ONLY
async def test_unsubscribing_stops_the_pushes(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    sue = await supervisor(desk, "sue")
    sam = await supervisor(desk, "sam")
    assert (await sue.call("wallboard.subscribe", {}))["ok"] is True
    assert (await sam.call("wallboard.subscribe", {}))["ok"] is True
    assert await sue.call("wallboard.unsubscribe", {}) == {"ok": True}
    before = len([e for e, _ in sue.received if e == "wallboard.update"])

    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    await sam.next_matching(
        "wallboard.update", lambda b: [t["ticket_id"] for t in b["queue"]] == [ticket["id"]]
    )
    # Sam was pushed the change; a push to sue in the same round would have arrived before the
    # answer to her new subscription.
    again = await sue.call("wallboard.subscribe", {})
    assert [t["ticket_id"] for t in again["wallboard"]["queue"]] == [ticket["id"]]
    assert len([e for e, _ in sue.received if e == "wallboard.update"]) == before
