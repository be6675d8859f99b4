"""Bad clients get clear errors, and a live session between good clients carries on meanwhile."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
import socketio

from server.appkeys import SIGNER
from server.auth import TokenSigner

from .conftest import Desk
from .support import Client, agent_auth, device_auth


async def _refused(desk: Desk, role: str, auth: Any) -> dict[str, Any]:
    client = desk.client(role)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(auth)
    assert client.connect_error is not None
    error: dict[str, Any] = client.connect_error["data"]["error"]
    return error


async def _live_session(desk: Desk) -> tuple[Client, Client, str]:
    agent = await desk.agent("good-agent")
    device, _ = await desk.device("good device")
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    await device.next("session.started")
    return device, agent, ticket["id"]


async def _still_relays(device: Client, agent: Client, session_id: str) -> None:
    ack = await device.call("rtc.offer", {"session_id": session_id, "sdp": "v=0 still-alive"})
    assert ack == {"ok": True}
    offer = await agent.next("rtc.offer")
    assert offer == {"session_id": session_id, "sdp": "v=0 still-alive"}


async def test_wrong_device_secret_is_refused(desk: Desk) -> None:
    _, registered = await desk.device()
    auth = device_auth(registered) | {"device_secret": "not-the-secret"}
    assert (await _refused(desk, "device", auth))["code"] == "unauthorized"
    unknown = device_auth(registered) | {"device_id": "dev_nobody"}
    assert (await _refused(desk, "device", unknown))["code"] == "unauthorized"


async def test_missing_or_malformed_auth_is_refused(desk: Desk) -> None:
    assert (await _refused(desk, "device", None))["code"] == "unauthorized"
    assert (await _refused(desk, "agent", {"protocol": 1}))["code"] == "unauthorized"
    assert (await _refused(desk, "agent", {"protocol": 1, "token": "garbage"}))[
        "code"
    ] == "unauthorized"


async def test_wrong_protocol_version_is_refused(desk: Desk) -> None:
    _, registered = await desk.device()
    error = await _refused(desk, "device", device_auth(registered) | {"protocol": 99})
    assert error["code"] == "protocol_mismatch"
    assert "protocol 1" in error["message"]


async def test_expired_token_is_refused_on_socket_and_rest(desk: Desk) -> None:
    await desk.add_agent("alice")
    signer: TokenSigner = desk.app[SIGNER]
    token, _ = signer.issue("agt_whoever", "alice", now=time.time() - 2 * signer.ttl_s)
    assert (await _refused(desk, "agent", agent_auth(token)))["code"] == "token_expired"
    status, body = await desk.get("/api/queue", token)
    assert status == 401
    assert body["error"]["code"] == "token_expired"


async def test_device_credentials_do_not_open_the_agent_namespace(desk: Desk) -> None:
    _, registered = await desk.device()
    error = await _refused(desk, "agent", device_auth(registered))
    assert error["code"] == "unauthorized"


async def test_bad_events_get_error_acks_while_a_session_carries_on(desk: Desk) -> None:
    device, agent, session_id = await _live_session(desk)
    intruder_agent = await desk.agent("intruder")
    intruder_device, _ = await desk.device("intruder device")

    cases: list[tuple[Client, str, Any, str]] = [
        (device, "no.such.event", {}, "unknown_event"),
        (device, "ring.accept", {"ring_id": "rng_x"}, "forbidden"),
        (agent, "help.request", {}, "forbidden"),
        (device, "help.request", {"topic": "Not A Slug!"}, "bad_request"),
        (device, "help.request", {"topic": "ok", "extra": 1}, "bad_request"),
        (device, "help.request", ["not", "an", "object"], "bad_request"),
        (device, "rtc.offer", {"session_id": session_id}, "bad_request"),
        (
            device,
            "rtc.ice",
            {"session_id": session_id, "candidate": {"candidate": 5}},
            "bad_request",
        ),
        (agent, "presence.set", {"status": "asleep"}, "bad_request"),
        (agent, "ring.accept", {"ring_id": "rng_doesnotexist"}, "not_found"),
        (agent, "ring.accept", {"ring_id": "../../etc/passwd"}, "bad_request"),
        # The device is the offerer: an agent never sends an offer, a device never an answer.
        (intruder_agent, "rtc.offer", {"session_id": session_id, "sdp": "v=0"}, "forbidden"),
        (intruder_device, "rtc.answer", {"session_id": session_id, "sdp": "v=0"}, "forbidden"),
        (intruder_agent, "rtc.answer", {"session_id": session_id, "sdp": "v=0"}, "not_party"),
        (intruder_agent, "rtc.ice", {"session_id": session_id, "candidate": None}, "not_party"),
        (intruder_agent, "session.end", {"session_id": session_id}, "not_party"),
        (intruder_device, "rtc.offer", {"session_id": session_id, "sdp": "v=0"}, "not_party"),
        (intruder_device, "help.cancel", {"ticket_id": session_id}, "not_party"),
        (device, "help.cancel", {"ticket_id": session_id}, "conflict"),
        (device, "help.request", {}, "conflict"),
        (device, "session.end", {"session_id": "ses_unknown"}, "not_found"),
        (device, "rtc.offer", {"session_id": session_id, "sdp": "x" * 40_000}, "bad_request"),
        (device, "rtc.offer", {"session_id": session_id, "sdp": "x" * 70_000}, "payload_too_large"),
    ]
    for client, event, payload, code in cases:
        ack = await client.call(event, payload)
        assert "ok" not in ack, (event, payload, ack)
        assert ack["error"]["code"] == code, (event, ack)
        assert ack["error"]["message"], (event, ack)

    assert intruder_agent.drain("rtc.offer") == []
    assert device.drain("rtc.answer") == []
    await _still_relays(device, agent, session_id)
    status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("good-agent"))
    assert (status, body["state"]) == (200, "connecting")


async def test_no_rtc_relay_before_the_accept(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    await agent.next("ring")
    ack = await device.call("rtc.offer", {"session_id": ticket["id"], "sdp": "v=0"})
    assert ack["error"]["code"] == "conflict"
    # The ringing agent is not a party yet either.
    ack = await agent.call("rtc.answer", {"session_id": ticket["id"], "sdp": "v=0"})
    assert ack["error"]["code"] == "not_party"


async def test_websocket_from_a_foreign_origin_is_refused(make_desk: Any) -> None:
    desk: Desk = await make_desk(allowed_origins=["http://console.example"])
    _, registered = await desk.device()
    url = f"{desk.url}/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url, headers={"Origin": "http://evil.example"})
        assert refused.value.status == 400
        async with http.ws_connect(url, headers={"Origin": "http://console.example"}) as ws:
            opened = await ws.receive_str()
            assert opened.startswith("0{")
        # Behind a TLS-terminating proxy, the browser's origin is the proxy's.
        proxied = {
            "Origin": "https://support.example.org",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "support.example.org",
        }
        async with http.ws_connect(url, headers=proxied) as ws:
            assert (await ws.receive_str()).startswith("0{")
        # The server's own origin (a console it serves itself) stays allowed.
        own = desk.url
        async with http.ws_connect(url, headers={"Origin": own}) as ws:
            assert (await ws.receive_str()).startswith("0{")
    # Without an Origin header (a device, not a browser) the socket opens but must authenticate.
    assert (await _refused(desk, "device", {"protocol": 1}))["code"] == "unauthorized"
    await desk.client("device").connect(device_auth(registered))


async def test_a_device_never_acts_as_an_agent(desk: Desk) -> None:
    device, _, session_id = await _live_session(desk)
    for event, payload in [
        ("presence.set", {"status": "available"}),
        ("ring.decline", {"ring_id": "rng_x"}),
    ]:
        ack = await device.call(event, payload)
        assert ack["error"]["code"] == "forbidden"
    status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("good-agent"))
    assert status == 200
    assert body["agent"]["name"] == "good-agent"


async def test_binary_attachments_are_refused_and_the_session_goes_on(desk: Desk) -> None:
    device, agent, session_id = await _live_session(desk)
    # Small ones: an oversized frame is closed by Engine.IO's hard cap before it gets here.
    for payload in (
        {"session_id": session_id, "sdp": b"v=0"},
        {"session_id": session_id, "x": b"1"},
    ):
        ack = await device.call("rtc.offer", payload)
        assert ack["error"]["code"] == "bad_request", ack
        assert "binary" in ack["error"]["message"]
    assert agent.drain("rtc.offer") == [], "nothing binary reaches the other party"
    await _still_relays(device, agent, session_id)
