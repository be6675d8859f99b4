"""Nobody waits in vain, as an outsider checks it from the documents alone: `mayday server` in a
process of its own with `MAYDAY_OVERFLOW_S` (docs/deploy.md), an English-only agent made with
`mayday agents add --languages en`, signed in over REST; a German-speaking customer's device
registered over REST asks for help over the socket (docs/protocol.md §4, §6, §20.1) and is served
after the overflow time. Then `mayday forecast` on a sessions export the check writes itself,
with a weekly pattern it knows (docs/forecast.md).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from .outside import mayday, mayday_server, outside_env

PASSWORD = "a-long-password-for-anna"
OVERFLOW_S = 1.0
TIMEOUT_S = 30


@dataclass
class Server:
    url: str
    env: dict[str, str]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    env = outside_env(tmp_path / "data", MAYDAY_OVERFLOW_S=str(OVERFLOW_S))
    await mayday(env, "agents", "add", "anna", "--languages", "en", stdin=PASSWORD)
    async with mayday_server(env, tmp_path / "server.log") as url:
        yield Server(url, env)


class Events:
    """One socket's events, in order, to wait for by name."""

    def __init__(self, sio: socketio.AsyncClient, namespace: str) -> None:
        self.queues: dict[str, asyncio.Queue[Any]] = {}
        sio.on("*", self._on, namespace=namespace)

    async def _on(self, event: str, data: Any = None) -> None:
        self.queues.setdefault(event, asyncio.Queue()).put_nowait(data)

    async def next(self, event: str) -> Any:
        queue = self.queues.setdefault(event, asyncio.Queue())
        return await asyncio.wait_for(queue.get(), TIMEOUT_S)


async def test_a_german_customer_with_only_english_agents_is_served_after_the_overflow_time(
    server: Server,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.url}/api/agents/login", json={"name": "anna", "password": PASSWORD}
        ) as response:
            token = (await response.json())["token"]
        async with http.post(
            f"{server.url}/api/devices", json={"name": "Küchentablet"}
        ) as response:
            device = await response.json()
        assert response.status == 201, device

    agent = socketio.AsyncClient(reconnection=False)
    agent_events = Events(agent, "/agent")
    await agent.connect(
        server.url,
        namespaces=["/agent"],
        auth={"protocol": 1, "token": token},
        transports=["websocket"],
    )
    customer = socketio.AsyncClient(reconnection=False)
    customer_events = Events(customer, "/device")
    await customer.connect(
        server.url,
        namespaces=["/device"],
        auth={
            "protocol": 1,
            "device_id": device["device_id"],
            "device_secret": device["device_secret"],
        },
        transports=["websocket"],
    )
    try:
        assert await agent.call("presence.set", {"status": "available"}, namespace="/agent") == {
            "ok": True,
            "status": "available",
        }
        pressed = time.time()
        ack = await customer.call(
            "help.request", {"topic": "kindle", "locale": "de-DE"}, namespace="/device"
        )
        ticket = ack["ticket"]
        # Told at once: nobody signed in speaks German; when routing widens.
        assert (ticket["matched"], ticket["widened"]) == (False, False)
        assert ticket["widens_at"] == pytest.approx(pressed + OVERFLOW_S, abs=1.0)

        ring = await agent_events.next("ring")
        rung = time.time()
        assert rung >= ticket["widens_at"] - 0.05, "rung before the overflow time"
        assert ring["ticket"]["widened"] is True
        assert ring["ticket"]["locale"] == "de-DE"
        accepted = await agent.call("ring.accept", {"ring_id": ring["ring_id"]}, namespace="/agent")
        assert accepted.get("ok") is True, accepted
        started = await customer_events.next("session.started")
        assert started["agent"]["name"] == "anna"
        assert started["session_id"] == ticket["id"]
    finally:
        await customer.disconnect()
        await agent.disconnect()


def _history(path: Path, weeks: int) -> None:
    """A sessions export (protocol.md §19.7) with a weekly pattern: weekdays 9-17 UTC, three
    requests each hour, ten at 11:00 on Mondays; nothing at weekends or at night."""
    start = datetime(2027, 1, 18, tzinfo=UTC) - timedelta(weeks=weeks)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, ["id", "created_at", "accepted_at", "ended_at", "handle_s"])
        writer.writeheader()
        count = 0
        for day in range(weeks * 7):
            date = start + timedelta(days=day)
            if date.weekday() >= 5:
                continue
            for hour in range(9, 17):
                requests = 10 if (date.weekday(), hour) == (0, 11) else 3
                for index in range(requests):
                    at = date + timedelta(hours=hour, minutes=index * 60 / requests)
                    count += 1
                    writer.writerow(
                        {
                            "id": f"ses_{count}",
                            "created_at": at.isoformat().replace("+00:00", "Z"),
                            "accepted_at": (at + timedelta(seconds=5))
                            .isoformat()
                            .replace("+00:00", "Z"),
                            "ended_at": (at + timedelta(seconds=305))
                            .isoformat()
                            .replace("+00:00", "Z"),
                            "handle_s": "300.0",
                        }
                    )


async def test_mayday_forecast_on_a_history_the_check_writes(tmp_path: Path) -> None:
    history, plan = tmp_path / "sessions.csv", tmp_path / "plan.json"
    _history(history, weeks=4)
    env = {**os.environ, "MAYDAY_DATA_DIR": str(tmp_path / "data")}
    printed = await mayday(
        env, "forecast", "--week", "2027-W03", "--history", str(history), "--time-zone", "UTC",
        "--service-level", "0.8", "--within", "20", "--wrapup", "0", "--json", str(plan),
    )  # fmt: skip
    assert "2027-W03" in printed
    hours = json.loads(plan.read_text())["hours"]
    by_start = {hour["start_utc"]: hour for hour in hours}
    monday_11 = by_start["2027-01-18T11:00:00Z"]
    monday_10 = by_start["2027-01-18T10:00:00Z"]
    saturday = by_start["2027-01-23T11:00:00Z"]
    night = by_start["2027-01-19T03:00:00Z"]
    assert monday_11["arrivals"] == pytest.approx(10, rel=0.25)
    assert monday_10["arrivals"] == pytest.approx(3, rel=0.25)
    assert monday_11["agents"] > monday_10["agents"] > 0
    assert saturday["agents"] == night["agents"] == 0
    assert monday_11["service_level"] >= 0.8
