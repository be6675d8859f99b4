"""Benchmark: idle authenticated devices one server process holds, and the memory each costs.

Run: ``.venv/bin/python bench/connections.py [--devices 10000] [--workers 4] [--trace]``

One real ``mayday server`` process (SQLite, in-memory live store). N devices are registered
beforehand, then N websocket Socket.IO connections authenticate on ``/device`` and sit idle,
answering the server's pings. The clients are :mod:`bench._sioload` worker processes speaking the
wire protocol over plain aiohttp websockets (python-socketio's client is far heavier), so the
server sets the pace.

Per server, in this order:

1. warm-up: ``--warmup`` extra devices connect one at a time (the connect latency of an unloaded
   server) and disconnect, so lazy imports and first-use caches are not counted per connection;
2. RSS before (VmRSS of the server process);
3. the first half of the devices connect (``--concurrency`` in flight per worker), RSS mid;
4. the second half connect, RSS after; connect rate and latency over both halves;
5. ``--idle`` seconds idle (one server ping cycle is 10 s): every connection must still be open
   and have answered at least one ping; RSS idle.

Memory per connection is (RSS idle − RSS before) / connected; "marginal" is the slope over the
second half, (RSS after − RSS mid) / second half, which leaves out costs that stop growing
early (caches, the connection pool, the allocator's first arenas). Connections are raised to the
open-file hard limit (``ulimit -Hn``); N is also bounded by the ephemeral ports to one address
(about 28,000).

The floor is a bare python-socketio ``AsyncServer`` in aiohttp with one namespace that accepts
everyone (:mod:`bench._bare_server`): no authentication, no database, no rooms of our own.

Devices are registered by inserting their rows straight into the server's SQLite file before it
starts (``--register db``, the default: 0.2 s for 10,200 rows), hashed with
:func:`server.auth.hash_device_secret` exactly as ``POST /api/devices`` hashes them.
Registration is not what is measured here, and going through the API costs about 25 s per run on
this machine (some 450 registrations/s, each its own SQLite transaction). ``--register api``
registers through the API instead (``--concurrency`` x ``--workers`` requests at once, before RSS
before is read) and prints how long that took.

``--trace`` runs both servers under tracemalloc (:mod:`bench._traced`, a benchmark-only wrapper),
takes a snapshot before, mid and idle, and prints which code allocated the memory the
connections hold, per connection. Tracing slows the servers down about tenfold: its connect
rates and RSS figures are not comparable with an untraced run.

``--devices`` is bounded by the open-file hard limit of one process (each device is a socket of
the server): asked for more, the script says how many fit (the limit less
:data:`FD_RESERVE`) and measures those. All load workers connect from 127.0.0.1, so the server's
per-address cap (``MAYDAY_MAX_CONNECTIONS_PER_ADDRESS``) is raised for the run. Last, it prints
issue 17's targets (:data:`bench._connections_report.TARGETS`) with mayday's figure, the
floor's, their ratio and PASS or MISS: CPU per connect <= 2x the floor's, connect rate >= 0.5x,
memory per idle device <= 1.1x, and every device connected and still open after the idle time.

This script starts the servers and the load and takes the measurements; what a run found
(:class:`~bench._connections_report.Run`) is printed by :mod:`bench._connections_report`, the
tables and the tracemalloc breakdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._connections_report import Run, explain, print_table, print_targets
from bench._lineworker import LineWorker
from bench._server import (
    ServerProcess,
    cpu_seconds,
    raise_fd_limit,
    server_process,
)
from server.auth import hash_device_secret, new_device_secret
from server.ids import new_id
from server.logs import configure_logging
from server.records import DeviceRow, Records

PROTOCOL = 1
FD_RESERVE = 500
"""Open files a server keeps besides its devices' sockets (database, listener, pipes), with room."""


def devices_that_fit(requested: int) -> int:
    """How many of the devices asked for one server process can hold under the open-file hard
    limit (each is a socket; the warm-up's are closed before the measured ones connect)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, hard - FD_RESERVE))


# --- devices -------------------------------------------------------------------------------------


def auth(device_id: str, secret: str) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "device_id": device_id, "device_secret": secret}


async def seed_devices(data_dir: Path, count: int) -> list[dict[str, Any]]:
    """Insert ``count`` devices into the SQLite file a server in ``data_dir`` will open."""
    # The server resolves the same file: its environment has no DATABASE_URL (bench_env).
    records = Records(f"sqlite+aiosqlite:///{data_dir / 'mayday.db'}")
    try:
        await records.create_schema()
        credentials, rows = [], []
        now = time.time()
        for index in range(count):
            device_id, secret = new_id("dev"), new_device_secret()
            credentials.append(auth(device_id, secret))
            rows.append(
                {
                    "id": device_id,
                    "name": f"bench device {index}",
                    "secret_hash": hash_device_secret(secret),
                    "created_at": now,
                }
            )
        async with records.engine.begin() as connection:
            await connection.execute(insert(DeviceRow), rows)
    finally:
        await records.close()
    return credentials


async def register_devices(url: str, count: int, concurrency: int) -> list[dict[str, Any]]:
    """Register ``count`` devices through ``POST /api/devices``, ``concurrency`` at once."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one(index: int) -> dict[str, Any]:
            async with (
                gate,
                http.post(f"{url}/api/devices", json={"name": f"bench device {index}"}) as reply,
            ):
                reply.raise_for_status()
                body = await reply.json()
                return auth(body["device_id"], body["device_secret"])

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def fake_devices(count: int) -> list[dict[str, Any]]:
    """Credentials of the same shape for the floor, which takes anyone."""
    return [auth(new_id("dev"), new_device_secret()) for _ in range(count)]


# --- the load generator processes ----------------------------------------------------------------


class LoadWorker(LineWorker):
    """One :mod:`bench._sioload` process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process, size: int) -> None:
        super().__init__(process)
        self.size = size

    @classmethod
    async def start(
        cls, url: str, credentials: list[dict[str, Any]], workdir: Path, index: int
    ) -> LoadWorker:
        path = workdir / f"worker-{index}.json"
        path.write_text(json.dumps(credentials))
        process = await cls.spawn("bench._sioload", url, str(path), workdir=workdir)
        worker = cls(process, len(credentials))
        ready = await worker._read()
        assert ready["ready"] == len(credentials), ready
        return worker


@contextlib.asynccontextmanager
async def load_workers(
    url: str, shares: list[list[dict[str, Any]]], workdir: Path
) -> Any:  # AsyncIterator[list[LoadWorker]]
    workers = await asyncio.gather(
        *(LoadWorker.start(url, share, workdir, i) for i, share in enumerate(shares))
    )
    try:
        yield list(workers)
    finally:
        await asyncio.gather(*(w.stop() for w in workers))


# --- one run -------------------------------------------------------------------------------------


def split(items: list[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    return [items[i::parts] for i in range(parts)]


async def connect_all(
    workers: list[LoadWorker], halves: list[int], concurrency: int, server: ServerProcess, run: Run
) -> None:
    """Each worker connects its next ``halves[i]`` devices, all at once; adds to ``run``."""
    cpu_server = server.cpu_seconds()
    cpu_clients = sum(cpu_seconds(w.pid) for w in workers)
    answers = await asyncio.gather(
        *(w.ask(f"connect {k} {concurrency}") for w, k in zip(workers, halves, strict=True))
    )
    run.server_cpu_s += server.cpu_seconds() - cpu_server
    run.clients_cpu_s += sum(cpu_seconds(w.pid) for w in workers) - cpu_clients
    elapsed = max(a["finished"] for a in answers) - min(a["started"] for a in answers)
    run.connect_s += elapsed
    run.half_rates.append(sum(a["connected"] for a in answers) / elapsed)
    for answer in answers:
        run.connected += answer["connected"]
        run.failed += answer["failed"]
        run.latencies_ms.extend(answer["latencies_ms"])
        for error, count in answer["errors"].items():
            run.errors[error] = run.errors.get(error, 0) + count


async def measure(
    name: str,
    module_args: list[str],
    args: argparse.Namespace,
    *,
    trace: bool,
) -> Run:
    n, warmup, parts = args.devices, args.warmup, args.workers
    run = Run(name=name, devices=n, requested=args.requested)
    with tempfile.TemporaryDirectory(prefix="mayday-conn-") as tmp:
        data_dir = Path(tmp)
        credentials: list[dict[str, Any]] = []
        real = "mayday.cli" in module_args  # a mayday server: its devices must exist
        if real and args.register == "db":
            credentials = await seed_devices(data_dir, n + warmup)
        elif not real:
            credentials = fake_devices(n + warmup)
        with server_process(module_args, data_dir, traced=trace, python=args.python) as server:
            if real and args.register == "api":
                started = time.monotonic()
                credentials = await register_devices(
                    server.url, n + warmup, args.concurrency * parts
                )
                run.register_s = time.monotonic() - started
            warm, rest = credentials[:warmup], credentials[warmup:]
            shares = split(rest, parts)
            shares[0] = warm + shares[0]
            async with load_workers(server.url, shares, data_dir) as workers:
                if warmup:
                    answer = await workers[0].ask(f"connect {warmup} 1")
                    if answer["failed"]:
                        raise SystemExit(f"{name}: warm-up connections failed: {answer['errors']}")
                    run.unloaded_ms = answer["latencies_ms"]
                    await workers[0].ask("closeall")
                await asyncio.sleep(args.settle)
                run.rss_kib["before"] = server.rss_kib()
                if trace:
                    run.snapshots["before"] = await server.snapshot()
                sizes = [len(s) - (warmup if i == 0 else 0) for i, s in enumerate(shares)]
                first = [size // 2 for size in sizes]
                second = [size - half for size, half in zip(sizes, first, strict=True)]
                await connect_all(workers, first, args.concurrency, server, run)
                connected_first = run.connected
                await asyncio.sleep(args.settle)
                run.rss_kib["mid"] = server.rss_kib()
                if trace:
                    run.snapshots["mid"] = await server.snapshot()
                await connect_all(workers, second, args.concurrency, server, run)
                run.second_half = run.connected - connected_first
                await asyncio.sleep(args.settle)
                run.rss_kib["after"] = server.rss_kib()
                print(
                    f"  {name}: {run.connected}/{n} connected in {run.connect_s:.1f} s, "
                    f"idle {args.idle:.0f} s ...",
                    flush=True,
                )
                await asyncio.sleep(args.idle)
                reports = await asyncio.gather(*(w.ask("report") for w in workers))
                run.open_after_idle = sum(r["open"] for r in reports)
                run.pings_min = min(r["pings_min"] for r in reports)
                run.rss_kib["idle"] = server.rss_kib()
                run.threads = server.threads()
                if trace:
                    run.snapshots["idle"] = await server.snapshot()
                    for key in ("before", "mid", "idle"):
                        keep = Path(tempfile.mkstemp(prefix=f"snapshot-{name}-{key}-")[1])
                        run.snapshots[key].replace(keep)
                        run.snapshots[key] = keep
    return run


# --- main ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def removing(paths: list[Path]) -> Iterator[None]:
    try:
        yield
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=None, help="default 10000 (1000 traced)")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--concurrency", type=int, default=32, help="connects in flight per worker")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    parser.add_argument("--idle", type=float, default=12.0)
    parser.add_argument("--register", choices=("db", "api"), default="db")
    parser.add_argument("--trace", action="store_true", help="tracemalloc breakdown")
    parser.add_argument("--top", type=int, default=25, help="rows of the breakdown")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter of the servers (another Python with their packages installed)",
    )
    parser.add_argument(
        "--servers", default="mayday,floor", help="which to run, comma-separated (mayday,floor)"
    )
    args = parser.parse_args()
    configure_logging(level="warning")
    if args.devices is None:
        args.devices = 1000 if args.trace else 10000
    args.requested = args.devices
    args.devices = devices_that_fit(args.devices)
    if args.devices < args.requested:
        print(
            f"{args.requested} devices asked for; one process may hold "
            f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} open files here, so "
            f"{args.devices} are measured ({FD_RESERVE} files kept for the server's own use)",
            flush=True,
        )
    per_worker = (args.devices + args.warmup) // args.workers + 1
    raise_fd_limit(max(args.devices + 256, per_worker + 256))
    # Every load worker connects from 127.0.0.1: lift the per-address cap of the server.
    os.environ["MAYDAY_MAX_CONNECTIONS_PER_ADDRESS"] = str(args.devices + args.warmup + 1000)

    commands = {"mayday": ["mayday.cli", "server"], "floor": ["bench._bare_server"]}
    names = [name for name in commands if name in args.servers.split(",")]
    runs = [await measure(name, commands[name], args, trace=args.trace) for name in names]
    print_table(runs, args)
    if len(runs) == 2:
        print_targets(*runs)
    if args.trace:
        with removing([p for run in runs for p in run.snapshots.values()]):
            for run in runs:
                explain(run, args.top)


if __name__ == "__main__":
    asyncio.run(main())
