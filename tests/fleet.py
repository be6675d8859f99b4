"""Several real ``mayday server`` processes sharing one Redis and one database: a fleet.

The scale-out and process-death tests start one per test, with settings of their own
(``database_url=...`` puts the records in PostgreSQL instead of a shared SQLite file). A process
can be killed (``kill -9``), stopped gracefully (SIGTERM) and started again on its port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .services import flush, free_port, wait_healthy
from .support import Client

PASSWORD = "scale-out-password"


_ADD_AGENTS = """
import sys
from mayday.cli import main
role, names = sys.argv[1], sys.argv[2:]
for name in names:
    if main(["agents", "add", name, "--languages", "en", "--role", role]) != 0:
        sys.exit(f"could not add agent {name}")
"""


@dataclass
class Fleet:
    """N server processes sharing one Redis and one database."""

    urls: list[str]
    processes: list[subprocess.Popen[bytes]]
    env: dict[str, str]
    clients: list[Client] = field(default_factory=list)
    logs: Path | None = None
    """Where each process writes its output (``server<index>.log``, appended to on restarts)."""

    def add_agents(self, *names: str, role: str = "agent") -> None:
        """``mayday agents add NAME --languages en --role ROLE`` for each name, as an operator
        would, in one process (a Python start per agent costs a second each)."""
        subprocess.run(
            [sys.executable, "-c", _ADD_AGENTS, role, *names],
            input=(PASSWORD + "\n") * len(names),
            text=True,
            check=True,
            env=self.env,
            capture_output=True,
        )

    def kill(self, index: int) -> None:
        """``kill -9``: the process dies without a word to anyone."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(timeout=10)

    def terminate(self, index: int) -> None:
        """SIGTERM: the process is asked to stop gracefully (it drains first)."""
        self.processes[index].send_signal(signal.SIGTERM)

    def wait_exited(self, index: int, timeout: float = 30.0) -> int:
        """The process's exit status, once it has exited; fails after ``timeout``."""
        return self.processes[index].wait(timeout=timeout)

    def start(self, index: int) -> None:
        """Start process ``index`` again on its port (after it exited) and wait until it serves."""
        assert self.processes[index].poll() is not None, "still running"
        self.processes[index] = _launch(self, index)
        wait_healthy(self.urls[index], self.processes[index])

    def log(self, index: int) -> str:
        if self.logs is None:
            return ""
        return (self.logs / f"server{index}.log").read_text(errors="replace")


def _launch(fleet: Fleet, index: int) -> subprocess.Popen[bytes]:
    assert fleet.logs is not None
    port = fleet.urls[index].rsplit(":", 1)[1]
    with open(fleet.logs / f"server{index}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "mayday.cli", "server", "--port", port],
            env=fleet.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Wait until ``url``'s ``/readyz`` answers 200 (its Redis fan-out hears the channel)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2):  # noqa: S310 (loopback)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} was not ready within {timeout:g} s") from None
            time.sleep(0.1)


@contextmanager
def run_fleet(redis_url: str, tmp_path: Path, *, size: int = 2, **settings: str) -> Iterator[Fleet]:
    """Start ``size`` server processes on free ports; ``settings`` become ``MAYDAY_*`` variables."""
    flush(redis_url)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "MAYDAY_DATA_DIR": str(tmp_path / "data"),
        "MAYDAY_SECRET_KEY": "fleet-shared-signing-key-" + "x" * 24,
        "MAYDAY_LOG_LEVEL": "warning",
        "MAYDAY_GRACE_PERIOD_S": "20",
        "MAYDAY_WRAPUP_S": "0",  # raw test clients take their next ring at once
        **{f"MAYDAY_{name.upper()}": value for name, value in settings.items()},
    }
    fleet = Fleet(urls=[], processes=[], env=env, logs=tmp_path)
    fleet.add_agents("bootstrap")  # creates the schema before several processes race to
    try:
        for index in range(size):
            fleet.urls.append(f"http://127.0.0.1:{free_port()}")
            fleet.processes.append(_launch(fleet, index))
        for url, process in zip(fleet.urls, fleet.processes, strict=True):
            wait_healthy(url, process)
        yield fleet
    finally:
        for process in fleet.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
