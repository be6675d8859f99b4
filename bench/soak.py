"""Soak: sessions starting and ending for minutes on one server; nothing may grow, nothing may leak.

Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--interval 5] [--devices 4] [--agents 2]
[--concurrency 2] [--out bench/results/soak.png]`` (not in CI: it takes the minutes it is given.)

One real ``mayday server`` process (SQLite, in-memory live store, agents created in its database
beforehand) and one ``mayday sim --server URL --duration S`` process running every shipped scenario
round-robin (``--scenario`` to choose). First a short priming sim (``--prime`` s), so that lazy
imports, the database pool and first-use caches exist before the baseline is read; then the
baseline (no client connected); then the soak; then, once the sim has exited and the server has
let go of every session (``--settle``), the final sample.

Every ``--interval`` seconds both processes are sampled:

* the server: RSS, open fds, threads, socket fds and TCP sockets (``/proc/PID``), connected
  Socket.IO sockets, live sessions and unfinished asyncio tasks (``GET /metrics``:
  ``mayday_connected_sockets``, ``mayday_sessions`` without ``ended``, ``mayday_asyncio_tasks``);
* the device side, the sim process with its simulated tablets and headless agents: RSS, open fds,
  threads, socket fds, UDP sockets (its fds that are sockets matched by inode in
  ``/proc/PID/net/udp``: a proxy for aiortc's peer connections, which hold one or more each), and
  its asyncio tasks.

Both processes run under a small wrapper (``python -m bench.soak --with-task-dump <module> ...``,
nothing the server knows about): on SIGUSR2 it counts ``asyncio.all_tasks()`` in its loop by
coroutine and innermost suspension point (file:line) and writes them to a JSON file, so a task
leak can be named. The sim's wrapper also records the process's fds and sockets when it starts
and after the simulation has returned (everything should then be closed).

A least-squares line is fitted to each series over the steady part (after ``--warmup`` s of the
soak, up to --duration); its slope per minute and its drift over the steady part are printed
with a verdict (see bench/README.md for the tolerances). Exit status 1 when a run failed, a series
grows, or something is not back to the baseline at the end. The curves are drawn to ``--out``
(PNG or SVG, :mod:`bench._soak_plot`) and the numbers written beside it as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as dt
import gc
import json
import math
import os
import re
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench._server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# bench._server (and with it pytest) and matplotlib are imported only by the soak itself, not by
# the processes it wraps: their memory is what is measured.
Sample = dict[str, Any]

PASSWORD = "soak-password-1"
WRAP = "--with-task-dump"
DUMP_ENV = "BENCH_TASK_DUMP"

# --- what a process holds, from /proc --------------------------------------------------------------


def proc_status(pid: int, field: str) -> int:
    """A number from /proc/<pid>/status (``VmRSS`` in KiB, ``Threads``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def proc_sample(pid: int) -> Sample:
    """RSS, fds, threads, and which fds are sockets: all of them, TCP and UDP ones."""
    base = Path(f"/proc/{pid}")
    fds, inodes = 0, set()
    for fd in os.listdir(base / "fd"):
        fds += 1
        with contextlib.suppress(OSError):
            target = os.readlink(base / "fd" / fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])

    def matching(*tables: str) -> int:
        found = 0
        for table in tables:
            with contextlib.suppress(OSError):
                for line in (base / "net" / table).read_text().splitlines()[1:]:
                    found += line.split()[9] in inodes
        return found

    return {
        "rss_mib": proc_status(pid, "VmRSS") / 1024,
        "fds": fds,
        "threads": proc_status(pid, "Threads"),
        "socket_fds": len(inodes),
        "tcp": matching("tcp", "tcp6"),
        "udp": matching("udp", "udp6"),
    }


# --- the wrapper both processes run under -------------------------------------------------------


def _where(path: str, line: int, name: str) -> str:
    for prefix in (str(ROOT) + os.sep, "site-packages" + os.sep, "python3.11" + os.sep):
        if prefix in path:
            path = path.split(prefix, 1)[1]
            break
    return f"{path}:{line} {name}"


def task_key(task: asyncio.Task[Any]) -> str:
    """The task's coroutine (where it is defined) and the innermost point it is suspended at."""
    coro: Any = task.get_coro()
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    outer = getattr(coro, "__qualname__", type(coro).__name__)
    if code is not None:
        outer = _where(code.co_filename, code.co_firstlineno, outer)
    inner, current = "", coro
    while current is not None:
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is not None:
            inner = _where(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return f"{outer}  waiting at {inner or '?'}"


def write_json(path: str | Path, body: dict[str, Any]) -> None:
    Path(f"{path}.tmp").write_text(json.dumps(body))
    os.replace(f"{path}.tmp", path)


def python_threads() -> Counter[str]:
    """This process's Python threads by name, numbers dropped (the rest of its threads are
    native: codecs' worker threads and the like)."""
    return Counter(re.sub(r"\d+", "N", t.name) for t in threading.enumerate())


def dump_tasks(path: str) -> None:
    try:
        tasks = list(asyncio.all_tasks())
    except RuntimeError:  # no loop running (yet, or any more)
        tasks = None
    write_json(
        path,
        {
            "tasks": None if tasks is None else len(tasks),
            "by": Counter(task_key(t) for t in tasks or []),
            "python_threads": python_threads(),
        },
    )


def wrapped(argv: list[str]) -> None:
    """``python -m bench.soak --with-task-dump <module> <args>``: run the module as ``__main__``."""
    prefix = os.environ[DUMP_ENV]
    write_json(f"{prefix}.start.json", proc_sample(os.getpid()))

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        try:  # count in the loop itself, between its callbacks
            asyncio.get_running_loop().call_soon_threadsafe(dump_tasks, f"{prefix}.json")
        except RuntimeError:
            dump_tasks(f"{prefix}.json")

    signal.signal(signal.SIGUSR2, on_signal)
    sys.argv = argv
    try:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    finally:
        Path(f"{prefix}.done").touch()  # from now on no sample of this process is a soak's
        exit_: dict[str, Any] = {**proc_sample(os.getpid()), "python_threads": python_threads()}
        # what is left once garbage cycles are collected (and what they were), and once glibc has
        # given its free memory back: tells uncollected cycles and allocator slack from a leak
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
        exit_["garbage"] = dict(kinds.most_common(15))
        gc.garbage.clear()
        gc.set_debug(0)
        gc.collect()
        exit_["after_gc"] = proc_sample(os.getpid())
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            exit_["after_malloc_trim"] = proc_sample(os.getpid())
        write_json(f"{prefix}.exit.json", exit_)


def ask_tasks(pid: int, prefix: Path, timeout: float = 3.0) -> dict[str, Any] | None:
    """Signal a wrapped process for a task census and read it; None if it did not answer."""
    path = Path(f"{prefix}.json")
    path.unlink(missing_ok=True)
    if not Path(f"{prefix}.start.json").exists():
        return None  # the wrapper has not installed its handler yet: SIGUSR2 would kill it
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            census: dict[str, Any] = json.loads(path.read_text())
            return census
        time.sleep(0.02)
    return None


# --- sampling ------------------------------------------------------------------------------------


def scrape(url: str) -> dict[str, float]:
    from sim.resources import parse_prometheus

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:  # noqa: S310
        return parse_prometheus(response.read().decode())


def server_sample(server: ServerProcess) -> Sample:
    values = scrape(server.url)
    sample = proc_sample(server.pid)
    roles = {k: v for k, v in values.items() if k.startswith("mayday_connected_sockets{")}
    sample["sockets"] = sum(roles.values())
    sample["sessions"] = sum(
        v for k, v in values.items() if k.startswith("mayday_sessions{") and "ended" not in k
    )
    sample["tasks"] = values.get("mayday_asyncio_tasks", math.nan)
    sample["sockets_by_role"] = roles
    return sample


def device_sample(process: subprocess.Popen[bytes], prefix: Path) -> Sample | None:
    if Path(f"{prefix}.done").exists():
        return None  # the simulation has returned: the process is measuring itself
    try:
        sample = proc_sample(process.pid)
    except (OSError, RuntimeError):
        return None  # exited between the check and the read
    census = ask_tasks(process.pid, prefix)
    sample["tasks"] = math.nan if census is None or census["tasks"] is None else census["tasks"]
    sample["census"] = census
    return sample


async def create_agents(data_dir: Path, names: list[str]) -> None:
    from server.auth import hash_password
    from server.records import Records

    records = Records(f"sqlite+aiosqlite:///{data_dir / 'mayday.db'}")
    try:
        await records.create_schema()
        hashed = hash_password(PASSWORD)
        for name in names:
            await records.add_agent(name, hashed, ["en"], [])
    finally:
        await records.close()


def start_sim(args: argparse.Namespace, url: str, data_dir: Path, name: str, seconds: float) -> Any:
    from bench._server import bench_env

    command = [sys.executable, "-m", "bench.soak", WRAP, "mayday.cli", "sim"]
    command += ["--server", url, "--agent-password", PASSWORD, "--duration", f"{seconds:g}"]
    command += ["--devices", str(args.devices), "--agents", str(args.agents)]
    command += ["--concurrency", str(args.concurrency), "--no-progress"]
    command += ["--json", str(data_dir / f"{name}.json")]
    for scenario in args.scenario or []:
        command += ["--scenario", str(scenario)]
    env = {**bench_env(data_dir), DUMP_ENV: str(data_dir / f"{name}-tasks")}
    with (
        open(data_dir / f"{name}.out", "wb") as out,
        open(data_dir / f"{name}.err", "wb") as err,
    ):
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)


def settle(server: ServerProcess, baseline: Sample, seconds: float, linger: float) -> Sample:
    """Wait until the server holds no more sockets or sessions than at the baseline, then
    ``linger`` s more: engine.io's ping task of a closed socket sleeps out its interval
    (``MAYDAY_PING_INTERVAL_S``, 10 s) before it notices. A sample."""
    deadline = time.monotonic() + seconds
    while True:
        sample = server_sample(server)
        calm = sample["sockets"] <= baseline["sockets"] and sample["sessions"] == 0
        if calm or time.monotonic() > deadline:
            time.sleep(linger if calm else 0)
            return server_sample(server)
        time.sleep(0.5)


def run(args: argparse.Namespace) -> int:
    out = args.out or ROOT / "bench" / "results" / f"soak-{dt.datetime.now():%Y%m%d-%H%M%S}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    from bench._server import server_process
    from bench._soak_plot import (
        SERVER_END,
        census_diff,
        end_checks,
        plot,
        print_report,
        sim_summary,
        steady_fits,
    )
    from tests.services import terminating

    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="mayday-soak-") as tmp:
        data_dir = Path(tmp)
        names = [f"sim-agent-{i + 1}" for i in range(args.agents)]
        asyncio.run(create_agents(data_dir, names))
        os.environ[DUMP_ENV] = str(data_dir / "server-tasks")  # the server's environment has it
        module = ["bench.soak", WRAP, "mayday.cli", "server"]
        with server_process(module, data_dir) as server, contextlib.ExitStack() as sims_alive:
            sims: dict[str, dict[str, Any]] = {}
            if args.prime > 0:
                print(f"priming: {args.prime:g} s of sim ...", flush=True)
                prime = start_sim(args, server.url, data_dir, "prime", args.prime)
                sims_alive.enter_context(terminating(prime))  # on Ctrl-C too
                sims["prime"] = sim_summary(data_dir, "prime", prime.wait())
                settle(server, {"sockets": 0}, args.settle, args.linger)
            baseline = server_sample(server)
            census = {"server baseline": ask_tasks(server.pid, data_dir / "server-tasks")}
            print(f"baseline: {json.dumps({k: baseline[k] for k in SERVER_END})}", flush=True)
            print(f"soak: {args.minutes:g} min, a sample every {args.interval:g} s ...", flush=True)
            sim = start_sim(args, server.url, data_dir, "soak", seconds)
            sims_alive.enter_context(terminating(sim))
            prefix, origin = data_dir / "soak-tasks", time.monotonic()
            samples: list[Sample] = [{"t": 0.0, "phase": "baseline", "server": baseline}]
            while sim.poll() is None:
                tick = origin + len(samples) * args.interval
                time.sleep(max(0.0, tick - time.monotonic()))
                now = time.monotonic() - origin
                device = device_sample(sim, prefix) if sim.poll() is None else None
                sample: Sample = {"t": now, "phase": "soak", "server": server_sample(server)}
                samples.append({**sample, "device": device})
                if now >= args.warmup:
                    for side, taken in (
                        ("server", ask_tasks(server.pid, data_dir / "server-tasks")),
                        ("device", device and device["census"]),
                    ):
                        if taken:
                            census.setdefault(f"{side} first steady", taken)
                            census[f"{side} last"] = taken
                if len(samples) % 12 == 0:
                    print(
                        f"  {now:5.0f} s  server {sample['server']['sockets']:.0f} sockets,"
                        f" device {device and device['udp']} UDP",
                        flush=True,
                    )
            sims["soak"] = sim_summary(data_dir, "soak", sim.returncode)
            sim_end = time.monotonic() - origin
            final = settle(server, baseline, args.settle, args.linger)
            final_t = time.monotonic() - origin
            census["server final"] = ask_tasks(server.pid, data_dir / "server-tasks")
            start_dump, exit_dump = ({}, {})  # none if the sim was killed: counts as a leak
            with contextlib.suppress(OSError):
                start_dump = json.loads(Path(f"{prefix}.start.json").read_text())
                exit_dump = json.loads(Path(f"{prefix}.exit.json").read_text())
            # the sim process as it started and after its simulation returned, as dots
            if exit_dump:
                samples[0]["device"] = {**start_dump, "tasks": math.nan}
                samples.append(
                    {"t": sim_end, "phase": "exit", "device": {**exit_dump, "tasks": math.nan}}
                )
            samples.append({"t": final_t, "phase": "final", "server": final, "device": None})
    for each in samples:
        if each.get("device"):
            each["device"].pop("census", None)
    report: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "warmup": args.warmup,
        "sim_end_s": sim_end,
        "samples": samples,
        "fits": steady_fits(samples, args.warmup, seconds),
        "end": end_checks(baseline, final, start_dump, exit_dump),
        "device_start": start_dump,
        "device_exit": exit_dump,
        "sim": {"prime": sims.get("prime", {"last_line": "skipped", "exit_code": 0}), **sims},
        "task_growth": {
            "server, baseline -> final": census_diff(
                census["server baseline"], census["server final"]
            ),
            **{
                f"{side}, first steady -> last sample": census_diff(
                    census.get(f"{side} first steady"), census.get(f"{side} last")
                )
                for side in ("server", "device")
            },
        },
        "census": census,
    }
    print_report(report)
    plot(report, out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    print(f"\nplot: {out}\nnumbers: {out.with_suffix('.json')}")
    grows = [f for m in report["fits"].values() for f in m.values() if f["verdict"] == "GROWS"]
    failed = any(s["exit_code"] != 0 or s.get("failed") for s in report["sim"].values())
    leaked = not all(row[-1] for row in report["end"])
    verdict = "FAIL" if failed or grows or leaked else "PASS"
    print(f"{verdict}: {len(grows)} growing series, {'a leak' if leaked else 'nothing leaked'}")
    return 1 if verdict == "FAIL" else 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == WRAP:
        wrapped(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the soak (default 10)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the fits")
    parser.add_argument("--devices", type=int, default=4, help="sim device slots (default 4)")
    parser.add_argument("--agents", type=int, default=2, help="headless agents (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="customers at once (2)")
    parser.add_argument("--scenario", action="append", type=Path, help="default: scenarios/")
    parser.add_argument("--prime", type=float, default=30.0, help="priming sim, s (0: none)")
    parser.add_argument("--settle", type=float, default=30.0, help="max wait for the end, s")
    parser.add_argument("--linger", type=float, default=12.0, help="then this long, s")
    parser.add_argument("--out", type=Path, help="the plot, .png or .svg (JSON beside it)")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
