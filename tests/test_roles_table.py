"""Every REST route and every socket event an account sends, called by each role (and by no
account), against a real server with a live session S between a device D and agent alice: the
answer each gets, written out here by hand (docs/protocol.md §19.1, §19.2), not derived from the
server's own tables, so a wrong entry on either side shows.

Callers: ``none`` (no token / cannot connect), ``agent`` (bob, not in S), ``supervisor`` (sue),
``admin`` (ada). None of them is a party of S: what they get is what their role gives them.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.appkeys import RECORDS
from signaling import INBOUND, Event
from signaling.openapi import OPERATIONS

from .conftest import Desk, DeskFactory
from .support import Client, agent_auth

CALLERS = ("none", "agent", "supervisor", "admin")
ACCOUNT = {"agent": "bob", "supervisor": "sue", "admin": "ada"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
S, D = "{S}", "{D}"
"""Stand-ins for the live session's and its device's ids in the table's paths and payloads."""


@pytest.fixture
def live_store() -> str | None:
    return None  # the checks are the same for both stores; one is enough for the table


Row = tuple[int, int, int, int]
"""The HTTP status for: no account, agent, supervisor, admin."""

ROUTES: dict[tuple[str, str], tuple[str, Any, Row]] = {
    # (method, route): (path, body, answers)
    ("GET", "/healthz"): ("/healthz", None, (200, 200, 200, 200)),
    ("GET", "/readyz"): ("/readyz", None, (200, 200, 200, 200)),
    ("GET", "/metrics"): ("/metrics", None, (200, 200, 200, 200)),
    ("POST", "/api/devices"): ("/api/devices", {"name": "another"}, (201, 201, 201, 201)),
    ("POST", "/api/agents/login"): (
        "/api/agents/login",
        {"name": "nobody", "password": "not it"},
        (401, 401, 401, 401),
    ),
    ("POST", "/api/web/visitors"): (
        "/api/web/visitors",
        {"site_key": "site_nosuchsite"},
        (404, 404, 404, 404),
    ),
    ("OPTIONS", "/api/web/visitors"): ("/api/web/visitors", None, (403, 403, 403, 403)),
    ("POST", "/api/agents/refresh"): ("/api/agents/refresh", None, (401, 200, 200, 200)),
    ("POST", "/api/agents/logout"): ("/api/agents/logout", None, (401, 200, 200, 200)),
    ("POST", "/api/agents/password"): (
        "/api/agents/password",
        {"password": "wrong one", "new_password": "another password"},
        (401, 403, 403, 403),
    ),
    ("GET", "/api/queue"): ("/api/queue", None, (401, 200, 200, 200)),
    ("GET", "/api/ice-servers"): ("/api/ice-servers", None, (401, 200, 200, 200)),
    # S is alice's: another agent does not even learn it exists; supervisors read everything.
    ("GET", "/api/sessions/{session_id}"): (f"/api/sessions/{S}", None, (401, 404, 200, 200)),
    ("GET", "/api/sessions/{session_id}/events"): (
        f"/api/sessions/{S}/events",
        None,
        (401, 404, 200, 200),
    ),
    # Only the session's own agent keeps screenshots, whatever the role.
    ("POST", "/api/sessions/{session_id}/screenshots"): (
        f"/api/sessions/{S}/screenshots",
        PNG,
        (401, 403, 403, 403),
    ),
    ("GET", "/api/sessions/{session_id}/screenshots/{screenshot_id}"): (
        f"/api/sessions/{S}/screenshots/shot_none",
        None,
        (401, 404, 404, 404),
    ),
    ("GET", "/api/devices/{device_id}/sessions"): (
        f"/api/devices/{D}/sessions",
        None,
        (401, 404, 200, 200),
    ),
    ("GET", "/api/colleagues"): ("/api/colleagues", None, (401, 200, 200, 200)),
    ("GET", "/api/canned-replies"): ("/api/canned-replies", None, (401, 200, 200, 200)),
    ("GET", "/api/wallboard"): ("/api/wallboard", None, (401, 403, 200, 200)),
    ("GET", "/api/reports/sessions"): ("/api/reports/sessions", None, (401, 403, 200, 200)),
    ("GET", "/api/admin/agents"): ("/api/admin/agents", None, (401, 403, 403, 200)),
    ("POST", "/api/admin/agents"): (
        "/api/admin/agents",
        {"name": "newcomer", "password": "a long password"},
        (401, 403, 403, 201),
    ),
    ("PATCH", "/api/admin/agents/{name}"): (
        "/api/admin/agents/nobody",
        {"role": "agent"},
        (401, 403, 403, 404),
    ),
    ("DELETE", "/api/admin/agents/{name}"): (
        "/api/admin/agents/nobody",
        None,
        (401, 403, 403, 404),
    ),
    ("POST", "/api/admin/agents/{name}/unlock"): (
        "/api/admin/agents/nobody/unlock",
        None,
        (401, 403, 403, 404),
    ),
    ("GET", "/api/admin/sites"): ("/api/admin/sites", None, (401, 403, 403, 200)),
    ("POST", "/api/admin/sites"): (
        "/api/admin/sites",
        {"name": "shop", "origins": ["https://shop.example"]},
        (401, 403, 403, 201),
    ),
    ("DELETE", "/api/admin/sites/{name}"): (
        "/api/admin/sites/nosuchsite",
        None,
        (401, 403, 403, 404),
    ),
    ("GET", "/api/admin/devices"): ("/api/admin/devices", None, (401, 403, 403, 200)),
    ("DELETE", "/api/admin/devices/{device_id}"): (
        "/api/admin/devices/dev_nosuchdevice",
        None,
        (401, 403, 403, 404),
    ),
}

EVENTS: dict[Event, tuple[dict[str, Any], tuple[str, str, str]]] = {
    # event: (payload, the ack's code for: agent, supervisor, admin) ("ok": accepted)
    Event.PRESENCE_SET: ({"status": "away"}, ("ok", "ok", "ok")),
    Event.RING_ACCEPT: ({"ring_id": "rng_over"}, ("not_found", "not_found", "not_found")),
    Event.RING_DECLINE: ({"ring_id": "rng_over"}, ("not_found", "not_found", "not_found")),
    Event.QUEUE_TAKE: ({"ticket_id": S}, ("conflict", "conflict", "conflict")),
    Event.SESSION_END: ({"session_id": S}, ("not_party", "not_party", "not_party")),
    Event.RTC_ANSWER: ({"session_id": S, "sdp": "v=0"}, ("not_party",) * 3),
    Event.RTC_ICE: ({"session_id": S}, ("not_party",) * 3),
    Event.RTC_STATE: ({"session_id": S, "state": "connected"}, ("not_party",) * 3),
    Event.CONTROL_REQUEST: ({"session_id": S}, ("not_party",) * 3),
    Event.CONTROL_RELEASE: ({"session_id": S}, ("not_party",) * 3),
    Event.CONTROL_INPUT: (
        {"session_id": S, "seq": 1, "events": [{"type": "tap", "x": 0.5, "y": 0.5}]},
        ("not_party",) * 3,
    ),
    Event.CHAT_SEND: ({"session_id": S, "text": "hello"}, ("not_party",) * 3),
    Event.SESSION_NOTE: ({"session_id": S, "text": "mine"}, ("not_party",) * 3),
    Event.SESSION_TRANSFER: ({"session_id": S, "to": "queue"}, ("not_party",) * 3),
    # The supervisors' events: an agent account is refused whatever it names.
    Event.SESSION_WATCH: ({"session_id": S}, ("forbidden", "ok", "ok")),
    Event.SESSION_LEAVE: ({"session_id": S}, ("forbidden", "ok", "ok")),
    Event.WALLBOARD_SUBSCRIBE: ({}, ("forbidden", "ok", "ok")),
    Event.WALLBOARD_UNSUBSCRIBE: ({}, ("forbidden", "ok", "ok")),
}


def _fill(value: Any, session_id: str, device_id: str) -> Any:
    if isinstance(value, str):
        return value.replace(S, session_id).replace(D, device_id)
    if isinstance(value, dict):
        return {k: _fill(v, session_id, device_id) for k, v in value.items()}
    return value


async def _accounts(desk: Desk) -> None:
    for role, name in ACCOUNT.items():
        await desk.add_agent(name, role=role)


def test_the_tables_name_every_route_and_every_event_an_account_sends() -> None:
    assert set(ROUTES) == {(op.method.upper(), op.path) for op in OPERATIONS}
    assert set(EVENTS) == set(INBOUND["agent"])


async def test_every_route_answers_each_role_as_documented(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    _device, _alice, registered, session_id = await desk.session("alice")
    await _accounts(desk)
    device_id = registered["device_id"]
    wrong: list[str] = []
    tokens = {role: await desk.token(name) for role, name in ACCOUNT.items()}
    for (method, _route), (path, body, answers) in ROUTES.items():
        for caller, expected in zip(CALLERS, answers, strict=True):
            headers: dict[str, str] = {}
            if caller != "none":
                headers["Authorization"] = f"Bearer {tokens[caller]}"
            kwargs: dict[str, Any] = {}
            if isinstance(body, bytes):
                kwargs["data"] = body
                headers["Content-Type"] = "image/png"
            elif body is not None:
                kwargs["json"] = _fill(body, session_id, device_id)
            url = desk.url + _fill(path, session_id, device_id)
            async with desk.http.request(method, url, headers=headers, **kwargs) as response:
                status = response.status
                answer = await response.text()
            if status != expected:
                wrong.append(
                    f"{method} {path} as {caller}: {status}, expected {expected}: {answer}"
                )
            if caller != "none" and path.endswith("/logout"):  # every token of it died: anew
                tokens[caller] = await desk.token(ACCOUNT[caller])
    assert not wrong, "\n".join(wrong)


async def test_every_event_answers_each_role_as_documented(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    _device, alice, _registered, session_id = await desk.session("alice")
    await _accounts(desk)
    wrong: list[str] = []
    for role in ("agent", "supervisor", "admin"):
        client: Client = await desk.client("agent").connect(
            agent_auth(await desk.token(ACCOUNT[role]))
        )
        for event, (payload, answers) in EVENTS.items():
            expected = answers[("agent", "supervisor", "admin").index(role)]
            ack = await client.call(event.value, _fill(payload, session_id, ""))
            code = "ok" if ack.get("ok") is True else ack.get("error", {}).get("code")
            if code != expected:
                wrong.append(f"{event} as {role}: {code} (expected {expected}) {ack}")
        await client.close()
    assert not wrong, "\n".join(wrong)
    # Nobody took anything from alice: her session is still hers and running.
    row = await desk.app[RECORDS].agent_by_name("alice")
    assert row is not None
    status, body = await desk.get(f"/api/sessions/{session_id}", await desk.token("alice"))
    assert (status, body["state"], body["agent"]["id"]) == (200, "connecting", row.id)
    assert alice.sio.connected


async def test_no_account_cannot_reach_the_agents_events(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    client = desk.client("agent")
    with pytest.raises(Exception):  # noqa: B017, PT011 (socket.io's ConnectionError, any kind)
        await client.connect({"token": "not-a-token"})
    assert client.connect_error is not None
    assert not client.sio.connected
