"""A rolling restart under load fails no run: SIGTERM drains a process, its clients move on.

Two ``mayday server`` processes share one Redis and one PostgreSQL database; there is no load
balancer, so ``mayday sim`` gets both URLs and each simulated party (agent, device) fails over to
the other process when its socket is lost (``sim/failover.py``). While the simulation runs whole
sessions, process 0 is stopped with SIGTERM, waited for, started again; then process 1 likewise.

A graceful stop must answer ``/readyz`` 503 ("draining") at once, refuse new sockets, close every
client's transport so that the clients reconnect (to the other process, which resumes them), and
exit within a bounded time. The simulation must report zero failed runs, and every session it
started must have ended normally (``resolved``), some of them after a party came back through the
other process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.app import drain
from server.appkeys import STORE
from server.live.records import SessionState
from sim.metrics import parse_prometheus

from .conftest import Desk
from .fleet import PASSWORD, Fleet, run_fleet, wait_ready
from .support import assert_eventually, device_auth, login

ROOT = Path(__file__).resolve().parent.parent
AGENTS = ("sim-agent-1", "sim-agent-2")
DURATION_S = 24.0
"""How long the simulation starts runs; both restarts happen well within it."""
EXIT_WITHIN_S = 15.0
"""A drained process must have exited by then (drain ≤ ~7 s, then the resources close)."""
SCENARIO = """\
name: across_restarts
description: A session that stays open long enough for a process to restart under it.
steps:
  - press_help
  - wait_for_agent
  - annotate: {tool: circle, element: app.settings}
  - wait: 2.5
  - annotate: {tool: arrow, element: app.signin}
  - end: {by: agent, rating: 4}
"""


@pytest.fixture
async def fleet(redis_server: str, postgres_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    with run_fleet(redis_server, tmp_path, database_url=postgres_url) as running:
        running.add_agents(*AGENTS)
        for url in running.urls:
            await asyncio.to_thread(wait_ready, url)
        yield running


async def _metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    try:
        async with http.get(f"{url}/metrics") as response:
            return parse_prometheus(await response.text()) if response.status == 200 else {}
    except aiohttp.ClientError:
        return {}


async def _until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll an async ``condition`` until it is true; fail naming ``what`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.1)


def _held(metrics: dict[str, float], role: str) -> float:
    return metrics.get(f'mayday_connected_sockets{{role="{role}"}}', 0.0)


async def _restart(http: aiohttp.ClientSession, fleet: Fleet, index: int) -> dict[str, Any]:
    """SIGTERM process ``index`` while it holds parties of running sessions; start it again."""
    url = fleet.urls[index]

    async def busy() -> bool:
        # Sockets held here, and a session running (not a gap between two): the restart must
        # happen under a session for its parties to move and come back.
        metrics = await _metrics(http, url)
        running = metrics.get('mayday_sessions{state="active"}', 0.0)
        return _held(metrics, "agent") >= 1 and _held(metrics, "device") >= 1 and running >= 1

    await _until(
        busy, 20, f"process {index} holding an agent and a device of a running simulated session"
    )
    fleet.terminate(index)
    readiness = await _out_of_rotation(http, url)
    exited = await asyncio.to_thread(fleet.wait_exited, index, EXIT_WITHIN_S)
    assert exited == 0, f"process {index} exited with {exited}:\n{fleet.log(index)[-3000:]}"
    await asyncio.to_thread(fleet.start, index)
    await asyncio.to_thread(wait_ready, url)
    return readiness


async def _out_of_rotation(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """``/readyz`` from the moment the signal is handled: 503 while draining, then nothing (the
    listener closed). Never 200 again: a checker takes the process out of rotation at once."""
    deadline = asyncio.get_running_loop().time() + EXIT_WITHIN_S
    while asyncio.get_running_loop().time() < deadline:
        try:
            async with http.get(f"{url}/readyz") as response:
                if response.status != 200:
                    return {"status": response.status, **await response.json()}
        except aiohttp.ClientConnectionError:
            return {"status": None, "draining": True}  # drained and gone between two polls
        await asyncio.sleep(0.005)
    pytest.fail(f"{url} stayed ready after SIGTERM")


async def _session(
    http: aiohttp.ClientSession, url: str, token: str, session_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{url}/api/sessions/{session_id}", headers=headers) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
    async with http.get(f"{url}/api/sessions/{session_id}/events", headers=headers) as response:
        assert response.status == 200, await response.text()
        events: list[dict[str, Any]] = (await response.json())["events"]
    return body, events


@pytest.mark.timeout(150)
async def test_a_rolling_restart_under_sim_load_fails_no_run(fleet: Fleet, tmp_path: Path) -> None:
    scenario = tmp_path / "across_restarts.yaml"
    scenario.write_text(SCENARIO)
    report = tmp_path / "sim.json"
    output = tmp_path / "sim.out"
    with output.open("wb") as out:
        sim = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mayday.cli",
            "sim",
            "--no-progress",
            "--scenario",
            str(scenario),
            "--server",
            ",".join(fleet.urls),
            "--agent-password",
            PASSWORD,
            "--agents",
            str(len(AGENTS)),
            "--devices",
            "3",
            "--duration",
            str(DURATION_S),
            "--json",
            str(report),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        async with aiohttp.ClientSession() as http:
            readiness = [await _restart(http, fleet, index) for index in (0, 1)]
            code = await asyncio.wait_for(sim.wait(), DURATION_S + 60)
            text = output.read_text(errors="replace")
            assert code == 0, f"mayday sim failed ({code}):\n{text[-4000:]}"
            result = json.loads(report.read_text())
            for answer in readiness:
                assert answer["status"] in (503, None), answer
                assert answer["draining"] is True, answer
            runs = result["runs"]
            assert runs
            assert all(run["ok"] for run in runs), [r["failure"] for r in runs]
            sessions = [s for run in runs for s in run["sessions"]]
            assert all(s["ok"] and s["session_id"] for s in sessions), sessions
            # A supervisor reads every session's record; each agent only its own (§19.1).
            fleet.add_agents("auditor", role="supervisor")
            token = str((await login(http, fleet.urls[0], "auditor", PASSWORD))["token"])
            came_back = 0
            for record in sessions:
                body, events = await _session(http, fleet.urls[0], token, record["session_id"])
                assert body["state"] == "ended", body
                assert body["end_reason"] == "resolved", body
                assert body["rating"] == 4, body
                came_back += any(e["kind"] == "peer.back" for e in events)
            # The restarts happened under running sessions, which went on through the other
            # process: not a restart between sessions.
            assert came_back >= 2, f"{came_back} of {len(sessions)} sessions saw a party return"
    finally:
        if sim.returncode is None:
            sim.kill()
            await sim.wait()


async def test_a_draining_process_is_out_of_rotation_and_sends_its_clients_elsewhere(
    desk: Desk,
) -> None:
    """In one process: the drain answers ``/readyz`` 503, refuses new sockets, and closes its
    clients' transports in a way the clients reconnect after (not a server disconnect)."""
    device, agent, credentials, session_id = await desk.session()
    reasons: dict[str, list[str]] = {"device": [], "agent": []}
    for role, client in (("device", device), ("agent", agent)):

        async def lost(reason: str = "", role: str = role) -> None:
            reasons[role].append(reason)

        client.sio.on("disconnect", lost, namespace=client.namespace)
    await drain(desk.app)
    status, body = await desk.get("/readyz")
    assert status == 503, body
    assert body["draining"] is True, body
    await assert_eventually(lambda: not device.sio.connected and not agent.sio.connected)
    for role, seen in reasons.items():
        # A transport closed under the client: socket.io clients reconnect after this, never
        # after "server disconnect" (which the console and the widget take for "replaced").
        assert seen == [socketio.AsyncClient.reason.TRANSPORT_ERROR], (role, seen)
    again = desk.client("device")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect(device_auth(credentials))
    # Both parties count as lost (for the grace period), not as gone: the session lives on.
    live = await desk.app[STORE].get_session(session_id)
    assert live is not None
    assert live.state is not SessionState.ENDED, live
    assert live.device_lost_at is not None
