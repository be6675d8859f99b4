"""Benchmark: ring latency with a big queue, 100 to 10,000 waiting customers and 1,000 agents.

Run: ``.venv/bin/python bench/bigqueue.py [--waiting 100,1000,10000] [--agents 1000]
[--processes 2] [--stores memory,redis]``

Real ``mayday server`` processes (one on the in-memory store; ``--processes`` on Redis, clients
spread over them) and real sockets: every customer is a device connected on ``/device`` with a
waiting ticket, every agent a signed-in socket on ``/agent``. The clients are
:mod:`bench._queueload` worker processes speaking the wire protocol (thousands of
python-socketio clients would set the pace instead of the server).

The desk (languages and topics mixed, :mod:`bench._queueplan`):

* most agents are **busy**: each accepted one customer at the start and stays in that session;
* ``--working`` agents **work** the queue: accept every ring after ``--think-ms`` (0.5-1.5 of
  it, a person reading the ring) and end the session at once (no wrap-up), so the customer at
  the head is rung next; a served customer presses help again at
  once, so the queue keeps its length while it turns over and every waiting ticket's position
  moves (the push fan-out at full size);
* a few **probe** agents speak a language no waiting customer speaks: a probe customer's press
  is rung at once, whatever the queue.

Figures, per queue length (the queue grows in stages, the same servers and clients):

* help press → ring: a probe customer presses help, its ring reaches a probe agent
  (``--probes`` presses, one at a time);
* accept → next ring: a working agent sends ``ring.accept``, ends the session, and is rung for
  the next customer in line (every cycle of every working agent while the probes run).

(Not ``bench/queue.py``: run as a script, a file of that name would shadow the standard library's
``queue`` module for every benchmark in this directory.)

Targets (issue 17): both p95 under 20 ms, for 1 process and for 2 processes on Redis. All the
processes, Redis and the clients share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._queueplan import Desk, LoadWorker, plan_desk, seed
from bench._server import ROOT, cpu_seconds, raise_fd_limit, server_fleet
from bench._stats import percentile
from tests.services import run_redis_server

TARGET_P95_MS = 20.0
SECRET_KEY = "queue-bench-key-" + "x" * 32


@dataclass
class Stage:
    waiting: int
    press_ms: list[float]
    accept_ms: list[float]
    server_cpu: float
    """Server CPU seconds per wall second while measuring (all processes)."""


@contextlib.contextmanager
def fleet(
    data_dir: Path, processes: int, redis_url: str | None
) -> Iterator[tuple[list[str], list[int]]]:
    """Start the server processes; yield their URLs and pids."""
    env = {
        **{k: v for k, v in os.environ.items() if "REDIS_URL" not in k and "DATABASE_URL" not in k},
        "MAYDAY_DATA_DIR": str(data_dir),
        "MAYDAY_LOG_LEVEL": "warning",
        "MAYDAY_SECRET_KEY": SECRET_KEY,
        "MAYDAY_MAX_CONNECTIONS_PER_ADDRESS": "1000000",  # every client is 127.0.0.1
        "MAYDAY_WRAPUP_S": "0",  # working agents take their next ring at once
        "MAYDAY_OVERFLOW_S": "86400",  # nobody is widened to the probe agents
        "MAYDAY_RING_TIMEOUT_S": "120",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    with server_fleet(processes, env, data_dir) as (urls, running):
        yield urls, [p.pid for p in running]


async def run_setup(
    args: argparse.Namespace, store: str, processes: int, stages: list[int]
) -> list[Stage]:
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mayday-queue-")))
        redis_url = stack.enter_context(run_redis_server()) if store == "redis" else None
        desk = plan_desk(
            waiting=max(stages), agents=args.agents, working=args.working, seed_value=args.seed
        )
        await seed(data_dir, desk, SECRET_KEY)
        urls, pids = stack.enter_context(fleet(data_dir, processes, redis_url))
        return await drive(args, desk, urls, pids, data_dir, stages)


async def drive(
    args: argparse.Namespace,
    desk: Desk,
    urls: list[str],
    pids: list[int],
    workdir: Path,
    stages: list[int],
) -> list[Stage]:
    workers = await LoadWorker.start_all(
        desk, urls, workdir, args.clients_per_worker, args.think_ms / 1000
    )
    try:
        await LoadWorker.each(workers, "connect agent busy 50")
        await LoadWorker.each(workers, "connect agent work 20")
        await LoadWorker.each(workers, "connect agent probe 4")
        await LoadWorker.each(workers, "connect device busy 50")
        await LoadWorker.each(workers, "connect device probe 4")
        connected = await LoadWorker.each(workers, f"connect device waiting {args.concurrency}")
        errors = {k: v for answer in connected for k, v in answer.get("errors", {}).items()}
        if errors:
            print("connect errors:", errors)
        # The busy agents' customers press first, then the busy agents take them and stay.
        await LoadWorker.each(workers, f"press busy {len(desk.busy_agents)} {args.concurrency}")
        await LoadWorker.each(workers, "available busy")
        await wait_busy(workers, len(desk.busy_agents))
        await LoadWorker.each(workers, "available probe")
        results: list[Stage] = []
        pressed = 0
        for waiting in stages:
            per_worker = LoadWorker.share(workers, waiting - pressed)
            await asyncio.gather(
                *(w.ask(f"press waiting {n} {args.concurrency}") for w, n in per_worker if n)
            )
            pressed = waiting
            if len(results) == 0:
                await LoadWorker.each(workers, "available work")
            await asyncio.sleep(args.settle)
            await LoadWorker.each(workers, "take")
            cpu_before = sum(cpu_seconds(p) for p in pids)
            started = asyncio.get_running_loop().time()
            probes = await LoadWorker.each(workers, f"probe {args.probes} {args.probe_gap_ms}")
            wall = asyncio.get_running_loop().time() - started
            cpu = (sum(cpu_seconds(p) for p in pids) - cpu_before) / wall
            taken = await LoadWorker.each(workers, "take")
            press_ms = [v for answer in probes for v in answer.get("probe_ms", [])]
            accept_ms = [v for answer in taken for v in answer["work_ms"]]
            missed = sum(answer.get("missed", 0) for answer in probes)
            if missed:
                print(f"  {missed} probe presses were not rung within 30 s")
            results.append(Stage(waiting, press_ms, accept_ms, cpu))
            print_stage(results[-1])
        status = await LoadWorker.each(workers, "status")
        errors = {k: v for answer in status for k, v in answer["errors"].items()}
        if errors:
            print("  client errors:", errors)
        return results
    finally:
        await LoadWorker.stop_all(workers)


async def wait_busy(workers: list[LoadWorker], expected: int) -> None:
    """Until every busy agent is in its session (or a minute has passed)."""
    for _ in range(600):
        status = await LoadWorker.each(workers, "status")
        busy = sum(answer["busy_in_session"] for answer in status)
        if busy >= expected:
            return
        await asyncio.sleep(0.1)
    print(f"  only {busy} of {expected} busy agents got their customer")


def figure(values: list[float]) -> str:
    if not values:
        return f"{'-':>8} {'-':>8}"
    return f"{statistics.median(values):>8.1f} {percentile(values, 95):>8.1f}"


def verdict(values: list[float]) -> str:
    if not values:
        return "MISS (no samples)"
    return "PASS" if percentile(values, 95) < TARGET_P95_MS else "MISS"


def print_stage(stage: Stage) -> None:
    print(
        f"  {stage.waiting:>7} waiting: press→ring p50/p95 {figure(stage.press_ms)} ms "
        f"({len(stage.press_ms)}), accept→next ring {figure(stage.accept_ms)} ms "
        f"({len(stage.accept_ms)}), server CPU {stage.server_cpu:.2f} cores",
        flush=True,
    )


def print_table(rows: list[tuple[str, list[Stage]]]) -> None:
    print()
    print(f"target: p95 < {TARGET_P95_MS:.0f} ms for both figures, every setup, every queue length")
    print(
        f"{'setup':<16} {'waiting':>8} {'press→ring':>10} {'p50':>7} {'p95':>7} {'':<5} "
        f"{'accept→ring':>11} {'p50':>7} {'p95':>7} {'':<5} {'CPU':>5}"
    )
    for setup, stages in rows:
        first = stages[0]
        for stage in stages:

            def cell(values: list[float], base: list[float]) -> str:
                if not values:
                    return f"{'':>10} {'-':>7} {'-':>7} {'MISS':<5}"
                growth = f"{percentile(values, 95) / percentile(base, 95):>9.2f}x" if base else ""
                return (
                    f"{growth:>10} {statistics.median(values):>7.1f} "
                    f"{percentile(values, 95):>7.1f} {verdict(values)[:4]:<5}"
                )

            print(
                f"{setup:<16} {stage.waiting:>8} {cell(stage.press_ms, first.press_ms)} "
                f" {cell(stage.accept_ms, first.accept_ms)} {stage.server_cpu:>5.2f}"
            )
    print("(the x column: p95 against the same setup's smallest queue)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--waiting", default="100,1000,10000", help="queue lengths, measured in this order"
    )
    parser.add_argument("--agents", type=int, default=1000, help="signed-in agents in all")
    parser.add_argument("--working", type=int, default=20, help="agents working the queue")
    parser.add_argument(
        "--think-ms", type=float, default=1000.0, help="a working agent's ring → accept, mean"
    )
    parser.add_argument("--processes", type=int, default=2, help="server processes on Redis")
    parser.add_argument("--stores", default="memory,redis", help="memory, redis or both")
    parser.add_argument("--probes", type=int, default=60, help="probe presses per queue length")
    parser.add_argument("--probe-gap-ms", type=float, default=100.0)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=100, help="connects/presses at once")
    parser.add_argument("--clients-per-worker", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    stages = sorted({int(v) for v in args.waiting.split(",")})
    raise_fd_limit(max(stages) + args.agents + 500)
    rows: list[tuple[str, list[Stage]]] = []
    print(f"cores: {os.cpu_count()}   agents: {args.agents} ({args.working} working the queue)")
    for store in args.stores.split(","):
        processes = 1 if store == "memory" else args.processes
        setup = f"{store} x{processes}"
        print(f"{setup}:", flush=True)
        rows.append((setup, await run_setup(args, store, processes, stages)))
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
