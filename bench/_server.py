"""Start a real ``mayday server`` process (or another server) on a free loopback port for a benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port, terminating, wait_healthy

PASSWORD = "bench-password-1"
ROOT = Path(__file__).resolve().parent.parent
SHARED_SERVICES = ("DATABASE_URL", "REDIS_URL", "MAYDAY_DATABASE_URL", "MAYDAY_REDIS_URL")
"""Left out of a benchmark server's environment: it runs on its own SQLite file and in memory."""


def mayday(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """Run a ``mayday`` subcommand against the server's data; its standard output."""
    return subprocess.run(
        [sys.executable, "-m", "mayday.cli", *args],
        input=stdin,
        text=True,
        check=True,
        env=env,
        capture_output=True,
    ).stdout


@contextlib.contextmanager
def running_server(
    agents: list[str], prepare: Callable[[dict[str, str]], None] | None = None, **settings: str
) -> Iterator[str]:
    """Yield the base URL of a fresh server with ``agents`` (password ``PASSWORD``) created.

    ``prepare`` gets the server's environment before it starts, to run more ``mayday``
    subcommands against its data (e.g. ``sites add``).
    """
    with tempfile.TemporaryDirectory(prefix="mayday-bench-") as data_dir:
        port = free_port()
        env = {
            **os.environ,
            "MAYDAY_DATA_DIR": data_dir,
            "MAYDAY_LOG_LEVEL": "warning",
            **{f"MAYDAY_{k.upper()}": v for k, v in settings.items()},
        }
        for name in agents:
            mayday("agents", "add", name, "--languages", "en", env=env, stdin=PASSWORD + "\n")
        if prepare is not None:
            prepare(env)
        process = subprocess.Popen(
            [sys.executable, "-m", "mayday.cli", "server", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(data_dir) / "server.log", "w"),  # noqa: SIM115
        )
        url = f"http://127.0.0.1:{port}"
        with terminating(process):
            wait_healthy(url, process)
            yield url


# --- one server process whose memory a benchmark watches ------------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it); the new limit.

    The ``ulimit -n`` of the shell is only the soft limit; a process may raise it up to the hard
    limit itself. Fails clearly when even the hard limit is below ``needed``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        raise SystemExit(
            f"this needs {needed} open files in one process but the hard limit is {hard}; "
            f"raise it (ulimit -Hn, /etc/security/limits.conf) or use fewer devices"
        )
    return target


def proc_status(pid: int, field: str) -> int:
    """A number from /proc/<pid>/status (``VmRSS`` in KiB, ``Threads``, …)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), KiB."""
    return proc_status(pid, "VmRSS")


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    snapshot_prefix: Path | None
    """Where a traced server writes its tracemalloc snapshots (see :mod:`bench._traced`)."""
    _snapshots: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def threads(self) -> int:
        return proc_status(self.pid, "Threads")

    async def snapshot(self, timeout: float = 300.0) -> Path:
        """Ask a traced server for a tracemalloc snapshot; the path of the file it wrote."""
        if self.snapshot_prefix is None:
            raise RuntimeError("this server was not started with tracing")
        path = Path(f"{self.snapshot_prefix}.{self._snapshots}")
        self._snapshots += 1
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(path.exists):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server wrote no snapshot")
            await asyncio.sleep(0.1)
        return path


def bench_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SHARED_SERVICES}
    env.update(
        MAYDAY_DATA_DIR=str(data_dir),
        MAYDAY_LOG_LEVEL="warning",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


@contextlib.contextmanager
def server_process(
    module_args: list[str], data_dir: Path, *, traced: bool = False, python: str = sys.executable
) -> Iterator[ServerProcess]:
    """Run ``python -m <module_args> --port <free port>`` with ``data_dir`` as its data directory.

    ``traced`` runs it under :mod:`bench._traced` (tracemalloc on, a snapshot per SIGUSR1): a flag
    of the benchmark, nothing the server itself knows about. ``python`` is the interpreter.
    """
    port = free_port()
    env = bench_env(data_dir)
    prefix: Path | None = None
    command = [python, "-m", *module_args, "--port", str(port)]
    if traced:
        prefix = data_dir / "snapshot"
        env["BENCH_SNAPSHOT_PREFIX"] = str(prefix)
        command = [python, "-m", "bench._traced", *command[2:]]
    with open(data_dir / "server.log", "w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, data_dir, prefix)
    try:
        wait_healthy(server.url, process, timeout=120 if traced else 20)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def server_fleet(
    count: int, env: dict[str, str], data_dir: Path
) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """Start ``count`` ``mayday server`` processes with ``env`` (one system if it names a Redis),
    each on a free port and logging to ``data_dir/server<i>.log``; yield their URLs and processes
    once all are healthy. A process that does not come up shows the end of its log."""
    running: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    for index in range(count):
        port = free_port()
        with open(data_dir / f"server{index}.log", "w") as log:
            running.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mayday.cli", "server", "--port", str(port)],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for index, (url, process) in enumerate(zip(urls, running, strict=True)):
            try:
                wait_healthy(url, process, timeout=60)
            except RuntimeError:
                print((data_dir / f"server{index}.log").read_text()[-3000:])
                raise
        yield urls, running
    finally:
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
