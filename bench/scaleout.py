"""Benchmark: session set-up throughput and latency for 1, 2 and 4 server processes on Redis.

Run: ``.venv/bin/python bench/scaleout.py [--sessions 400] [--agents 40]
[--redis-processes 1,2,4]``

Signaling only (no media), so thousands of sessions fit this machine. Devices and agents are
plain socket.io clients spread evenly over the processes; every device presses help at once;
agents accept every ring at once and end the session as soon as it has started, then take the
next. Set-up latency is help press → ``session.started`` at the device; throughput is sessions
per second from the first press to the last set-up. The in-memory store (one process, no Redis)
is the floor for comparison. All processes, Redis and the clients share this machine's cores,
so each run also prints the CPU each part spent per session and how busy the cores were: a run
that keeps them all busy is bound by the machine, not by the server.
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
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis.asyncio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, cpu_seconds, mayday, server_fleet
from bench._stats import percentile
from tests.services import run_redis_server
from tests.support import Client, agent_auth, device_auth, login


@contextlib.contextmanager
def fleet(
    processes: int, redis_url: str | None, agents: list[str]
) -> Iterator[tuple[list[str], list[int]]]:
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
        with server_fleet(processes, env, Path(data_dir)) as (urls, servers):
            yield urls, [server.pid for server in servers]


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


@dataclass
class Run:
    """One configuration's figures: rate, set-up latencies and where the CPU went meanwhile."""

    store: str
    processes: int
    rate: float
    latencies: list[float]
    elapsed: float
    cpu: dict[str, float]
    """CPU seconds during the measured window: ``servers`` (all together), ``redis``, ``clients``."""


async def redis_cpu_seconds(redis_url: str | None) -> float:
    """CPU time the Redis server has used so far (0 without Redis)."""
    if redis_url is None:
        return 0.0
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        info = await client.info("cpu")
    finally:
        await client.aclose()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def cpu_now(server_pids: list[int], redis_url: str | None) -> dict[str, float]:
    return {
        "servers": sum(cpu_seconds(pid) for pid in server_pids),
        "redis": await redis_cpu_seconds(redis_url),
        "clients": time.process_time(),
    }


async def run(
    urls: list[str],
    server_pids: list[int],
    redis_url: str | None,
    sessions: int,
    agent_names: list[str],
) -> tuple[float, list[float], float, dict[str, float]]:
    """Press help on ``sessions`` devices at once; the rate, latencies, elapsed time and CPU."""
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

        cpu_before = await cpu_now(server_pids, redis_url)
        started = time.perf_counter()
        latencies = await asyncio.gather(*(one(d) for d in devices))
        elapsed = time.perf_counter() - started
        cpu_after = await cpu_now(server_pids, redis_url)
        cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_before}
        stop.set()
        await asyncio.gather(*workers)
        for client in clients:
            await client.close()
    return sessions / elapsed, list(latencies), elapsed, cpu


async def measure(store: str, processes: int, names: list[str], sessions: int) -> Run:
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(run_redis_server()) if store == "redis" else None
        urls, pids = stack.enter_context(fleet(processes, redis_url, names))
        return Run(store, processes, *(await run(urls, pids, redis_url, sessions, names)))


def report(rows: list[Run], sessions: int, agents: int) -> None:
    floor = rows[0].rate
    print(f"cores: {os.cpu_count()}   sessions per run: {sessions}   agents: {agents}")
    print(
        f"{'store':<8} {'processes':>9} {'sessions/s':>11} {'vs memory':>10} {'p50 ms':>8} "
        f"{'p95 ms':>8}   CPU ms per session: {'servers':>7} {'redis':>6} {'clients':>7}  busy"
    )
    for row in rows:
        ms = [1000 * v for v in row.latencies]
        per_session = {part: 1000 * seconds / sessions for part, seconds in row.cpu.items()}
        busy = sum(row.cpu.values()) / (row.elapsed * (os.cpu_count() or 1))
        print(
            f"{row.store:<8} {row.processes:>9} {row.rate:>11.1f} {row.rate / floor:>9.2f}x "
            f"{statistics.median(ms):>8.1f} {percentile(ms, 95):>8.1f}   {'':>19} "
            f"{per_session['servers']:>7.2f} {per_session['redis']:>6.2f} "
            f"{per_session['clients']:>7.2f}  {busy:>4.0%}"
        )
    print("(busy: the three parts' CPU over the measured window, as a share of all cores)")
    rates = {(row.store, row.processes): row.rate for row in rows}
    print("targets (issue 17):")
    for label, numerator, denominator, target in (
        ("1 process on Redis vs in-memory", ("redis", 1), ("memory", 1), 0.7),
        ("2 processes on Redis vs 1 on Redis", ("redis", 2), ("redis", 1), 1.8),
    ):
        if numerator in rates and denominator in rates:
            ratio = rates[numerator] / rates[denominator]
            verdict = "PASS" if ratio >= target else "MISS"
            print(f"  {label:<36} {ratio:>5.2f}x  target >= {target}x  {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument(
        "--redis-processes",
        default="1,2,4",
        help="comma-separated process counts to run on Redis after the in-memory floor",
    )
    args = parser.parse_args()
    names = [f"agent{i:03d}" for i in range(args.agents)]
    rows = [await measure("memory", 1, names, args.sessions)]
    for processes in (int(count) for count in args.redis_processes.split(",") if count):
        rows.append(await measure("redis", processes, names, args.sessions))
    report(rows, args.sessions, args.agents)


if __name__ == "__main__":
    asyncio.run(main())
