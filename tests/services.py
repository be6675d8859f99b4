"""Real backing services for the tests, started on free loopback ports (never the system's own).

``MAYDAY_TEST_REDIS_URL`` points the tests at a Redis you run yourself instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest
import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_redis_server() -> Iterator[str]:
    """Start a throw-away redis-server on a free loopback port, wait until it answers, yield its URL.

    Raises :class:`RuntimeError` if it is not installed or does not come up. The benchmarks use
    this too.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `apt-get install -y redis-server`")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mayday-redis-") as workdir:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        with terminating(process):
            _wait_for_ping(url, process)
            yield url


@contextlib.contextmanager
def terminating(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Terminate ``process`` and wait for it when the block ends, however it ends.

    The benchmarks start their servers under it too.
    """
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_ping(url: str, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throw-away redis-server for the whole test run; yields its URL."""
    given = os.environ.get("MAYDAY_TEST_REDIS_URL")
    if given:
        yield given
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(run_redis_server())
        except RuntimeError as error:
            pytest.fail(str(error))
        yield url


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until the ``mayday server`` at ``url`` answers ``/healthz``; fail if it dies first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310 (loopback)
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server {url} did not start") from None
            time.sleep(0.05)


def flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


class RestartableRedis:
    """A redis-server the test stops for real (``kill -9``) and starts again on the same port.

    Its data is kept in an append-only file synced on every write (``appendfsync always``), as
    docs/deploy.md §4 recommends for a Redis whose restarts the queue should survive: every write
    Redis acknowledged before it died is there again after the restart.
    """

    def __init__(self, workdir: str) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run `apt-get install -y redis-server`"
            )
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_ping(self.url, self.process)

    def kill(self) -> None:
        """Stop it the hard way: the process is gone and its port refuses connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def restartable_redis() -> Iterator[RestartableRedis]:
    """A :class:`RestartableRedis`, started; killed when the block ends, however it ends."""
    with tempfile.TemporaryDirectory(prefix="mayday-redis-aof-") as workdir:
        server = RestartableRedis(workdir)
        try:
            server.start()
            yield server
        finally:
            server.kill()
