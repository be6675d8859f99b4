"""Benchmark: session set-up throughput and latency for 1, 2 and 4 server processes on Redis.

Run: ``.venv/bin/python bench/scaleout.py [--sessions 400] [--agents 40]``

Signaling only (no media), so thousands of sessions fit this machine. Devices and agents are
plain socket.io clients spread evenly over the processes; every device presses help at once;
agents accept every ring at once and end the session as soon as it has started, then take the
next. Set-up latency is help press → ``session.started`` at the device; throughput is sessions
per second from the first press to the last set-up. The in-memory store (one process, no Redis)
is the floor for comparison. All processes, Redis and the clients share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, mayday, server_fleet
from bench._stats import percentile
from tests.services import run_redis_server
from tests.support import Client, agent_auth, device_auth, login


@contextlib.contextmanager
def fleet(processes: int, redis_url: str | None, agents: list[str]) -> Iterator[list[str]]:
    with tempfile.TemporaryDirectory(prefix="mayday-scaleout-") as data_dir:
        env = {
            **os.environ,
            "MAYDAY_DATA_DIR": data_dir,
            "MAYDAY_LOG_LEVEL": "warning",
            "MAYDAY_SECRET_KEY": "scaleout-bench-key-" + "x" * 24,
            # Every client of the benchmark comes from 127.0.0.1: lift the per-address limit.
            "MAYDAY_MAX_CONNECTIONS_PER_ADDRESS": "100000",
            # Agents take their next ring at once: no after-call work between sessions.
            "MAYDAY_WRAPUP_S": "0",
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        for name in agents:
            mayday("agents", "add", name, "--languages", "en", env=env, stdin=PASSWORD + "\n")
        with server_fleet(processes, env, Path(data_dir)) as (urls, _):
            yield urls


async def agent_loop(client: Client, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            ring = await client.next("ring", timeout=0.5)
        except TimeoutError:
            continue
        ack = await client.call("ring.accept", {"ring_id": ring["ring_id"]})
        if ack.get("ok"):
            await client.call(
                "session.end", {"session_id": ack["session_id"], "reason": "resolved"}
            )


async def run(urls: list[str], sessions: int, agent_names: list[str]) -> tuple[float, list[float]]:
    clients: list[Client] = []
    async with aiohttp.ClientSession() as http:
        agents = []
        for index, name in enumerate(agent_names):
            url = urls[index % len(urls)]
            token = (await login(http, url, name, PASSWORD))["token"]
            client = await Client(url, "agent").connect(agent_auth(token))
            await client.call("presence.set", {"status": "available"})
            agents.append(client)
        devices = []
        for index in range(sessions):
            url = urls[index % len(urls)]
            async with http.post(f"{url}/api/devices", json={"name": f"d{index}"}) as response:
                registered = await response.json()
            devices.append(await Client(url, "device").connect(device_auth(registered)))
        clients = agents + devices
        stop = asyncio.Event()
        workers = [asyncio.create_task(agent_loop(a, stop)) for a in agents]

        async def one(device: Client) -> float:
            pressed = time.perf_counter()
            await device.call("help.request", {})
            await device.next("session.started", timeout=120)
            return time.perf_counter() - pressed

        started = time.perf_counter()
        latencies = await asyncio.gather(*(one(d) for d in devices))
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*workers)
        for client in clients:
            await client.close()
    return sessions / elapsed, list(latencies)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--agents", type=int, default=40)
    args = parser.parse_args()
    names = [f"agent{i:03d}" for i in range(args.agents)]
    rows = []
    with fleet(1, None, names) as urls:
        rows.append(("memory", 1, *(await run(urls, args.sessions, names))))
    for processes in (1, 2, 4):
        with run_redis_server() as redis_url, fleet(processes, redis_url, names) as urls:
            rows.append(("redis", processes, *(await run(urls, args.sessions, names))))
    floor = rows[0][2]
    print(f"cores: {os.cpu_count()}   sessions per run: {args.sessions}   agents: {args.agents}")
    print(
        f"{'store':<8} {'processes':>9} {'sessions/s':>11} {'vs memory':>10} {'p50 ms':>8} {'p95 ms':>8}"
    )
    for store, processes, rate, latencies in rows:
        ms = [1000 * v for v in latencies]
        print(
            f"{store:<8} {processes:>9} {rate:>11.1f} {rate / floor:>9.2f}x "
            f"{statistics.median(ms):>8.1f} {percentile(ms, 95):>8.1f}"
        )
    rates = {(store, processes): r for store, processes, r, _ in rows}
    print("targets (issue 17):")
    for label, ratio, target in (
        ("1 process on Redis vs in-memory", rates["redis", 1] / rates["memory", 1], 0.7),
        ("2 processes on Redis vs 1 on Redis", rates["redis", 2] / rates["redis", 1], 1.8),
    ):
        verdict = "PASS" if ratio >= target else "MISS"
        print(f"  {label:<36} {ratio:>5.2f}x  target >= {target}x  {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
