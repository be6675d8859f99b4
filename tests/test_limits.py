"""Size and rate limits on every inbound message and route, against a real server.

Raw websockets speak Engine.IO and Socket.IO by hand here (``40/device,{auth}`` signs in,
``42/device,<id>[name, payload]`` is an event with an ack, ``43/device,<id>[ack]`` its answer),
so a test can send what no Socket.IO client library would: floods, deep JSON, broken UTF-8,
compressed bombs, stray binary frames. Each test checks the documented refusal (an error ack or a
close), that a good session is still answered afterwards, and that the server logged no unhandled
exception. Nothing is timed: the flood test prints the good session's ack latencies, and asserts
only that its acks keep coming.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from pydantic import BaseModel

from signaling import INBOUND
from signaling import models as m

from .conftest import MEMORY_ONLY, Desk
from .support import DEFAULT_TIMEOUT, Client, device_auth, register_device

pytestmark = pytest.mark.timeout(120)

ENGINE_IO = "/socket.io/?EIO=4&transport=websocket"
Ws = aiohttp.ClientWebSocketResponse


@contextmanager
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing the server logs inside is an error: no ``log.exception`` of ours (structlog), no
    ``message async handler error`` of Engine.IO's (stdlib logging)."""
    caplog.set_level(logging.ERROR)
    with structlog.testing.capture_logs() as logs:
        yield
    errors = [entry for entry in logs if entry["log_level"] in ("error", "critical")]
    assert errors == [], errors
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def _sign_in(desk: Desk, *, compress: int = 0) -> tuple[Ws, dict[str, str]]:
    """A raw connection signed in to ``/device`` as a new device."""
    registered = await register_device(desk.http, desk.url)
    ws = await desk.http.ws_connect(f"{desk.url}{ENGINE_IO}", compress=compress, max_msg_size=0)
    opening = await ws.receive(timeout=DEFAULT_TIMEOUT)
    assert opening.data.startswith("0{"), opening
    await ws.send_str("40/device," + json.dumps(device_auth(registered)))
    while True:
        message = await ws.receive(timeout=DEFAULT_TIMEOUT)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        if message.data.startswith("40/device,"):
            return ws, registered
        assert not message.data.startswith("44"), message.data


async def _ack(ws: Ws, ack_id: int) -> Any:
    """The answer to event ``ack_id`` (answering pings, skipping other events meanwhile)."""
    prefix = f"43/device,{ack_id}["
    while True:
        message = await ws.receive(timeout=DEFAULT_TIMEOUT)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        if message.data == "2":
            await ws.send_str("3")
        elif message.data.startswith(prefix):
            return json.loads(message.data[len(prefix) - 1 :])[0]


async def _call(ws: Ws, ack_id: int, frame_json: str) -> Any:
    """Send ``42/device,<ack_id><frame_json>`` as it is; its ack."""
    await ws.send_str(f"42/device,{ack_id}{frame_json}")
    return await _ack(ws, ack_id)


async def _closed(ws: Ws) -> aiohttp.WSMessage:
    """Read until the server closes the connection; the closing message."""

    async def read() -> aiohttp.WSMessage:
        while True:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                return message
            if message.data == "2":
                await ws.send_str("3")

    return await asyncio.wait_for(read(), DEFAULT_TIMEOUT)


async def _still_answers(desk: Desk) -> None:
    """A new device signs in and is answered: the server carries on for everyone else."""
    device, _ = await desk.device("bystander")
    assert (await device.call("help.request", {}))["ticket"]["state"] in ("queued", "ringing")
    assert (await device.call("help.cancel", {"ticket_id": "ses_nothing"}))["error"]["code"] in (
        "not_found",
        "not_party",
    )


def _rss_kib() -> int:
    """Resident memory of this process (the server runs in it) now, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@asynccontextmanager
async def _memory_growth() -> AsyncIterator[list[float]]:
    """Watch this process's resident memory while the block runs, every 2 ms (a 100 MB
    allocation takes longer than that to fill); the list gets the largest growth, MiB."""
    baseline = _rss_kib()
    peak = baseline
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _rss_kib())
            await asyncio.sleep(0.002)

    task = asyncio.create_task(sample())
    grown: list[float] = []
    try:
        yield grown
    finally:
        stop.set()
        await task
        grown.append((max(peak, _rss_kib()) - baseline) / 1024)


# --- rate ------------------------------------------------------------------------------------


PACE_S = 0.02
"""A normal session's pause between round trips: 50 events a second, half the rate limit."""


class RoundTrips:
    """An agent doing ``presence.set`` round trips, one every ``PACE_S``, until stopped."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.latencies: list[float] = []
        self._counted = asyncio.Event()
        self._wanted = 0

    async def wait_for(self, more: int) -> None:
        """Until ``more`` round trips beyond those done so far have been answered."""
        self._wanted = len(self.latencies) + more
        self._counted.clear()
        await asyncio.wait_for(self._counted.wait(), DEFAULT_TIMEOUT)

    async def run(self, stop: asyncio.Event) -> None:
        status = "away"
        while not stop.is_set():
            status = "available" if status == "away" else "away"
            started = time.perf_counter()
            ack = await self.client.call("presence.set", {"status": status})
            self.latencies.append(time.perf_counter() - started)
            assert ack == {"ok": True, "status": status}, ack
            if len(self.latencies) >= self._wanted:
                self._counted.set()
            await asyncio.sleep(PACE_S)


@asynccontextmanager
async def _round_trips(client: Client) -> AsyncIterator[RoundTrips]:
    trips = RoundTrips(client)
    stop = asyncio.Event()
    task = asyncio.create_task(trips.run(stop))
    try:
        yield trips
    finally:
        stop.set()
        await task


def _describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    return (
        f"bystander presence.set ack, {name}: n={len(values)} "
        f"p50={ordered[len(ordered) // 2] * 1000:.1f} ms "
        f"p95={ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms max={ordered[-1] * 1000:.1f} ms"
    )


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_a_flood_is_rate_limited_then_disconnected_while_others_carry_on(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await desk.agent("bystander-agent")
    async with _round_trips(agent) as trips:
        await trips.wait_for(50)
    quiet = trips.latencies
    flooder, _ = await _sign_in(desk)
    sent = 10_000
    answers: dict[str, int] = {}
    with no_unhandled_errors(caplog):
        async with _round_trips(agent) as trips:
            started = time.monotonic()
            for ack_id in range(sent):  # as fast as the socket takes them
                await flooder.send_str(
                    f'42/device,{ack_id}["help.cancel",{{"ticket_id":"ses_x{ack_id}"}}]'
                )
            send_s = time.monotonic() - started
            disconnected = False
            seen: list[str] = []
            while not disconnected:
                try:
                    message = await flooder.receive(timeout=DEFAULT_TIMEOUT)
                except TimeoutError:
                    raise AssertionError((answers, seen[-5:])) from None
                seen.append(str(message.data)[:100])
                assert message.type is aiohttp.WSMsgType.TEXT, message
                if message.data.startswith("43/device,"):
                    ack = json.loads(message.data.partition("[")[2][:-1])
                    code = ack["error"]["code"]
                    answers[code] = answers.get(code, 0) + 1
                    if code == "rate_limited":
                        assert "too many events" in ack["error"]["message"], ack
                disconnected = message.data == "41/device,"
            elapsed_s = time.monotonic() - started
            during = len(trips.latencies)
            await trips.wait_for(20)  # and it goes on being answered after the flood
    print(f"\nflood: {sent} events sent in {send_s:.2f} s; answers {answers}; disconnected")
    print(_describe("quiet", quiet))
    print(_describe(f"during the flood ({during} of them) and after", trips.latencies))
    processed = sum(n for code, n in answers.items() if code != "rate_limited")
    assert answers.get("rate_limited", 0) > 0
    # No more than the burst and the sustained rate allow for the time it took.
    assert processed <= 200 + 100 * elapsed_s + 1, (processed, elapsed_s)
    assert processed < sent
    await _still_answers(desk)


async def test_within_the_burst_nothing_is_refused(desk: Desk) -> None:
    """ICE candidates trickled at connect, a flush of buffered events: a burst of 150 events
    back to back is answered in full."""
    ws, _ = await _sign_in(desk)
    for ack_id in range(150):
        await ws.send_str(f'42/device,{ack_id}["help.cancel",{{"ticket_id":"ses_y{ack_id}"}}]')
    for ack_id in range(150):
        assert (await _ack(ws, ack_id))["error"]["code"] == "not_found"


# --- structure and size of a frame -------------------------------------------------------------


async def test_deeply_nested_json_is_refused_before_it_is_parsed(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    ws, _ = await _sign_in(desk)
    with no_unhandled_errors(caplog):
        for depth in (33, 1_000, 30_000):  # 30 000 levels: 60 kB, under the frame cap
            nested = "[" * depth + "]" * depth
            ack = await _call(ws, 1, f'["help.request",{{"topic":{nested}}}]')
            assert ack["error"] == {
                "code": "bad_request",
                "message": "help.request: the payload is nested deeper than 32 levels",
            }
        # 32 levels with the event's own array: read, and refused by the schema instead.
        nested = "[" * 30 + "]" * 30
        ack = await _call(ws, 2, f'["help.request",{{"topic":{nested}}}]')
        assert ack["error"]["code"] == "bad_request"
        assert "topic" in ack["error"]["message"]
        # Brackets inside strings are text, not nesting.
        ack = await _call(ws, 3, json.dumps(["chat.send", {"session_id": "s", "text": "[" * 40}]))
        assert ack["error"]["code"] == "not_found"
        assert (await _call(ws, 4, '["help.request",{}]'))["ok"] is True
    await _still_answers(desk)


async def test_malformed_packets_get_error_acks_and_spoofed_disconnects_nothing(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    ws, _ = await _sign_in(desk)
    with no_unhandled_errors(caplog):
        ticket = (await _call(ws, 1, '["help.request",{}]'))["ticket"]
        cases = [
            ('["disconnect"]', "unknown_event", "'disconnect' is not an event a client sends"),
            ('["connect",{},{}]', "unknown_event", "'connect' is not an event a client sends"),
            ("{}", "bad_request", "an event is a JSON array: [name, payload]"),
            ("[]", "bad_request", "an event is a JSON array: [name, payload]"),
            ("[5]", "bad_request", "an event is a JSON array: [name, payload]"),
            ('["help.request",{]', "bad_request", "the payload is not valid JSON"),
        ]
        for ack_id, (frame, code, message) in enumerate(cases, start=2):
            assert (await _call(ws, ack_id, frame))["error"] == {"code": code, "message": message}
        # Packets no client sends are dropped; the connection stays and is answered.
        for frame in ["4", "44/device,9{}", "46/device,9[1]", "49", '42/elsewhere,9["x"]']:
            await ws.send_str(frame)
        await ws.send_bytes(b"\x04binary frame")
        # Still signed in, its ticket still waiting: the spoofed disconnect did nothing.
        ack = await _call(ws, 20, json.dumps(["help.cancel", {"ticket_id": ticket["id"]}]))
        assert ack == {"ok": True}, ack


async def test_frames_that_are_no_engine_io_packet_are_not_logged_as_errors(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """``9`` (no such Engine.IO packet type) is dropped; an empty frame, or one that does not start
    with a digit, closes the connection. Neither leaves a traceback in the log."""
    with no_unhandled_errors(caplog):
        ws, _ = await _sign_in(desk)
        for _ in range(200):
            await ws.send_str("9")
        assert (await _call(ws, 1, '["help.request",{}]'))["ok"] is True
        for garbage in ("x", ""):
            ws, _ = await _sign_in(desk)
            await ws.send_str(garbage)
            closing = await _closed(ws)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing
    await _still_answers(desk)


async def test_binary_attachments_are_refused_without_being_kept(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A header announcing 9 999 attachments, then 300 MB of them: refused at the header, and
    nothing of the attachments is kept (they were, before: held until the last one came)."""
    ws, _ = await _sign_in(desk)
    with no_unhandled_errors(caplog):
        async with _memory_growth() as grown:
            await ws.send_str('459999-/device,1["help.request",{"_placeholder":true,"num":0}]')
            assert (await _ack(ws, 1))["error"] == {
                "code": "bad_request",
                "message": "payloads are JSON text: binary attachments are not accepted",
            }
            chunk = b"\x00" * 100_000
            for _ in range(3_000):
                await ws.send_bytes(chunk)
            assert (await _call(ws, 2, '["help.request",{}]'))["ok"] is True
    print(f"\nRSS grew at most {grown[0]:.1f} MiB while 300 MB of attachments arrived")
    assert grown[0] < 100


async def test_a_ten_megabyte_string_closes_the_connection(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    ws, _ = await _sign_in(desk)
    with no_unhandled_errors(caplog):
        huge = '["chat.send",{"session_id":"s","text":"' + "x" * 10_000_000 + '"}]'
        try:
            await ws.send_str("42/device,1" + huge)
            closing = await _closed(ws)
        except (ConnectionError, aiohttp.ClientError) as error:  # closed while still sending
            print(f"\nthe server closed the connection: {error!r}")
        else:
            assert closing.type is aiohttp.WSMsgType.CLOSE, closing
            assert closing.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    await _still_answers(desk)


async def test_invalid_utf8_closes_the_connection_with_1007(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    ws, _ = await _sign_in(desk)
    with no_unhandled_errors(caplog):
        frame = b'42/device,1["help.request",{"topic":"' + b"\xff\xfe" + b'"}]'
        await ws._writer.send_frame(frame, aiohttp.WSMsgType.TEXT)
        closing = await _closed(ws)
        assert closing.type is aiohttp.WSMsgType.CLOSE, closing
        assert closing.data == aiohttp.WSCloseCode.INVALID_TEXT  # 1007
    await _still_answers(desk)


async def test_a_compression_bomb_is_closed_without_inflating_it(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """permessage-deflate is negotiated; a 97 kB frame that inflates to 100 MB is refused after
    the first 128 kB (aiohttp's max_msg_size bounds the decompressed message)."""
    ws, _ = await _sign_in(desk, compress=15)
    assert ws.compress == 15, "the server negotiated no compression"
    text = '42/device,1["chat.send",{"session_id":"s","text":"' + "a" * 100_000_000 + '"}]'
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = (deflate.compress(text.encode()) + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4]
    del text
    assert len(payload) < 128 * 1024
    with no_unhandled_errors(caplog):
        async with _memory_growth() as grown:
            # FIN, RSV1 (compressed), text; masked with a zero key, as a client must mask.
            header = bytes([0x80 | 0x40 | 0x1, 0x80 | 127]) + struct.pack("!Q", len(payload))
            assert ws._writer.transport is not None
            ws._writer.transport.write(header + b"\x00\x00\x00\x00" + payload)
            closing = await _closed(ws)
            assert closing.type is aiohttp.WSMsgType.CLOSE, closing
            assert closing.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG  # 1009
    print(f"\nRSS grew at most {grown[0]:.1f} MiB for a frame inflating to 100 MB")
    assert grown[0] < 50
    await _still_answers(desk)


# --- REST ---------------------------------------------------------------------------------------


async def test_oversized_rest_bodies_are_refused_with_413(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    big = json.dumps({"name": "x" * 100_000}).encode()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    with no_unhandled_errors(caplog):
        for path in ("/api/devices", "/api/agents/login", "/api/web/visitors"):
            for body in (big, chunked()):
                async with desk.http.post(
                    f"{desk.url}{path}", data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    assert response.status == 413, (path, await response.text())
                    assert (await response.json())["error"] == {
                        "code": "payload_too_large",
                        "message": "the request body is too large",
                    }
    await _still_answers(desk)


async def test_deep_rest_json_is_refused_with_400(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    with no_unhandled_errors(caplog):
        for path in ("/api/devices", "/api/agents/login", "/api/web/visitors"):
            for depth in (33, 20_000):
                body = '{"name":' + "[" * depth + "]" * depth + "}"
                async with desk.http.post(
                    f"{desk.url}{path}", data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    assert response.status == 400, (path, await response.text())
                    assert (await response.json())["error"] == {
                        "code": "bad_request",
                        "message": "the body is nested deeper than 32 levels",
                    }
            async with desk.http.post(
                f"{desk.url}{path}",
                data=b'{"name": "\xff"}',
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 400
    await _still_answers(desk)


# --- schema ----------------------------------------------------------------------------------


def _unbounded_strings(schema: dict[str, Any], where: str) -> Iterator[str]:
    bounds = {"maxLength", "enum", "const", "pattern"}
    if schema.get("type") == "string" and not bounds & schema.keys():
        yield where
    for key, value in schema.items():
        if isinstance(value, dict):
            yield from _unbounded_strings(value, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _unbounded_strings(item, f"{where}.{key}[{index}]")


def test_every_string_a_client_sends_is_bounded() -> None:
    """Every string field of every inbound model has a maximum length or a bounded pattern,
    and every list a maximum number of items."""
    models: set[type[BaseModel]] = {
        model for events in INBOUND.values() for model in events.values()
    }
    models |= {m.DeviceAuth, m.AgentAuth, m.DeviceRegistration, m.AgentLoginRequest}
    models |= {m.WebVisitorRequest}
    for model in models:
        schema = model.model_json_schema()
        assert list(_unbounded_strings(schema, model.__name__)) == []
        for where, value in _arrays(schema, model.__name__):
            assert "maxItems" in value, where


def _arrays(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if schema.get("type") == "array":
        yield where, schema
    for key, value in schema.items():
        if isinstance(value, dict):
            yield from _arrays(value, f"{where}.{key}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _arrays(item, f"{where}.{key}")
