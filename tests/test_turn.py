"""TURN against a real coturn (Debian's ``turnserver``) on loopback.

* A whole session's media flows through the relay alone: both peers gather relay candidates only,
  both SDPs carry nothing else, the nominated ICE pair is relay to relay, coturn logs both
  allocations and counts the relayed bytes, and the agent decodes the device's screen.
* Credentials in coturn's ``use-auth-secret`` style (:mod:`server.ice`) are accepted while fresh
  and refused once expired or signed with another secret.
* What ``GET /api/ice-servers`` hands out allocates on coturn and expires after ``turn_ttl_s``.

coturn refuses peers on loopback unless told otherwise (``allow-loopback-peers``); a production
configuration must not carry that flag (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aioice import Candidate, Connection, TransportPolicy, stun
from aioice.turn import create_turn_endpoint
from aiortc import (
    RTCPeerConnection,
)

import device_agent.peer
import device_agent.rtc
import sim.agent
from device_agent import PatternScreen
from server.ice import turn_credentials
from sim import HeadlessAgent

from .conftest import AGENT_PASSWORD, MEMORY_ONLY, Desk, DeskFactory
from .devices import registered_device
from .support import assert_eventually, login

REALM = "mayday.test"
STARTUP_TIMEOUT_S = 10.0
FRAMES = 20
"""Decoded frames the agent must receive through the relay: a stream, not a lucky first frame."""


# --- coturn ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """A running coturn: where it listens, the secret it shares with the server, its log."""

    host: str
    port: int
    secret: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port(host: str) -> int:
    """A UDP port free right now (coturn listens on UDP only here: ``no-tcp``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((host, 0))
        port: int = udp.getsockname()[1]
    return port


def _answers_stun(host: str, port: int) -> bool:
    """Whether a STUN Binding request to ``host:port`` gets its success response."""
    transaction = secrets.token_bytes(12)
    request = b"\x00\x01\x00\x00" + b"\x21\x12\xa4\x42" + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, (host, port))
            response = sock.recv(2048)
        except OSError:
            return False
    return response[:2] == b"\x01\x01" and response[8:20] == transaction


def _config(host: str, port: int, secret: str, tmp: Path) -> str:
    """turnserver.conf for the test: shared secret, loopback only, no TLS, no CLI, verbose."""
    return "\n".join(
        [
            f"listening-ip={host}",
            f"relay-ip={host}",
            f"listening-port={port}",
            "use-auth-secret",
            f"static-auth-secret={secret}",
            f"realm={REALM}",
            "fingerprint",
            "no-tls",
            "no-dtls",
            "no-tcp",
            "no-cli",
            "no-software-attribute",
            # Both peers and the relay live on 127.0.0.1; coturn refuses that by default.
            "allow-loopback-peers",
            "verbose",
            "log-file=stdout",
            "simple-log",
            f"pidfile={tmp / 'turnserver.pid'}",
            f"userdb={tmp / 'turndb'}",
            "",
        ]
    )


def _start_turnserver(executable: str, tmp: Path) -> tuple[subprocess.Popen[bytes], Turn]:
    host = "127.0.0.1"
    port = _free_port(host)
    secret = secrets.token_urlsafe(24)
    conf = tmp / "turnserver.conf"
    conf.write_text(_config(host, port, secret, tmp))
    log_path = tmp / "turnserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [executable, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    turn = Turn(host=host, port=port, secret=secret, log_path=log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if _answers_stun(host, port):
            return process, turn
        time.sleep(0.05)
    _stop(process)
    pytest.fail(
        f"turnserver did not answer STUN on {host}:{port} within {STARTUP_TIMEOUT_S:.0f} s "
        f"(exit code {process.returncode}); its log:\n{turn.log()[-4000:]}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[Turn]:
    """coturn on a free loopback port with a random shared secret; stopped afterwards."""
    executable = shutil.which("turnserver")
    if executable is None:
        pytest.fail(
            "turnserver (coturn) is not installed: these tests need a real TURN server; "
            "install it with 'apt-get install -y coturn'",
            pytrace=False,
        )
    workdir = tmp_path / "coturn"
    workdir.mkdir()
    process, turn = _start_turnserver(executable, workdir)
    try:
        yield turn
    finally:
        _stop(process)


# --- relay-only peers --------------------------------------------------------------------------

IceServers = Sequence[Mapping[str, Any]]


@dataclass
class RelayPeers:
    """Stands in for ``peer_connection`` in the device and the headless agent, and records."""

    built: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)

    def factory(
        self, role: str, ice_servers: IceServers | None = None
    ) -> Callable[[IceServers, str], RTCPeerConnection]:
        """Peers for ``role``: with the ICE servers they are given, or with ``ice_servers``."""

        def build(given: IceServers = (), policy: str = "all") -> RTCPeerConnection:
            assert policy == "relay", f"the {role} was not told to use the relay only"
            used = [dict(s) for s in (given if ice_servers is None else ice_servers)]
            self.built.setdefault(role, []).append(used)
            return device_agent.rtc.peer_connection(used, policy)

        return build


def sdp_candidates(sdp: str) -> list[str]:
    return [line.strip() for line in sdp.splitlines() if line.startswith("a=candidate:")]


def nominated_pair(pc: RTCPeerConnection) -> tuple[Candidate, Candidate]:
    """(local, remote) candidate of the pair ICE nominated; every transceiver is bundled on it."""
    ice = pc.getTransceivers()[0].sender.transport.transport
    pair = ice._connection._nominated[1]
    return pair.local_candidate, pair.remote_candidate


def turn_entry(ice_servers: IceServers) -> dict[str, Any]:
    entries = [dict(s) for s in ice_servers if any(u.startswith("turn:") for u in s["urls"])]
    assert len(entries) == 1, f"expected one TURN entry in {ice_servers}"
    return entries[0]


@dataclass(frozen=True)
class Usage:
    """What coturn logged for one username: its allocations, and the bytes of the deleted ones."""

    allocated: frozenset[str]
    """coturn's session ids of the allocations made with this username."""
    deleted: dict[str, tuple[int, int]]
    """Session id → (bytes received from the client, bytes sent to it), once deleted."""

    @property
    def settled(self) -> bool:
        return bool(self.allocated) and self.allocated <= self.deleted.keys()

    @property
    def received(self) -> int:
        return sum(received for received, _ in self.deleted.values())

    @property
    def sent(self) -> int:
        return sum(sent for _, sent in self.deleted.values())


def usage(log: str, username: str) -> Usage:
    """coturn logs ``session <id>: new`` per allocation and ``usage`` when it is deleted."""
    who = rf"realm=<{re.escape(REALM)}>, username=<{re.escape(username)}>"
    allocated = re.findall(rf"session (\d+): new, {who}, ", log)
    deleted = re.findall(rf"session (\d+): usage: {who}, rp=\d+, rb=(\d+), sp=\d+, sb=(\d+)", log)
    return Usage(
        allocated=frozenset(allocated),
        deleted={session: (int(rb), int(sb)) for session, rb, sb in deleted},
    )


async def gather_relay(turn: Turn, username: str, password: str) -> list[Candidate]:
    """The candidates an ICE agent restricted to relays gathers with these credentials."""
    connection = Connection(
        ice_controlling=True,
        turn_server=turn.address,
        turn_username=username,
        turn_password=password,
        transport_policy=TransportPolicy.RELAY,
    )
    try:
        await connection.gather_candidates()
        return list(connection.local_candidates)
    finally:
        await connection.close()


class _Allocation(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def allocate(turn: Turn, username: str, password: str) -> tuple[str, int]:
    """Allocate on coturn (raises what coturn answers), delete again; the relayed address."""
    transport, protocol = await create_turn_endpoint(
        _Allocation, server_addr=turn.address, username=username, password=password
    )
    relayed: tuple[str, int] = transport.get_extra_info("sockname")
    transport.close()
    await asyncio.wait_for(protocol.closed, 5)
    return relayed


def turn_expiry(username: str) -> int:
    expiry, _, _ = username.partition(":")
    return int(expiry)


async def agent_ice_servers(desk: Desk, token: str) -> list[dict[str, Any]]:
    status, body = await desk.get("/api/ice-servers", token)
    assert status == 200, body
    servers: list[dict[str, Any]] = body["ice_servers"]
    return servers


# --- tests -------------------------------------------------------------------------------------


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_session_media_flows_through_the_relay_alone(
    make_desk: DeskFactory, turn: Turn, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = await make_desk(
        turn_urls=[turn.url], turn_secret=turn.secret, turn_ttl_s=600, ice_transport_policy="relay"
    )
    await desk.add_agent("alice")
    signed_in = await login(desk.http, desk.url, "alice", AGENT_PASSWORD)
    token, agent_id = str(signed_in["token"]), str(signed_in["agent"]["id"])
    # Not in a session yet: GET /api/ice-servers hands out no TURN credentials (§13).
    assert [s for s in await agent_ice_servers(desk, token) if "credential" in s] == []

    # The server's ice_transport_policy=relay and each party's TURN credentials reach both peers
    # in session.started.
    peers = RelayPeers()
    monkeypatch.setattr(sim.agent, "peer_connection", peers.factory("agent"))
    monkeypatch.setattr(device_agent.peer, "peer_connection", peers.factory("device"))

    agent = HeadlessAgent(desk.url, token)
    device = await registered_device(desk.http, desk.url, PatternScreen(640, 400))
    try:
        await agent.start()
        await device.start()
        await device.request_help(topic="general", locale="en")
        ring = await agent.next_ring()
        await agent.accept(ring["ring_id"])
        _, frame = await agent.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (640, 400)
        await assert_eventually(
            lambda: agent.frames_received >= FRAMES, message="the video stopped after a frame"
        )

        # Each side's peer was built with the TURN credentials the server issued to it.
        agent_turn = turn_entry(peers.built["agent"][-1])
        device_turn = turn_entry(peers.built["device"][-1])
        assert agent_turn["urls"] == device_turn["urls"] == [turn.url]
        assert agent_turn["username"].endswith(f":agent-{agent_id}")
        assert device_turn["username"].endswith(f":device-{device.device_id}")

        # Both SDPs offer relayed candidates and nothing else.
        assert device.peer is not None
        assert agent.pc is not None
        device_pc, agent_pc = device.peer.pc, agent.pc
        for name, sdp in (
            ("offer", device_pc.localDescription.sdp),
            ("answer", agent_pc.localDescription.sdp),
        ):
            candidates = sdp_candidates(sdp)
            assert candidates, f"the {name} carries no candidate"
            assert all(" typ relay " in c for c in candidates), f"{name}: {candidates}"
            assert all(f" {turn.host} " in c for c in candidates), f"{name}: {candidates}"

        # ICE nominated a pair of relayed candidates on each side: the device's relayed address
        # talks to the agent's and back, through coturn.
        device_local, device_remote = nominated_pair(device_pc)
        agent_local, agent_remote = nominated_pair(agent_pc)
        assert [c.type for c in (device_local, device_remote, agent_local, agent_remote)] == [
            "relay"
        ] * 4
        assert (device_local.host, device_local.port) == (agent_remote.host, agent_remote.port)
        assert (agent_local.host, agent_local.port) == (device_remote.host, device_remote.port)
    finally:
        await device.close()
        await agent.close()

    # coturn allocated for both parties and, once every allocation was deleted, reported what it
    # relayed: the device's video went up to coturn and came down to the agent.
    def settled() -> bool:
        log = turn.log()
        return all(usage(log, entry["username"]).settled for entry in (agent_turn, device_turn))

    await assert_eventually(settled, message=f"coturn did not report usage:\n{turn.log()}")
    log = turn.log()
    uploaded = usage(log, device_turn["username"]).received
    delivered = usage(log, agent_turn["username"]).sent
    # 20 frames of a 640×400 picture are far more than the ICE checks and DTLS handshake.
    assert uploaded > 30_000, f"coturn received only {uploaded} bytes from the device"
    assert delivered > 30_000, f"coturn sent only {delivered} bytes to the agent"


async def test_expired_credentials_are_refused(turn: Turn) -> None:
    now = time.time()
    fresh = turn_credentials(turn.secret, "device-fresh", 600)
    expired = turn_credentials(turn.secret, "device-late", 600, now=now - 3600)
    just_expired = turn_credentials(turn.secret, "device-negative", -5)
    forged = turn_credentials("not-" + turn.secret, "device-forged", 600)
    assert turn_expiry(expired[0]) < now
    assert turn_expiry(just_expired[0]) < now

    relayed = await allocate(turn, *fresh)
    assert relayed[0] == turn.host
    assert [c.type for c in await gather_relay(turn, *fresh)] == ["relay"]

    for username, password in (expired, just_expired, forged):
        with pytest.raises(stun.TransactionFailed) as refused:
            await allocate(turn, username, password)
        code, _ = refused.value.response.attributes["ERROR-CODE"]
        assert code == 401, f"{username}: {refused.value}"
        assert await gather_relay(turn, username, password) == []


async def test_ice_servers_from_the_api_allocate_and_expire_as_configured(
    make_desk: DeskFactory, turn: Turn
) -> None:
    ttl_s = 120
    desk = await make_desk(turn_urls=[turn.url], turn_secret=turn.secret, turn_ttl_s=ttl_s)
    await desk.session("alice")  # TURN credentials are for a party of a live session
    signed_in = await login(desk.http, desk.url, "alice", AGENT_PASSWORD)
    token, agent_id = str(signed_in["token"]), str(signed_in["agent"]["id"])

    before = time.time()
    servers = await agent_ice_servers(desk, token)
    after = time.time()
    entry = turn_entry(servers)
    assert entry["urls"] == [turn.url]
    username, credential = entry["username"], entry["credential"]
    expiry = turn_expiry(username)
    assert int(before + ttl_s) <= expiry <= int(after + ttl_s)
    assert username == f"{expiry}:agent-{agent_id}"
    assert (username, credential) == turn_credentials(
        turn.secret, f"agent-{agent_id}", ttl_s, now=expiry - ttl_s
    )

    relayed = await allocate(turn, username, credential)
    assert relayed[0] == turn.host
    assert [c.type for c in await gather_relay(turn, username, credential)] == ["relay"]
    await assert_eventually(  # allocate(), then gather_relay(): two allocations in coturn's log
        lambda: len(usage(turn.log(), username).allocated) == 2,
        message=f"coturn logged no allocation for {username}",
    )

    # The same user's credential as it will look once the TTL has run out is refused.
    user = username.split(":", 1)[1]
    stale = turn_credentials(turn.secret, user, ttl_s, now=time.time() - ttl_s - 1)
    with pytest.raises(stun.TransactionFailed):
        await allocate(turn, *stale)
