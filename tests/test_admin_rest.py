"""The admin REST API (§19): accounts, sites and devices, against real servers in both
configurations (memory + SQLite, Redis + PostgreSQL).

Only an admin's token opens these routes: an agent's and a supervisor's are refused with
``forbidden``, no token with ``unauthorized``, and a refused call changes nothing. A change that
takes rights away holds at once (the account's old token is refused, its socket closed, with the
periodic credential check switched off so only the immediate path can close it), and an admin
cannot remove itself nor take the admin role from itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.appkeys import ORIGINS, RECORDS

from .conftest import AGENT_PASSWORD, Desk, DeskFactory
from .services import flush
from .support import Client, agent_auth, assert_eventually, device_auth, register_device

pytestmark = pytest.mark.timeout(90)

NEVER = 3600.0
"""A credential check period no test outlives: only the immediate path can close a socket."""
ADMIN = "root"
SHOP = "https://shop.example"
NEW_PASSWORD = "a brand new password"
REVOKED = "the agent token was revoked (signed out or password changed); sign in again"


@pytest.fixture
def live_store(request: pytest.FixtureRequest) -> str | None:
    """In memory and SQLite; the happy path of every route also on Redis and PostgreSQL (it asks
    for it): the refusals are the same on both, and one store keeps the suite within its time."""
    if getattr(request, "param", "memory") == "memory":
        return None
    url: str = request.getfixturevalue("redis_server")
    flush(url)
    return url


async def _call(
    desk: Desk, method: str, path: str, token: str | None, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = None if body is None else json.dumps(body)
    if data is not None:
        headers["Content-Type"] = "application/json"
    async with desk.http.request(
        method, f"{desk.url}{path}", data=data, headers=headers
    ) as response:
        return response.status, await response.json()


async def _admin_desk(make_desk: DeskFactory, **overrides: Any) -> tuple[Desk, str]:
    desk = await make_desk(**{"credential_check_s": NEVER, **overrides})
    await desk.add_agent(ADMIN, role="admin")
    return desk, await desk.token(ADMIN)


async def _login(desk: Desk, name: str, password: str = AGENT_PASSWORD) -> tuple[int, Any]:
    return await _call(
        desk, "POST", "/api/agents/login", None, {"name": name, "password": password}
    )


def _refused(answer: tuple[int, Any], status: int, code: str) -> str:
    """The one error body with ``status`` and ``code``; its message, for the test to read."""
    got_status, body = answer
    assert (got_status, list(body), body["error"]["code"]) == (status, ["error"], code), body
    message: str = body["error"]["message"]
    return message


async def _closed(client: Client) -> None:
    await assert_eventually(lambda: not client.sio.connected, message="the socket stayed open")


# --- accounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("live_store", ["memory", "redis"], indirect=True)
async def test_an_admin_adds_lists_changes_and_removes_accounts(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    status, body = await _call(desk, "GET", "/api/admin/agents", token)
    assert status == 200
    [root] = body["agents"]
    assert root["name"] == ADMIN
    assert root["role"] == "admin"
    assert root["display_name"] is None
    assert set(root) == {"id", "name", "display_name", "role", "languages", "skills", "created_at"}

    new = {
        "name": "zoe",
        "password": NEW_PASSWORD,
        "languages": ["DE", "en", "de"],
        "skills": ["Kindle"],
        "display_name": "  Zoe   K. ",
    }
    status, zoe = await _call(desk, "POST", "/api/admin/agents", token, new)
    assert status == 201, zoe
    assert {k: zoe[k] for k in ("name", "display_name", "role", "languages", "skills")} == {
        "name": "zoe",
        "display_name": "Zoe K.",
        "role": "agent",
        "languages": ["de", "en"],
        "skills": ["kindle"],
    }
    status, login = await _login(desk, "zoe", NEW_PASSWORD)
    assert (status, login["role"], login["agent"]["name"]) == (200, "agent", "Zoe K."), login
    # A second account with defaults, sorted by name in the list; no secret is ever shown.
    status, amy = await _call(
        desk, "POST", "/api/admin/agents", token, {"name": "amy", "password": NEW_PASSWORD}
    )
    assert status == 201, amy
    assert (amy["languages"], amy["skills"], amy["role"]) == (["en"], [], "agent")
    status, body = await _call(desk, "GET", "/api/admin/agents", token)
    assert [a["name"] for a in body["agents"]] == ["amy", ADMIN, "zoe"]
    assert "password" not in json.dumps(body)
    assert "generation" not in json.dumps(body)

    # Languages, skills and the display name change without signing the account out.
    zoe_token = login["token"]
    change = {"languages": ["fr"], "skills": ["router", "kindle"], "display_name": None}
    status, changed = await _call(desk, "PATCH", "/api/admin/agents/zoe", token, change)
    assert status == 200, changed
    assert (changed["languages"], changed["skills"], changed["display_name"]) == (
        ["fr"],
        ["router", "kindle"],
        None,
    )
    assert (await desk.get("/api/queue", zoe_token))[0] == 200
    status, login = await _login(desk, "zoe", NEW_PASSWORD)
    assert (login["languages"], login["skills"], login["agent"]["name"]) == (
        ["fr"],
        ["router", "kindle"],
        "zoe",
    )

    status, body = await _call(desk, "DELETE", "/api/admin/agents/zoe", token)
    assert (status, body) == (200, {"ok": True})
    _refused(await desk.get("/api/queue", zoe_token), 401, "unauthorized")
    _refused(await _login(desk, "zoe", NEW_PASSWORD), 401, "unauthorized")
    for method, path, sent in (
        ("DELETE", "/api/admin/agents/zoe", None),
        ("PATCH", "/api/admin/agents/zoe", {"skills": []}),
        ("POST", "/api/admin/agents/zoe/unlock", None),
        ("DELETE", "/api/admin/agents/" + "x" * 81, None),
    ):
        message = _refused(await _call(desk, method, path, token, sent), 404, "not_found")
        assert "no agent" in message


async def test_a_name_taken_already_is_a_conflict(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    await desk.add_agent("bob")
    body = {"name": "bob", "password": NEW_PASSWORD, "role": "admin"}
    message = _refused(await _call(desk, "POST", "/api/admin/agents", token, body), 409, "conflict")
    assert "bob" in message
    assert "exists" in message
    status, login = await _login(desk, "bob")
    assert (status, login["role"]) == (200, "agent")  # the existing account is untouched


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("POST", "/api/admin/agents", {"name": "x", "password": "short"}, "password"),
        ("POST", "/api/admin/agents", {"password": NEW_PASSWORD}, "name"),
        ("POST", "/api/admin/agents", {"name": "", "password": NEW_PASSWORD}, "name"),
        ("POST", "/api/admin/agents", {"name": "x" * 81, "password": NEW_PASSWORD}, "name"),
        ("POST", "/api/admin/agents", {"name": "x", "password": "p" * 1025}, "password"),
        (
            "POST",
            "/api/admin/agents",
            {"name": "x", "password": NEW_PASSWORD, "role": "boss"},
            "role",
        ),
        (
            "POST",
            "/api/admin/agents",
            {"name": "x", "password": NEW_PASSWORD, "languages": ["english"]},
            "languages.0",
        ),
        (
            "POST",
            "/api/admin/agents",
            {"name": "x", "password": NEW_PASSWORD, "skills": ["no spaces"]},
            "skills.0",
        ),
        (
            "POST",
            "/api/admin/agents",
            {"name": "x", "password": NEW_PASSWORD, "display_name": "   "},
            "display_name",
        ),
        (
            "POST",
            "/api/admin/agents",
            {"name": "x", "password": NEW_PASSWORD, "password_hash": "x"},
            "password_hash",
        ),
        ("POST", "/api/admin/agents", [1, 2], "payload"),
        ("PATCH", "/api/admin/agents/bob", {}, "at least one"),
        ("PATCH", "/api/admin/agents/bob", {"role": None}, "role cannot be null"),
        ("PATCH", "/api/admin/agents/bob", {"languages": None}, "languages cannot be null"),
        ("PATCH", "/api/admin/agents/bob", {"password": "short"}, "password"),
        ("PATCH", "/api/admin/agents/bob", {"name": "robert"}, "name"),
        ("POST", "/api/admin/sites", {"name": "shop"}, "origins"),
        ("POST", "/api/admin/sites", {"name": "shop", "origins": []}, "origins"),
        ("POST", "/api/admin/sites", {"name": "shop", "origins": [SHOP] * 21}, "origins"),
        ("POST", "/api/admin/sites", {"name": "shop", "origins": ["https://*.shop"]}, "wildcard"),
        (
            "POST",
            "/api/admin/sites",
            {"name": "shop", "origins": [SHOP, "https://shop.example/cart"]},
            "not an origin",
        ),
        ("POST", "/api/admin/sites", {"name": "shop", "origins": ["ftp://shop"]}, "http"),
    ],
)
async def test_bad_bodies_are_refused_with_a_clear_message(
    make_desk: DeskFactory, method: str, path: str, body: Any, says: str
) -> None:
    desk, token = await _admin_desk(make_desk)
    await desk.add_agent("bob")
    message = _refused(await _call(desk, method, path, token, body), 400, "bad_request")
    assert says in message, message
    # Nothing was changed.
    _status, agents = await _call(desk, "GET", "/api/admin/agents", token)
    assert [a["name"] for a in agents["agents"]] == ["bob", ADMIN]
    assert agents["agents"][0]["role"] == "agent"
    assert (await _call(desk, "GET", "/api/admin/sites", token))[1] == {"sites": []}
    assert (await _login(desk, "bob"))[0] == 200


async def test_a_body_that_is_no_json_is_refused(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    async with desk.http.post(
        f"{desk.url}/api/admin/agents",
        data=b"{not json",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        answer = response.status, await response.json()
    assert "JSON" in _refused(answer, 400, "bad_request")


async def test_a_role_change_signs_the_account_out_at_once(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    bob = await desk.agent("bob")
    bob_token = await desk.token("bob")
    bystander = await desk.agent("carol")

    status, changed = await _call(
        desk, "PATCH", "/api/admin/agents/bob", token, {"role": "supervisor"}
    )
    assert (status, changed["role"]) == (200, "supervisor"), changed
    await _closed(bob)
    assert _refused(await desk.get("/api/queue", bob_token), 401, "unauthorized") == REVOKED
    status, login = await _login(desk, "bob")
    assert (status, login["role"]) == (200, "supervisor")
    # The new role is the one the server enforces: a supervisor still cannot administer.
    _refused(await desk.get("/api/admin/agents", login["token"]), 403, "forbidden")
    again = await desk.client("agent").connect(agent_auth(login["token"]))
    assert again.sio.connected
    assert bystander.sio.connected  # nobody else was signed out
    assert (await desk.get("/api/queue", token))[0] == 200

    # Made an admin, bob administers; the same role again signs nobody out.
    await _call(desk, "PATCH", "/api/admin/agents/bob", token, {"role": "admin"})
    await _closed(again)
    bob_token = (await _login(desk, "bob"))[1]["token"]
    assert (await desk.get("/api/admin/agents", bob_token))[0] == 200
    status, _ = await _call(desk, "PATCH", "/api/admin/agents/carol", token, {"role": "agent"})
    assert status == 200
    assert bystander.sio.connected


async def test_a_password_change_signs_the_account_out_at_once(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    bob = await desk.agent("bob")
    bob_token = await desk.token("bob")
    status, changed = await _call(
        desk, "PATCH", "/api/admin/agents/bob", token, {"password": NEW_PASSWORD}
    )
    assert (status, changed["name"]) == (200, "bob")
    await _closed(bob)
    _refused(await desk.get("/api/queue", bob_token), 401, "unauthorized")
    _refused(await _login(desk, "bob"), 401, "unauthorized")
    assert (await _login(desk, "bob", NEW_PASSWORD))[0] == 200


async def test_removing_an_account_closes_its_socket_at_once(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    bob = await desk.agent("bob")
    status, body = await _call(desk, "DELETE", "/api/admin/agents/bob", token)
    assert (status, body) == (200, {"ok": True})
    await _closed(bob)


async def test_unlock_lets_a_locked_out_name_sign_in_again(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk, login_max_failures=3)
    await desk.add_agent("bob")
    for _ in range(3):
        _refused(await _login(desk, "bob", "a wrong guess"), 401, "unauthorized")
    _refused(await _login(desk, "bob"), 429, "rate_limited")  # even the right password

    status, body = await _call(desk, "POST", "/api/admin/agents/bob/unlock", token)
    assert (status, body) == (200, {"ok": True})
    status, login = await _login(desk, "bob")
    assert (status, login["agent"]["name"]) == (200, "bob")


async def test_an_admin_cannot_remove_or_demote_itself(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    for method, body in (("DELETE", None), ("PATCH", {"role": "supervisor"})):
        message = _refused(
            await _call(desk, method, f"/api/admin/agents/{ADMIN}", token, body), 409, "conflict"
        )
        assert "another admin" in message
        assert "CLI" in message
    # Still an admin, still signed in; what does not demote it is allowed.
    assert (await desk.get("/api/admin/agents", token))[0] == 200
    status, me = await _call(
        desk, "PATCH", f"/api/admin/agents/{ADMIN}", token, {"role": "admin", "skills": ["x"]}
    )
    assert (status, me["role"], me["skills"]) == (200, "admin", ["x"])
    assert (await desk.get("/api/admin/agents", token))[0] == 200

    # Another admin may do both.
    await desk.add_agent("other", role="admin")
    other = await desk.token("other")
    status, me = await _call(
        desk, "PATCH", f"/api/admin/agents/{ADMIN}", other, {"role": "supervisor"}
    )
    assert (status, me["role"]) == (200, "supervisor")
    _refused(await desk.get("/api/queue", token), 401, "unauthorized")
    status, body = await _call(desk, "DELETE", f"/api/admin/agents/{ADMIN}", other)
    assert (status, body) == (200, {"ok": True})


# --- who may call ------------------------------------------------------------------------------

ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/admin/agents", None),
    ("POST", "/api/admin/agents", {"name": "mallory", "password": NEW_PASSWORD, "role": "admin"}),
    ("PATCH", "/api/admin/agents/victim", {"role": "admin"}),
    ("POST", "/api/admin/agents/victim/unlock", None),
    ("DELETE", "/api/admin/agents/victim", None),
    ("GET", "/api/admin/sites", None),
    ("POST", "/api/admin/sites", {"name": "evil", "origins": ["https://evil.example"]}),
    ("DELETE", "/api/admin/sites/shop", None),
    ("GET", "/api/admin/devices", None),
    ("DELETE", "/api/admin/devices/{device_id}", None),
]
"""Every admin route, with a body that an admin's token would make succeed."""


async def test_only_an_admin_may_call_the_admin_routes(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    await desk.add_agent("victim")
    await desk.add_agent("plain")
    await desk.add_agent("boss", role="supervisor")
    site = await desk.app[RECORDS].add_site("shop", [SHOP])
    device = await register_device(desk.http, desk.url)
    callers = {"plain": await desk.token("plain"), "boss": await desk.token("boss")}

    for method, route, body in ROUTES:
        path = route.format(device_id=device["device_id"])
        for who, caller in callers.items():
            message = _refused(await _call(desk, method, path, caller, body), 403, "forbidden")
            assert message == "this needs an admin account", (who, method, path)
        _refused(await _call(desk, method, path, None, body), 401, "unauthorized")
        _refused(await _call(desk, method, path, "not-a-token", body), 401, "unauthorized")

    # Nothing was changed by the refused calls.
    records = desk.app[RECORDS]
    assert [row.name for row in await records.list_agents()] == ["boss", "plain", ADMIN, "victim"]
    assert (await records.agent_by_name("victim")).role == "agent"  # type: ignore[union-attr]
    assert [row.id for row in await records.list_sites()] == [site.id]
    assert await records.device(device["device_id"]) is not None
    for who, caller in callers.items():  # and the refused callers are still signed in
        assert (await desk.get("/api/queue", caller))[0] == 200, who

    # The admin's token makes every one of them succeed.
    for method, route, body in ROUTES:
        path = route.format(device_id=device["device_id"])
        status, answer = await _call(desk, method, path, token, body)
        assert status in (200, 201), (method, path, answer)


# --- sites --------------------------------------------------------------------------------------


@pytest.mark.parametrize("live_store", ["memory", "redis"], indirect=True)
async def test_an_admin_adds_lists_and_removes_sites(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk)
    body = {"name": "shop", "origins": ["HTTPS://Shop.Example:443/", SHOP, "http://localhost:8000"]}
    status, site = await _call(desk, "POST", "/api/admin/sites", token, body)
    assert status == 201, site
    assert site["name"] == "shop"
    assert site["origins"] == [SHOP, "http://localhost:8000"]  # as browsers write them, once each
    assert site["key"].startswith("site_")
    assert desk.app[ORIGINS].site_allows(SHOP)  # this process accepts its pages at once
    message = _refused(await _call(desk, "POST", "/api/admin/sites", token, body), 409, "conflict")
    assert "shop" in message
    status, listing = await _call(desk, "GET", "/api/admin/sites", token)
    assert (status, listing) == (200, {"sites": [site]})

    # A web visitor of the site is listed among the devices, and goes with its site.
    async with desk.http.post(
        f"{desk.url}/api/web/visitors", json={"site_key": site["key"]}, headers={"Origin": SHOP}
    ) as response:
        assert response.status == 201, await response.text()
        visitor = await response.json()
    status, devices = await _call(desk, "GET", "/api/admin/devices?kind=web", token)
    assert [(d["id"], d["kind"], d["site_id"]) for d in devices["devices"]] == [
        (visitor["device_id"], "web", site["id"])
    ]
    status, body = await _call(desk, "DELETE", "/api/admin/sites/shop", token)
    assert (status, body) == (200, {"ok": True})
    assert not desk.app[ORIGINS].site_allows(SHOP)
    assert (await _call(desk, "GET", "/api/admin/sites", token))[1] == {"sites": []}
    status, devices = await _call(desk, "GET", "/api/admin/devices?kind=web", token)
    assert (status, devices) == (200, {"devices": [], "total": 0})
    _refused(await _call(desk, "DELETE", "/api/admin/sites/shop", token), 404, "not_found")


# --- devices ------------------------------------------------------------------------------------


@pytest.mark.parametrize("live_store", ["memory", "redis"], indirect=True)
async def test_an_admin_pages_through_devices_and_removes_one(make_desk: DeskFactory) -> None:
    desk, token = await _admin_desk(make_desk, credential_check_s=0.2)
    registered = [await register_device(desk.http, desk.url, f"tablet-{i}") for i in range(5)]
    newest_first = [device["device_id"] for device in reversed(registered)]

    status, body = await _call(desk, "GET", "/api/admin/devices", token)
    assert status == 200
    assert body["total"] == 5
    assert [d["id"] for d in body["devices"]] == newest_first
    first = body["devices"][0]
    assert set(first) == {"id", "name", "kind", "site_id", "created_at"}
    assert (first["name"], first["kind"], first["site_id"]) == ("tablet-4", "device", None)
    status, body = await _call(
        desk, "GET", "/api/admin/devices?kind=device&limit=2&offset=1", token
    )
    assert (status, body["total"]) == (200, 5)
    assert [d["id"] for d in body["devices"]] == newest_first[1:3]
    status, body = await _call(desk, "GET", "/api/admin/devices?offset=5", token)
    assert (status, body) == (200, {"devices": [], "total": 5})

    for query in ("kind=phone", "limit=0", "limit=1001", "limit=x", "offset=-1", "limit=%C2%B2"):
        message = _refused(
            await _call(desk, "GET", f"/api/admin/devices?{query}", token), 400, "bad_request"
        )
        assert query.split("=")[0] in message, (query, message)

    # A removed device cannot sign in again, and its open socket is closed by the server's check.
    victim = registered[2]
    client = await desk.client("device").connect(device_auth(victim))
    path = f"/api/admin/devices/{victim['device_id']}"
    assert await _call(desk, "DELETE", path, token) == (200, {"ok": True})
    await _closed(client)
    assert (await _call(desk, "GET", "/api/admin/devices", token))[1]["total"] == 4
    _refused(await _call(desk, "DELETE", path, token), 404, "not_found")
    _refused(await _call(desk, "DELETE", "/api/admin/devices/no%20such", token), 404, "not_found")
