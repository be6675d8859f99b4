"""Roles and lock-outs as an operator manages them (README, docs/deploy.md §2, protocol.md §19.1):
`mayday agents add --role`, `set-role` and `unlock` against a running server, which holds them at
once; a lock-out is per name and address, so nobody locks a colleague out from elsewhere."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

from server.settings import Settings

from .conftest import Desk, DeskFactory

PASSWORD = "a-long-password"


@pytest.fixture
def live_store() -> str | None:
    """In memory and SQLite: the CLI writes the records a running server reads, the same on both."""
    return None


async def _mayday(settings: Settings, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "MAYDAY_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    assert process.returncode == 0, f"mayday {' '.join(args)}: {err.decode()}"
    return out.decode()


async def _login(desk: Desk, password: str, address: str) -> tuple[int, Any]:
    async with desk.http.post(
        f"{desk.url}/api/agents/login",
        json={"name": "sue", "password": password},
        headers={"X-Forwarded-For": address},
    ) as response:
        return response.status, await response.json()


async def test_roles_and_unlocks_from_the_command_line(
    make_desk: DeskFactory, settings: Settings
) -> None:
    desk = await make_desk(login_max_failures=2)
    added = await _mayday(settings, "agents", "add", "sue", "--role", "supervisor", stdin=PASSWORD)
    assert "supervisor sue" in added
    status, body = await _login(desk, PASSWORD, "198.51.100.1")
    assert (status, body["role"]) == (200, "supervisor")
    token = body["token"]
    assert (await desk.get("/api/wallboard", token))[0] == 200
    assert "role=supervisor" in await _mayday(settings, "agents", "list")

    # A new role signs the account out everywhere; it signs in again with the new role.
    await _mayday(settings, "agents", "set-role", "sue", "agent")
    assert (await desk.get("/api/queue", token))[0] == 401
    status, body = await _login(desk, PASSWORD, "198.51.100.1")
    assert (status, body["role"]) == (200, "agent")
    status, answer = await desk.get("/api/wallboard", body["token"])
    assert (status, answer["error"]["code"]) == (403, "forbidden")

    # A stranger's guesses lock the name out from the stranger's address only.
    for _ in range(2):
        assert (await _login(desk, "guess-guess", "203.0.113.66"))[0] == 401
    assert (await _login(desk, PASSWORD, "203.0.113.66"))[0] == 429
    assert (await _login(desk, PASSWORD, "198.51.100.1"))[0] == 200
    await _mayday(settings, "agents", "unlock", "sue")
    assert (await _login(desk, PASSWORD, "203.0.113.66"))[0] == 200
