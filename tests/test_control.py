"""Remote-control consent as the server enforces it: the second line behind the device."""

from __future__ import annotations

from typing import Any

from server.desk.control import MAX_INPUT_NOTES

from .conftest import Desk, DeskFactory
from .support import Client, device_auth

TAP = {"type": "tap", "x": 0.5, "y": 0.5}


async def _events(desk: Desk, session_id: str) -> list[dict[str, Any]]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", await desk.token("alice"))
    assert status == 200
    events: list[dict[str, Any]] = body["events"]
    return events


async def _grant(device: Client, agent: Client, session_id: str) -> None:
    asked = await agent.call("control.request", {"session_id": session_id})
    assert asked["control"]["state"] == "requested"
    request = await device.next("control.request")
    granted = await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert granted["control"]["state"] == "granted"
    await agent.next_matching("control.state", lambda s: s["state"] == "granted")


async def test_input_is_relayed_only_while_consent_holds(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session()
    payload = {"session_id": session_id, "seq": 1, "events": [TAP]}
    refused = await agent.call("control.input", payload)
    assert refused["error"]["code"] == "forbidden"
    assert "control.request" in refused["error"]["message"]

    assert (await agent.call("control.request", {"session_id": session_id}))["ok"] is True
    request = await device.next("control.request")
    assert request["agent"]["name"] == "alice"
    assert request["organisation"] == desk.desk.context.settings.organisation
    assert (await agent.call("control.input", payload))["error"]["code"] == "forbidden"

    wrong = await device.call(
        "control.grant", {"session_id": session_id, "request_id": "ctl_other"}
    )
    assert wrong["error"]["code"] == "conflict"
    await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    state = await agent.next_matching("control.state", lambda s: s["state"] == "granted")
    assert state["reason"] == "granted"

    assert await agent.call("control.input", payload) == {"ok": True}
    relayed = await device.next("control.input")
    assert relayed == {"session_id": session_id, "seq": 1, "events": [TAP]}

    revoked = await device.call("control.revoke", {"session_id": session_id})
    assert revoked["control"] == {
        "session_id": session_id,
        "state": "none",
        "reason": "revoked",
        "request_id": None,
        "lease_s": None,
    }
    assert (await agent.next_matching("control.state", lambda s: s["reason"] == "revoked"))[
        "state"
    ] == "none"
    again = await agent.call("control.input", payload | {"seq": 2})
    assert again["error"]["code"] == "forbidden"
    assert device.drain("control.input") == []

    kinds = [e["kind"] for e in await _events(desk, session_id)]
    for kind in ("control.requested", "control.granted", "control.revoked"):
        assert kind in kinds
    assert kinds.count("control.input_refused") == 3


async def test_refused_and_dropped_input_is_recorded_up_to_a_cap(desk: Desk) -> None:
    """A flood of input without consent stays refused, but does not grow the timeline forever."""
    device, agent, _, session_id = await desk.session()
    for seq in range(MAX_INPUT_NOTES + 5):
        payload = {"session_id": session_id, "seq": seq, "events": [TAP]}
        assert (await agent.call("control.input", payload))["error"]["code"] == "forbidden"
        dropped = {"session_id": session_id, "seq": seq, "count": 1, "reason": "not_allowed"}
        assert (await device.call("control.dropped", dropped))["ok"] is True
    assert device.drain("control.input") == []
    events = await _events(desk, session_id)
    for kind in ("control.input_refused", "control.input_dropped"):
        noted = [e for e in events if e["kind"] == kind]
        assert len(noted) == MAX_INPUT_NOTES
        assert [e["detail"]["seq"] for e in noted] == list(range(MAX_INPUT_NOTES))
        assert noted[-1]["reason"].endswith("further ones in this session are not recorded")
    # Consent still works as before once the customer allows it.
    await _grant(device, agent, session_id)
    payload = {"session_id": session_id, "seq": 999, "events": [TAP]}
    assert await agent.call("control.input", payload) == {"ok": True}


async def test_customer_denies(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session()
    await agent.call("control.request", {"session_id": session_id})
    request = await device.next("control.request")
    denied = await device.call(
        "control.deny", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert denied["control"]["state"] == "none"
    state = await agent.next_matching("control.state", lambda s: s["reason"] == "denied")
    assert state["state"] == "none"
    late = await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert late["error"]["code"] == "conflict", "a denied request cannot be granted later"


async def test_only_the_right_party_may_ask_or_answer(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session()
    other_agent = await desk.agent("mallory")
    assert (await other_agent.call("control.request", {"session_id": session_id}))["error"][
        "code"
    ] == "not_party"
    assert (await device.call("control.request", {"session_id": session_id}))["error"][
        "code"
    ] == "forbidden"
    await agent.call("control.request", {"session_id": session_id})
    request = await device.next("control.request")
    assert (
        await agent.call(
            "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
        )
    )["error"]["code"] == "forbidden", "an agent can never grant itself control"
    other_device, _ = await desk.device("other")
    assert (
        await other_device.call(
            "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
        )
    )["error"]["code"] == "not_party"


async def test_disconnect_suspends_and_the_lease_resumes(desk: Desk) -> None:
    device, agent, registered, session_id = await desk.session()
    await _grant(device, agent, session_id)
    await device.close()
    suspended = await agent.next_matching("control.state", lambda s: s["state"] == "suspended")
    assert suspended["lease_s"] == desk.desk.context.settings.control_lease_s
    payload = {"session_id": session_id, "seq": 5, "events": [TAP]}
    assert (await agent.call("control.input", payload))["error"]["code"] == "forbidden"

    again = await desk.client("device").connect(device_auth(registered))
    await again.next("session.started")
    resumed = await again.next_matching("control.state", lambda s: s["reason"] == "resumed")
    assert resumed["state"] == "granted"
    assert (await agent.call("control.input", payload)) == {"ok": True}
    assert (await again.next("control.input"))["seq"] == 5


async def test_consent_is_gone_after_the_lease(make_desk: DeskFactory) -> None:
    desk = await make_desk(control_lease_s=0.2)
    device, agent, registered, session_id = await desk.session()
    await _grant(device, agent, session_id)
    await device.close()
    expired = await agent.next_matching("control.state", lambda s: s["reason"] == "expired")
    assert expired["state"] == "none"
    again = await desk.client("device").connect(device_auth(registered))
    await again.next("session.started")
    payload = {"session_id": session_id, "seq": 1, "events": [TAP]}
    assert (await agent.call("control.input", payload))["error"]["code"] == "forbidden"


async def test_session_end_ends_control_and_the_customer_rates(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session()
    await _grant(device, agent, session_id)
    early = await device.call("session.rate", {"session_id": session_id, "rating": 5})
    assert early["error"]["code"] == "conflict"
    await agent.call("session.end", {"session_id": session_id, "reason": "resolved"})
    await device.next("session.ended")
    assert await device.call("session.rate", {"session_id": session_id, "rating": 4}) == {
        "ok": True
    }
    assert (await device.call("session.rate", {"session_id": session_id, "rating": 9}))["error"][
        "code"
    ] == "bad_request"
    stranger, _ = await desk.device("stranger")
    assert (await stranger.call("session.rate", {"session_id": session_id, "rating": 1}))["error"][
        "code"
    ] == "not_found"
    status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("alice"))
    assert (status, body["rating"]) == (200, 4)
    kinds = [e["kind"] for e in await _events(desk, session_id)]
    assert kinds[-3:] == ["control.ended", "transition", "session.rated"]
