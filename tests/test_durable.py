"""What a client was told is done survives ``kill -9`` of the server right after the ack.

The record writer batches: a snapshot handed to it is written some 20 ms later, together with
others. Without waiting for that write, a session end or an agent's notes acknowledged to the
client would be lost with the process (with the live state in memory, nothing else holds them).
The test runs one real ``mayday server`` (live state in memory, records in SQLite: the setup
with the least to fall back on), kills it the moment each ack arrives, starts it again on the same
data and reads the record back over REST.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from .services import free_port, wait_healthy
from .support import Client, agent_auth, device_auth, login, register_device

PASSWORD = "durable-password"


@contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mayday.cli", "server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def add_agent(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "mayday.cli", "agents", "add", "alice"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )


def kill_now(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


async def record(http: aiohttp.ClientSession, url: str, session_id: str) -> dict[str, Any]:
    token = (await login(http, url, "alice", PASSWORD))["token"]
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{url}/api/sessions/{session_id}", headers=headers) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def ack_then_kill(
    http: aiohttp.ClientSession, env: dict[str, str], log: Path, event: str, payload: dict[str, Any]
) -> str:
    """On a fresh server process: a session between alice and a new device, ``event`` (with the
    session's id added to ``payload``) acknowledged ``ok`` to alice, then ``kill -9`` at once.
    Returns the session's id."""
    with server(env, log) as (url, process):
        agent = Client(url, "agent")
        device = Client(url, "device")
        try:
            token = (await login(http, url, "alice", PASSWORD))["token"]
            await agent.connect(agent_auth(token))
            await agent.call("presence.set", {"status": "available"})
            await device.connect(device_auth(await register_device(http, url)))
            session_id = str((await device.call("help.request", {}))["ticket"]["id"])
            ring = await agent.next("ring")
            await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
            await agent.next("session.started")
            ack = await agent.call(event, {"session_id": session_id, **payload})
            assert ack == {"ok": True}, ack
            kill_now(process)
        finally:
            await agent.close()
            await device.close()
    return session_id


async def test_an_acknowledged_end_and_notes_survive_kill_9(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")
    }
    env.update(
        MAYDAY_DATA_DIR=str(tmp_path / "data"),
        MAYDAY_SECRET_KEY="durable-signing-key-" + "x" * 24,
        MAYDAY_LOG_LEVEL="warning",
    )
    add_agent(env)
    log = tmp_path / "server.log"
    notes = "Reset the router; the customer will call back if the light stays red."
    async with aiohttp.ClientSession() as http:
        noted_id = await ack_then_kill(http, env, log, "session.note", {"text": notes})
        ended_id = await ack_then_kill(http, env, log, "session.end", {"reason": "resolved"})
        with server(env, log) as (url, _):
            assert (await record(http, url, noted_id))["notes"] == notes
            ended = await record(http, url, ended_id)
            assert ended["state"] == "ended", ended
            assert ended["end_reason"] == "resolved", ended
