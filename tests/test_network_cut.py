"""The device's network cut for real, inside a network namespace: the session survives a short cut
and ends ``peer_lost`` after a long one (docs/protocol.md §9); signaling calls made across a cut are
answered once the socket is back.

A real ``mayday server`` process listens on the host end of a veth pair; ``mayday device`` (a moving
test pattern) runs inside the namespace behind it; a headless agent in this process takes the call
on the host side. The cut drops every packet between the device and the host, in both directions,
without closing a socket or returning an error to anyone (``tests/netns.py``), as a dead Wi-Fi or
upstream link would.

The server's Engine.IO ping is shortened for these tests (``MAYDAY_PING_INTERVAL_S`` 1 s and
``MAYDAY_PING_TIMEOUT_S`` 2 s, instead of 10 s + 10 s), or neither side would notice a dead
connection before 10 to 20 s.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling import Event
from sim import HeadlessAgent

from .netns import Namespace, network_namespace
from .services import wait_healthy
from .support import assert_eventually, login, register_device


@pytest.fixture(autouse=True)
def as_root() -> None:
    """Fail, not skip: network namespaces and tc need root, CI runs as root, and a silent skip
    would leave the network cut unchecked."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.fail("network namespaces and tc need root: run the tests as root", pytrace=False)


ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "network-cut-password"
CUT_S = 5.0
"""The short cut: longer than the shortened ping timeout, shorter than the grace period."""
PING_INTERVAL_S = 1.0
PING_TIMEOUT_S = 2.0
RECOVERY_S = 20.0
"""Deadline for each thing that must come back after the network does."""
MEDIA_BACK_S = 10.0
"""Deadline for the agent's video to come back once the device's session has resumed."""
FRAMES_AFTER = 5
"""Decoded frames the agent must get after the network is back."""


@dataclass
class Setup:
    namespace: Namespace
    url: str
    server_log: Path
    device_log: Path
    agent: HeadlessAgent
    session_id: str
    peers: list[dict[str, Any]]
    """``session.peer`` events the agent got, in order."""

    def device_logged(self, event: str, **fields: str) -> bool:
        """Whether the device logged ``event`` with these ``key=value`` fields on one line."""
        text = self.device_log.read_text(errors="replace")
        for line in text.splitlines():
            if re.search(rf"\b{re.escape(event)}\b", line) and all(
                re.search(rf"\b{key}={re.escape(value)}\b", line) for key, value in fields.items()
            ):
                return True
        return False

    def peer_seen(self, connected: bool, after: int = 0) -> bool:
        return any(
            event.get("peer") == "device"
            and event.get("connected") is connected
            and event.get("session_id") == self.session_id
            for event in self.peers[after:]
        )

    def explain(self) -> str:
        return (
            f"\n--- device log ---\n{self.device_log.read_text(errors='replace')[-6000:]}"
            f"\n--- server log ---\n{self.server_log.read_text(errors='replace')[-6000:]}"
        )


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def _server(namespace: Namespace, tmp: Path, grace_s: float) -> Iterator[tuple[str, Path]]:
    """A ``mayday server`` on the host end of the veth pair, with one agent account, ``alice``."""
    env = {
        **os.environ,
        "MAYDAY_DATA_DIR": str(tmp / "data"),
        "MAYDAY_SECRET_KEY": "network-cut-signing-key-" + "x" * 24,
        "MAYDAY_LOG_LEVEL": "info",
        "MAYDAY_GRACE_PERIOD_S": str(grace_s),
        "MAYDAY_PING_INTERVAL_S": str(PING_INTERVAL_S),
        "MAYDAY_PING_TIMEOUT_S": str(PING_TIMEOUT_S),
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "mayday.cli", "agents", "add", "alice", "--languages", "en"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        env=env,
        capture_output=True,
        cwd=ROOT,
    )
    port = _free_port(namespace.host_ip)
    url = f"http://{namespace.host_ip}:{port}"
    log = tmp / "server.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mayday.cli",
                "server",
                "--host",
                namespace.host_ip,
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        wait_healthy(url, process)
        yield url, log
    finally:
        _stop(process)


@contextmanager
def _device(namespace: Namespace, url: str, tmp: Path) -> Iterator[Path]:
    """``mayday device`` inside the namespace, showing a moving pattern, asking for help at once."""
    log = tmp / "device.log"
    argv = namespace.exec_argv(
        sys.executable,
        "-m",
        "mayday.cli",
        "device",
        "--server",
        url,
        "--config",
        str(tmp / "device.json"),
        "--name",
        "cut-tablet",
        "--source",
        "pattern",
        "--fps",
        "15",
        "--help-now",
    )
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield log
    finally:
        _stop(process)


@asynccontextmanager
async def _session(tmp: Path, grace_s: float) -> AsyncIterator[Setup]:
    """Server, device and agent up; the agent has accepted the device's call and sees its screen."""
    with (
        network_namespace() as namespace,
        _server(namespace, tmp, grace_s) as (url, server_log),
        _device(namespace, url, tmp) as device_log,
    ):
        async with aiohttp.ClientSession() as http:
            token = str((await login(http, url, "alice", PASSWORD))["token"])
        agent = HeadlessAgent(url, token)
        peers: list[dict[str, Any]] = []

        async def on_peer(data: dict[str, Any]) -> None:
            peers.append(data)

        agent.client.on(Event.SESSION_PEER, on_peer)
        try:
            await agent.start()
            ring = await agent.next_ring(timeout=30)
            session_id = await agent.accept(ring["ring_id"])
            await agent.wait_first_frame(timeout=20)
            yield Setup(namespace, url, server_log, device_log, agent, session_id, peers)
        finally:
            await agent.close()
            if namespace.is_cut:
                namespace.restore()


async def _frames_after(agent: HeadlessAgent, count: int, timeout: float) -> None:
    """Wait until the agent has decoded ``count`` more frames than it has now."""
    start = agent.frames_received
    await assert_eventually(
        lambda: agent.frames_received >= start + count,
        timeout=timeout,
        message=f"the agent decoded {agent.frames_received - start} of {count} frames",
    )


async def test_a_short_cut_resumes_the_session_and_its_media(tmp_path: Path) -> None:
    async with _session(tmp_path, grace_s=15.0) as setup:
        agent, session_id = setup.agent, setup.session_id
        pc_before = agent.pc
        cut_at = time.monotonic()
        setup.namespace.cut()
        # The server notices the dead socket (ping timeout) and tells the agent.
        await assert_eventually(
            lambda: setup.peer_seen(connected=False),
            timeout=CUT_S + 10,
            message="the server never noticed the device's socket was dead" + setup.explain(),
        )
        await asyncio.sleep(max(0.0, CUT_S - (time.monotonic() - cut_at)))
        frozen = agent.frames_received
        setup.namespace.restore()
        restored_at = time.monotonic()

        # The device's socket comes back within the grace period: the same session, resumed.
        await assert_eventually(
            lambda: setup.peer_seen(connected=True),
            timeout=RECOVERY_S,
            message="the device's socket never came back" + setup.explain(),
        )
        await assert_eventually(
            lambda: setup.device_logged(
                "device.session_started", session_id=session_id, resumed="True"
            ),
            timeout=RECOVERY_S,
            message="the device never got its session back (resumed)" + setup.explain(),
        )
        resumed_at = time.monotonic()
        # And its screen reaches the agent again, soon: over a new peer connection (§9: the device
        # heard nothing from the agent for seconds, so it offers again; aiortc has no ICE restart).
        # The one kept through the cut would still say "connected" but show a frozen picture until
        # the next key frame, some 17 s later (250 frames), past this deadline.
        await _frames_after(agent, FRAMES_AFTER, MEDIA_BACK_S)
        recovered_at = time.monotonic()
        assert agent.pc is not pc_before, "the device did not offer again after the resume"
        assert agent.frames_received > frozen
        assert agent.session is not None
        assert agent.session_id == session_id
        assert agent.ended.empty(), agent.ended.get_nowait()
        assert not setup.device_logged("device.session_ended"), setup.explain()
        print(
            f"cut {restored_at - cut_at:.1f} s; resumed {resumed_at - restored_at:.1f} s and "
            f"video back {recovered_at - restored_at:.1f} s after the restore"
        )


async def test_a_cut_past_the_grace_period_ends_the_session(tmp_path: Path) -> None:
    async with _session(tmp_path, grace_s=2.0) as setup:
        agent, session_id = setup.agent, setup.session_id
        setup.namespace.cut()
        # The ping timeout, then the grace period: the agent learns the device is gone for good.
        ended = await asyncio.wait_for(agent.ended.get(), timeout=30)
        assert ended["session_id"] == session_id
        assert ended["reason"] == "peer_lost", ended
        setup.namespace.restore()

        # The device, back on the network, reconnects and learns the end (§9).
        await assert_eventually(
            lambda: setup.device_logged(
                "device.session_ended", session_id=session_id, reason="peer_lost"
            ),
            timeout=RECOVERY_S,
            message="the device never learnt that its session ended" + setup.explain(),
        )
        assert not setup.device_logged("device.session_started", resumed="True"), setup.explain()


CALLER = """\
import asyncio, sys
from device_agent.signaling_client import SignalingClient
from signaling import Event

HELP = {"topic": "general", "locale": "en"}


async def main(url: str, device_id: str, secret: str) -> None:
    client = SignalingClient(url, "device", {"device_id": device_id, "device_secret": secret})
    await client.connect()
    loop = asyncio.get_running_loop()
    print("connected", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # the network is cut now
    into_the_cut = asyncio.ensure_future(client.call(Event.HELP_REQUEST, HELP))
    while client.connected:
        await asyncio.sleep(0.02)
    while_away = asyncio.ensure_future(client.call(Event.HELP_REQUEST, HELP))
    await asyncio.sleep(0)
    print("lost", flush=True)
    first, second = (await into_the_cut)["ticket"]["id"], (await while_away)["ticket"]["id"]
    print("answered", first, second, client.resent, flush=True)
    await client.close()


asyncio.run(main(*sys.argv[1:4]))
"""
"""A device's signaling client inside the namespace, calling across the cut (see the test)."""


async def test_calls_across_a_cut_are_answered_once_the_socket_is_back(tmp_path: Path) -> None:
    """A call sent into the cut, never answered, is sent again on the next socket; one made while
    the socket is down waits for it (instead of failing with ``BadNamespaceError``)."""
    with network_namespace() as namespace, _server(namespace, tmp_path, 15.0) as (url, _log):
        async with aiohttp.ClientSession() as http:
            device = await register_device(http, url)
        process = await asyncio.create_subprocess_exec(
            *namespace.exec_argv(
                sys.executable, "-c", CALLER, url, device["device_id"], device["device_secret"]
            ),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=ROOT,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        output: list[str] = []

        async def next_line() -> str:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), RECOVERY_S)).decode()
            output.append(line)
            assert line, "the caller ended:\n" + "".join(output)
            return line.strip()

        try:
            while await next_line() != "connected":
                pass
            namespace.cut()
            process.stdin.write(b"cut\n")
            await process.stdin.drain()
            while await next_line() != "lost":  # the ping timeout: the socket is known dead
                pass
            namespace.restore()
            words = await next_line()
            while not words.startswith("answered"):
                words = await next_line()
            _, first, second, resent = words.split()
            assert first == second, "one ticket, asked for twice"
            assert int(resent) >= 1, "the call sent into the cut was not sent again"
            assert await asyncio.wait_for(process.wait(), RECOVERY_S) == 0, "".join(output)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
