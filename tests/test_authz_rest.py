"""Every REST route authorizes its caller: a table with a row per route of the app's router is
called as each wrong party (no token, a garbage, expired or forged token, the token of an agent
that does not exist, was removed or signed out, a device's secret as a token, another agent) and
expects the documented answer, with nothing reaching the live session S between D and A.

The wrong tokens carry A's own id where they can (expired, forged), so that a route trusting the
claims would act on A: the marker after each call proves A's socket was neither closed nor told
anything, and at the end A's token still works.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.settings import Settings

from .conftest import DeskFactory
from .test_authz_socket import (
    CANNOT_SIGN_IN,
    World,
    add_agent,
    build_world,
    live_store,  # noqa: F401 (the module's fixture: memory only)
)

Party = Callable[[World], Awaitable[tuple[str | None, str]]]
"""A wrong caller: (the Authorization header's token, or none; the code a bearer route answers)."""


def _from_socket_table(who: str) -> Party:
    async def token(world: World) -> tuple[str | None, str]:
        make, code = CANNOT_SIGN_IN[who]
        _role, auth = await make(world)
        return auth["token"], code

    return token


async def _no_token(_world: World) -> tuple[str | None, str]:
    return None, "unauthorized"


async def _garbage(_world: World) -> tuple[str | None, str]:
    return "not-a-token", "unauthorized"


async def _device_secret(world: World) -> tuple[str | None, str]:
    return world.device_creds["device_secret"], "unauthorized"


OTHER_AGENT = "other-agent"
PARTIES: dict[str, Party] = {
    "no-token": _no_token,
    "garbage-token": _garbage,
    "device-secret-as-token": _device_secret,
    **{
        who: _from_socket_table(who)
        for who in (
            "expired-token",
            "forged-token",
            "token-of-no-agent",
            "removed-agent",
            "signed-out-agent",
        )
    },
}


@dataclass(frozen=True)
class Bearer:
    """A route for signed-in agents: what another (valid) agent gets from it."""

    other_agent: int
    body: Any = None


OPEN = "open"
"""A route open to anyone (§14): a token, good or bad, changes nothing about its answer."""

WRONG_PASSWORD = {"password": "not the password", "new_password": "another password"}
ROUTES: dict[tuple[str, str], Bearer | str] = {
    ("POST", "/api/agents/refresh"): Bearer(200),  # its own fresh token
    ("POST", "/api/agents/logout"): Bearer(200),  # signs itself out, nobody else
    ("POST", "/api/agents/password"): Bearer(403, WRONG_PASSWORD),
    ("GET", "/api/queue"): Bearer(200),
    ("GET", "/api/ice-servers"): Bearer(200),
    # An agent reads only the sessions it took part in (§19): another's is not found.
    ("GET", "/api/sessions/{session_id}"): Bearer(404),
    ("GET", "/api/sessions/{session_id}/events"): Bearer(404),
    # Only the session's agent keeps a screenshot with it; any agent reads them (§14).
    ("POST", "/api/sessions/{session_id}/screenshots"): Bearer(403),
    ("GET", "/api/sessions/{session_id}/screenshots/{screenshot_id}"): Bearer(404),
    # A customer's history: only the sessions the agent took part in (§19); any agent reads the
    # desk's canned replies (§14).
    ("GET", "/api/devices/{device_id}/sessions"): Bearer(404),
    ("GET", "/api/canned-replies"): Bearer(200),
    ("GET", "/api/wallboard"): Bearer(403),  # supervisors' (§19)
    ("GET", "/api/reports/sessions"): Bearer(403),
    ("GET", "/api/colleagues"): Bearer(200),  # who takes a transfer: every account reads it
    # Accounts, sites and devices: admins only (§19); an agent is refused before any body is read.
    ("GET", "/api/admin/agents"): Bearer(403),
    ("POST", "/api/admin/agents"): Bearer(403, {"name": "mallory", "password": "p" * 12}),
    ("PATCH", "/api/admin/agents/{name}"): Bearer(403, {"role": "admin"}),
    ("DELETE", "/api/admin/agents/{name}"): Bearer(403),
    ("POST", "/api/admin/agents/{name}/unlock"): Bearer(403),
    ("GET", "/api/admin/sites"): Bearer(403),
    ("POST", "/api/admin/sites"): Bearer(403, {"name": "evil", "origins": ["https://evil.test"]}),
    ("DELETE", "/api/admin/sites/{name}"): Bearer(403),
    ("GET", "/api/admin/devices"): Bearer(403),
    ("DELETE", "/api/admin/devices/{device_id}"): Bearer(403),
    ("GET", "/healthz"): OPEN,
    ("GET", "/metrics"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("POST", "/api/devices"): OPEN,
    ("POST", "/api/agents/login"): OPEN,
    ("POST", "/api/web/visitors"): OPEN,
    ("OPTIONS", "/api/web/visitors"): OPEN,
    ("GET", "/widget.js"): OPEN,
    ("GET", "/widget.js.map"): OPEN,
    ("GET", "/vendor/{name}"): OPEN,
    ("GET", "/"): OPEN,
    ("GET", "/{path}"): OPEN,
    ("GET", "/socket.io/"): OPEN,
    ("POST", "/socket.io/"): OPEN,
    ("OPTIONS", "/socket.io/"): OPEN,
}
"""One row per (method, route); HEAD is answered by the GET row's handler and has its row."""
BODIES = {
    "/api/devices": {"name": "drive-by"},
    "/api/agents/login": {"name": "nobody", "password": "not the password"},
    "/api/web/visitors": {"site_key": "site_nosuchsite"},
}
FILL = {"name": "nope.js", "path": "index.html", "screenshot_id": "shot_none"}
"""Route parameters other than the session and the device: a vendored file that is not there, a
console file, a screenshot that is not there."""


def _router_routes() -> list[tuple[str, str]]:
    """Every (method, route) the real app serves."""
    app = create_app(Settings(data_dir=Path("/nonexistent"), secret_key="k" * 40))
    return sorted({(r.method, r.resource.canonical) for r in app.router.routes() if r.resource})


ROUTER = _router_routes()


def row_of(method: str, route: str) -> Bearer | str:
    row = ROUTES.get(("GET" if method == "HEAD" else method, route))
    if row is None:
        pytest.fail(f"{method} {route} has no row in ROUTES: say who may call it")
    return row


def test_the_table_has_a_row_for_every_route() -> None:
    served = {("GET" if m == "HEAD" else m, route) for m, route in ROUTER}
    assert served == set(ROUTES)


@pytest.mark.parametrize(("method", "route"), ROUTER, ids=[f"{m} {r}" for m, r in ROUTER])
async def test_a_route_answers_a_wrong_caller_as_documented(
    make_desk: DeskFactory, method: str, route: str
) -> None:
    row = row_of(method, route)
    world = await build_world(await make_desk(), full=False)
    fill = FILL | {"session_id": world.session_id, "device_id": world.device_creds["device_id"]}
    path = route.format(**fill)
    body = row.body if isinstance(row, Bearer) else BODIES.get(route)

    async def call(token: str | None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        url = f"{world.desk.url}{path}"
        async with world.desk.http.request(method, url, json=body, headers=headers) as response:
            if response.content_type == "application/json" and method != "HEAD":
                return response.status, await response.json()
            return response.status, None

    anonymous = (await call(None))[0]
    for who, party in PARTIES.items():
        token, code = await party(world)
        status, answer = await call(token)
        if row == OPEN:  # the same answer as without a token: a token neither helps nor hurts
            assert status == anonymous, f"{method} {path} as {who}: {status} != {anonymous}"
            assert status < 500, (who, status, answer)
        else:
            assert status == 401, f"{method} {path} as {who}: {status} {answer}"
            if method != "HEAD":
                assert answer["error"]["code"] == code, (who, answer)
                assert list(answer) == ["error"], (who, answer)
        await world.untouched(f"{method} {path} as {who}")

    _bob_id, bob = await add_agent(world.desk, "bob-again")
    status, answer = await call(bob)
    expected = row.other_agent if isinstance(row, Bearer) else anonymous
    assert status == expected, f"{method} {path} as {OTHER_AGENT}: {status} {answer}"
    await world.untouched(f"{method} {path} as {OTHER_AGENT}")
    assert (await world.desk.get("/api/queue", world.agent_token))[0] == 200, "A was signed out"
