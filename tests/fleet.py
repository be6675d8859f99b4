"""Several real ``mayday server`` processes sharing one Redis and one database: a fleet.

The scale-out and process-death tests start one per test, with settings of their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .services import flush, free_port, wait_healthy
from .support import Client

PASSWORD = "scale-out-password"


@dataclass
class Fleet:
    """N server processes sharing one Redis and one database."""

    urls: list[str]
    processes: list[subprocess.Popen[bytes]]
    env: dict[str, str]
    clients: list[Client] = field(default_factory=list)

    def add_agents(self, *names: str) -> None:
        for name in names:
            subprocess.run(
                [sys.executable, "-m", "mayday.cli", "agents", "add", name, "--languages", "en"],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                env=self.env,
                capture_output=True,
            )

    def kill(self, index: int) -> None:
        """``kill -9``: the process dies without a word to anyone."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(timeout=10)


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
        **{f"MAYDAY_{name.upper()}": value for name, value in settings.items()},
    }
    fleet = Fleet(urls=[], processes=[], env=env)
    fleet.add_agents("bootstrap")  # creates the schema before several processes race to
    try:
        for index in range(size):
            port = free_port()
            log = open(tmp_path / f"server{index}.log", "wb")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, "-m", "mayday.cli", "server", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            fleet.processes.append(process)
            fleet.urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(fleet.urls, fleet.processes, strict=True):
            wait_healthy(url, process)
        yield fleet
    finally:
        for process in fleet.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
