"""The roles as an outsider checks them, from docs/protocol.md alone: `mayday server` in a process
of its own, one account per role made with `mayday agents add --role` (README), each signing in
over REST and walking every route and every event of §19.2's tables, which the test reads from
the document itself. What each role must get follows from the document's words: a route or event
above the caller's role is `403`/`forbidden`, one at or below it is never refused for the role.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from .outside import mayday, mayday_server, outside_env

ROOT = Path(__file__).resolve().parents[1]
MAYDAY = str(ROOT / ".venv" / "bin" / "mayday")
DOC = ROOT / "docs" / "protocol.md"
LADDER = ("agent", "supervisor", "admin")
PASSWORD = "a-long-password-for-roles"
TIMEOUT_S = 30


def _table_rows() -> list[list[str]]:
    text = DOC.read_text()
    start = text.index("### 19.2 Who may call what")
    section = text[start : text.index("\n### ", start + 10)]
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def documented_routes() -> list[tuple[str, str, str]]:
    """(method, path, role) of §19.2's route table: every route with a token, by the document."""
    routes = []
    for cells in _table_rows():
        found = re.fullmatch(r"`(GET|POST|PATCH|DELETE) (/api/\S+)`", cells[0])
        if found and cells[1] in LADDER:
            routes.append((found.group(1), found.group(2), cells[1]))
    return routes


def documented_events() -> list[tuple[str, str]]:
    """(event, role) of §19.2's event table, for the `/agent` namespace."""
    events = []
    for cells in _table_rows():
        if len(cells) == 4 and cells[1] == "agent":
            events += [(name, cells[2]) for name in re.findall(r"`([a-z.]+)`", cells[0])]
    return events


@dataclass
class Server:
    url: str
    env: dict[str, str]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    env = outside_env(tmp_path / "data")

    async def accounts() -> None:
        for role in LADDER:
            await mayday(env, "agents", "add", f"the-{role}", "--role", role, stdin=PASSWORD)

    async with mayday_server(env, tmp_path / "server.log", before_ready=accounts) as url:
        yield Server(url, env)


async def _sign_in(http: aiohttp.ClientSession, url: str, role: str) -> str:
    async with http.post(
        f"{url}/api/agents/login", json={"name": f"the-{role}", "password": PASSWORD}
    ) as response:
        body = await response.json()
    assert response.status == 200, body
    assert body["role"] == role, body  # §19.1: the login answer carries the role
    return str(body["token"])


def _may(caller: str, needed: str) -> bool:
    return LADDER.index(caller) >= LADDER.index(needed)


async def test_each_role_gets_what_the_document_says(server: Server) -> None:
    routes, events = documented_routes(), documented_events()
    assert len(routes) > 20, "the §19.2 route table was not found"
    assert len(events) > 15, "the §19.2 event table was not found"
    wrong: list[str] = []
    async with aiohttp.ClientSession() as http:
        for caller in LADDER:
            token = await _sign_in(http, server.url, caller)
            for method, path, needed in routes:
                if path.endswith(("/logout", "/password")):
                    continue  # would end the caller's token or change its password
                concrete = re.sub(r"\{(\w+)\}", lambda m: f"nosuch-{m.group(1)}", path)
                async with http.request(
                    method,
                    server.url + concrete,
                    json={} if method in ("POST", "PATCH") else None,
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    status = response.status
                    body: Any = await response.json(content_type=None)
                refused = status == 403 and body["error"]["code"] == "forbidden"
                if _may(caller, needed) == refused or status in (401, 500):
                    wrong.append(f"{method} {path} as {caller}: {status} {body}")

            sio = socketio.AsyncClient(reconnection=False)
            await sio.connect(
                server.url,
                namespaces=["/agent"],
                auth={"token": token, "protocol": 1},
                transports=["websocket"],
            )
            try:
                for event, needed in events:
                    ack = await sio.call(event, {}, namespace="/agent", timeout=10)
                    code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
                    # An empty payload is bad for most events: what matters is whether the
                    # role alone refused it, which the server checks before anything else of it.
                    if _may(caller, needed) == (code == "forbidden"):
                        wrong.append(f"{event} as {caller}: {ack}")
            finally:
                await sio.disconnect()
    assert not wrong, "\n".join(wrong)
