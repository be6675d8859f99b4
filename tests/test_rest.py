"""REST API: open and protected endpoints, error bodies, TURN credentials, durable history."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any

import pytest

from server.appkeys import WRITER

from .conftest import AGENT_PASSWORD, MEMORY_ONLY, Desk, DeskFactory
from .support import assert_eventually


async def _post(
    desk: Desk, path: str, body: Any = None, data: bytes | None = None
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
    async with desk.http.post(f"{desk.url}{path}", **kwargs) as response:
        return response.status, await response.json()


async def test_health_and_metrics_are_open(desk: Desk) -> None:
    assert await desk.get("/healthz") == (200, {"ok": True})
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    await device.call("help.request", {})
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    status, text = await desk.get("/metrics")
    assert status == 200
    assert "mayday_time_to_ring_seconds_count 1.0" in text
    assert "mayday_time_to_accept_seconds_count 1.0" in text
    assert 'mayday_sessions{state="connecting"} 1.0' in text
    assert "mayday_queue_length 0.0" in text
    assert 'mayday_connected_sockets{role="device"} 1.0' in text
    assert 'mayday_connected_sockets{role="agent"} 1.0' in text


async def test_protected_endpoints_need_a_bearer_token(desk: Desk) -> None:
    for path in (
        "/api/queue",
        "/api/ice-servers",
        "/api/sessions/ses_x",
        "/api/sessions/ses_x/events",
    ):
        status, body = await desk.get(path)
        assert status == 401, path
        assert body["error"]["code"] == "unauthorized"
        status, body = await desk.get(path, token="forged.token.value")
        assert (status, body["error"]["code"]) == (401, "unauthorized")
    async with desk.http.get(f"{desk.url}/api/queue") as response:
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_queue_and_unknown_session(desk: Desk) -> None:
    await desk.add_agent("alice")
    token = await desk.token("alice")
    device, _ = await desk.device("lobby tablet")
    ticket = (await device.call("help.request", {"topic": "kindle", "locale": "de"}))["ticket"]
    status, queue = await desk.get("/api/queue", token)
    assert status == 200
    assert queue["length"] == 1
    assert queue["entries"][0] | {"waiting_since": 0} == {
        "ticket_id": ticket["id"],
        "topic": "kindle",
        "locale": "de",
        "device_name": "lobby tablet",
        "state": "queued",
        "position": 1,
        "waiting_since": 0,
    }
    status, body = await desk.get("/api/sessions/ses_nope", token)
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await desk.get("/api/no-such-thing", token)
    assert (status, body["error"]["code"]) == (404, "not_found")


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_ice_servers_carry_time_limited_turn_credentials(make_desk: DeskFactory) -> None:
    desk = await make_desk(
        stun_urls=["stun:127.0.0.1:3478"],
        turn_urls=["turn:127.0.0.1:3478?transport=udp"],
        turn_secret="shared-with-coturn",
        turn_ttl_s=600,
    )
    await desk.session("alice")  # TURN credentials are for the parties of a live session
    status, body = await desk.get("/api/ice-servers", await desk.token("alice"))
    assert status == 200
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:127.0.0.1:3478"]}
    expiry, _, user = turn["username"].partition(":")
    assert user.startswith("agent-agt_")
    assert 590 <= int(expiry) - time.time() <= 600
    expected = hmac.new(b"shared-with-coturn", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()


async def test_device_registration_honours_the_enrollment_key(make_desk: DeskFactory) -> None:
    desk = await make_desk(enrollment_key="let-me-in")
    status, body = await _post(desk, "/api/devices", {"name": "tablet"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await _post(desk, "/api/devices", {"name": "tablet", "enrollment_key": "nope"})
    assert status == 403
    status, body = await _post(
        desk, "/api/devices", {"name": "tablet", "enrollment_key": "let-me-in"}
    )
    assert status == 201
    assert body["device_id"].startswith("dev_")
    assert len(body["device_secret"]) >= 40


async def test_login_errors_are_clear(desk: Desk) -> None:
    await desk.add_agent("alice")
    status, body = await _post(desk, "/api/agents/login", {"name": "alice", "password": "wrong"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = await _post(desk, "/api/agents/login", {"name": "alice"})
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert "password" in body["error"]["message"]
    status, body = await _post(desk, "/api/agents/login", data=b"{not json")
    assert (status, body["error"]["code"]) == (400, "bad_request")
    status, body = await _post(desk, "/api/devices", data=b"x" * 100_000)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


async def _sign_in(desk: Desk, name: str, password: str) -> tuple[int, Any, str | None]:
    body = {"name": name, "password": password}
    async with desk.http.post(f"{desk.url}/api/agents/login", json=body) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


async def test_failed_sign_ins_lock_the_name_for_a_window(make_desk: DeskFactory) -> None:
    desk = await make_desk(login_max_failures=3, login_window_s=600)
    await desk.add_agent("alice")
    await desk.add_agent("bob")
    for name in ("alice", "nobody"):  # an unknown name is counted the same: no name probing
        for _ in range(3):
            status, body, _ = await _sign_in(desk, name, "guess")
            assert (status, body["error"]["code"]) == (401, "unauthorized")
        status, body, retry_after = await _sign_in(desk, name, "guess")
        assert (status, body["error"]["code"]) == (429, "rate_limited")
        assert retry_after is not None
        assert 1 <= int(retry_after) <= 600
        assert f"try again in {retry_after} s" in body["error"]["message"]
    # Locked means locked: the right password is not even checked until the window ends.
    status, body, _ = await _sign_in(desk, "alice", AGENT_PASSWORD)
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    status, body, _ = await _sign_in(desk, "bob", AGENT_PASSWORD)
    assert status == 200, body


async def test_concurrent_guesses_cannot_slip_past_the_bound(make_desk: DeskFactory) -> None:
    desk = await make_desk(login_max_failures=3, login_window_s=600)
    await desk.add_agent("alice")
    results = await asyncio.gather(*(_sign_in(desk, "alice", "guess") for _ in range(12)))
    assert sorted(status for status, _, _ in results) == [401] * 3 + [429] * 9


async def test_concurrent_sign_ins_with_the_right_password_all_succeed(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(login_max_failures=3, login_window_s=600)
    await desk.add_agent("alice")
    results = await asyncio.gather(*(_sign_in(desk, "alice", AGENT_PASSWORD) for _ in range(8)))
    assert [status for status, _, _ in results] == [200] * 8


async def test_a_successful_sign_in_clears_the_failures(make_desk: DeskFactory) -> None:
    desk = await make_desk(login_max_failures=3, login_window_s=600)
    await desk.add_agent("alice")
    for _ in range(2):
        for _ in range(2):
            assert (await _sign_in(desk, "alice", "guess"))[0] == 401
        status, body, _ = await _sign_in(desk, "alice", AGENT_PASSWORD)
        assert status == 200, body


async def test_a_lock_out_ends_with_its_window(make_desk: DeskFactory) -> None:
    desk = await make_desk(login_max_failures=2, login_window_s=2)
    await desk.add_agent("alice")
    for _ in range(2):
        assert (await _sign_in(desk, "alice", "guess"))[0] == 401
    assert (await _sign_in(desk, "alice", AGENT_PASSWORD))[0] == 429

    async def signs_in() -> bool:
        return (await _sign_in(desk, "alice", AGENT_PASSWORD))[0] == 200

    await assert_eventually(signs_in, message="the lock-out outlived its window")


@pytest.mark.parametrize("live_store", ["redis"], indirect=True)
async def test_every_process_counts_the_same_failures(make_desk: DeskFactory) -> None:
    """Two processes on one Redis (one process's memory is its own, so memory is not tried)."""
    first = await make_desk(login_max_failures=3, login_window_s=600)
    second = await make_desk(login_max_failures=3, login_window_s=600)
    await first.add_agent("alice")
    for desk in (first, second, first):
        assert (await _sign_in(desk, "alice", "guess"))[0] == 401
    for desk in (first, second):
        assert (await _sign_in(desk, "alice", AGENT_PASSWORD))[0] == 429


async def test_token_refresh(desk: Desk) -> None:
    await desk.add_agent("alice")
    token = await desk.token("alice")
    async with desk.http.post(
        f"{desk.url}/api/agents/refresh", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["agent"]["name"] == "alice"
    assert (await desk.get("/api/queue", body["token"]))[0] == 200


async def test_ended_session_history_is_durable(desk: Desk) -> None:
    agent = await desk.agent("alice")
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    await agent.call("session.end", {"session_id": ticket["id"], "reason": "resolved"})
    await desk.app[WRITER].flush()

    async def forgotten() -> bool:
        return await desk.desk.context.store.get_session(ticket["id"]) is None

    await assert_eventually(forgotten, message="an ended, stored session stays in live state")
    token = await desk.token("alice")
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", token)
    assert status == 200
    assert session["state"] == "ended"
    assert session["end_reason"] == "resolved"
    assert session["ended_by"] == "agent"
    assert session["agent"]["name"] == "alice"
    assert (
        session["created_at"] <= session["rung_at"] <= session["accepted_at"] <= session["ended_at"]
    )
    status, events = await desk.get(f"/api/sessions/{ticket['id']}/events", token)
    transitions = [
        (e["from_state"], e["to_state"]) for e in events["events"] if e["kind"] == "transition"
    ]
    assert transitions == [
        ("queued", "ringing"),
        ("ringing", "connecting"),
        ("connecting", "ended"),
    ]
    assert [e["seq"] for e in events["events"]] == list(range(1, len(events["events"]) + 1))


async def test_rest_edge_cases(desk: Desk) -> None:
    async with desk.http.post(f"{desk.url}/api/devices") as response:
        assert response.status == 201, "every registration field is optional"
    async with desk.http.get(f"{desk.url}/api/agents/login") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "POST"
        assert (await response.json())["error"]["code"] == "bad_request"


async def test_console_files_are_served_and_nothing_else(desk: Desk) -> None:
    status, page = await desk.get("/")
    assert status == 200
    assert "<html" in page.lower()
    for path in ("/../server/app.py", "/%2e%2e/pyproject.toml", "/.git/config", "/vendor/nope.js"):
        status, _ = await desk.get(path)
        assert status == 404, path
    status, body = await desk.get("/api/devices")
    assert (status, body["error"]["code"]) == (405, "bad_request")
