"""Benchmark: what one flooding socket costs everyone else, and what the bombs cost in memory.

Run: ``.venv/bin/python bench/flood.py [--sessions 20] [--trips 100] [--unlimited]``

A real ``mayday server`` process. ``--sessions`` devices each do ``--trips`` request/ack round
trips (``help.request`` then ``help.cancel``, one every 20 ms: a busy but normal client), first
alone, then while one attacker floods at full speed: it signs in as a device over a raw websocket
and sends events as fast as the socket takes them, and when the server disconnects it for
flooding, signs in again and goes on, for as long as the sessions run. Prints the sessions' ack
latency (median, p95) without and with the flood and the ratio, and how the attacker fared.
``--unlimited`` runs it again on a server whose rate limit is lifted, for comparison.

Then the bombs, one after the other, each from a fresh signed-in socket: 300 MB of binary
attachments behind one header, a frame that inflates to 100 MB, a 10 MB string, 150 frames
nested 30 000 levels deep, invalid UTF-8. The server's resident memory is sampled every 5 ms
throughout: printed before, at the peak and after each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import ServerProcess, server_process
from bench._stats import percentile, ratios
from server.logs import configure_logging
from tests.support import Client, device_auth, register_device

ENGINE_IO = "/socket.io/?EIO=4&transport=websocket"
PACE_S = 0.02


def row(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return f"{name:<40} {statistics.median(ms):>9.2f} {percentile(ms, 95):>9.2f} {len(ms):>7}"


# --- the normal sessions ----------------------------------------------------------------------


async def sessions(url: str, http: aiohttp.ClientSession, count: int, trips: int) -> list[float]:
    """Ack latencies of ``count`` devices doing ``trips`` paced round trips each."""

    async def one() -> list[float]:
        client = await Client(url, "device").connect(device_auth(await register_device(http, url)))
        latencies: list[float] = []
        try:
            for _ in range(trips // 2):
                started = time.perf_counter()
                ticket = (await client.call("help.request", {}))["ticket"]
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(PACE_S)
                started = time.perf_counter()
                ack = await client.call("help.cancel", {"ticket_id": ticket["id"]})
                latencies.append(time.perf_counter() - started)
                assert ack == {"ok": True}, ack
                await asyncio.sleep(PACE_S)
        finally:
            await client.close()
        return latencies

    return [
        value for values in await asyncio.gather(*(one() for _ in range(count))) for value in values
    ]


# --- the attacker --------------------------------------------------------------------------------


async def signed_in(
    url: str, http: aiohttp.ClientSession, registered: dict[str, str], *, compress: int = 0
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{url}{ENGINE_IO}", compress=compress, max_msg_size=0)
    assert (await ws.receive(timeout=10)).data.startswith("0{")
    await ws.send_str("40/device," + json.dumps(device_auth(registered)))
    while True:
        message = await ws.receive(timeout=10)
        if message.data.startswith("40/device,"):
            return ws
        if message.data.startswith("44"):
            raise RuntimeError(message.data)


@dataclass
class Flood:
    sent: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    disconnects: int = 0

    def __str__(self) -> str:
        processed = sum(n for code, n in self.answers.items() if code != "rate_limited")
        return (
            f"{self.sent} events sent, {processed} processed, "
            f"{self.answers.get('rate_limited', 0)} refused rate_limited, "
            f"{self.disconnects} disconnects for flooding"
        )


async def attack(url: str) -> None:
    """The attacker, in a process of its own (so that it does not slow the sessions' client down):
    floods until its standard input closes, then prints its tally as one JSON line."""
    stop, tally = asyncio.Event(), Flood()
    async with aiohttp.ClientSession() as http:
        registered = await register_device(http, url, "attacker")
        print("flooding", flush=True)
        task = asyncio.create_task(flood(url, http, registered, stop, tally))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        stop.set()
        await task
    print(json.dumps(dataclasses.asdict(tally)), flush=True)


async def flood(
    url: str,
    http: aiohttp.ClientSession,
    registered: dict[str, str],
    stop: asyncio.Event,
    tally: Flood,
) -> None:
    while not stop.is_set():
        ws = await signed_in(url, http, registered)

        async def read(ws: aiohttp.ClientWebSocketResponse = ws) -> None:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    return
                if message.data.startswith("43/device,"):
                    code = json.loads(message.data.partition("[")[2][:-1])["error"]["code"]
                    tally.answers[code] = tally.answers.get(code, 0) + 1
                elif message.data == "41/device,":
                    tally.disconnects += 1
                    return

        reader = asyncio.create_task(read())
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):  # the server closed it
            while not reader.done() and not stop.is_set():
                for _ in range(100):
                    await ws.send_str(
                        f'42/device,{tally.sent}["help.cancel",{{"ticket_id":"ses_{tally.sent}"}}]'
                    )
                    tally.sent += 1
                await asyncio.sleep(0)  # let the reader see the disconnect
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()


# --- memory -----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def watched(server: ServerProcess, name: str) -> AsyncIterator[None]:
    before = server.rss_kib()
    peak = before
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss_kib())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        await asyncio.sleep(0.5)
        stop.set()
        await task
        after = server.rss_kib()
        print(f"{name:<44} {before / 1024:>9.1f} {peak / 1024:>9.1f} {after / 1024:>9.1f}")


async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    with contextlib.suppress(aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
        while (await ws.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
            pass


async def attachments(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_str('459999-/device,1["help.request",{"_placeholder":true,"num":0}]')
    chunk = b"\x00" * 100_000
    for _ in range(3_000):
        await ws.send_bytes(chunk)
    await ws.send_str('42/device,2["help.request",{}]')
    while not (await ws.receive(timeout=30)).data.startswith("43/device,2"):
        pass


async def inflating(ws: aiohttp.ClientWebSocketResponse) -> None:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = b'42/device,1["chat.send",{"session_id":"s","text":"'
    payload = deflate.compress(head)
    block = b"a" * 1_000_000
    for _ in range(100):
        payload += deflate.compress(block)
    payload = (payload + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4]
    header = bytes([0x80 | 0x40 | 0x1, 0x80 | 127]) + struct.pack("!Q", len(payload))
    assert ws._writer.transport is not None
    ws._writer.transport.write(header + b"\x00\x00\x00\x00" + payload)
    await until_closed(ws)


async def huge_string(ws: aiohttp.ClientWebSocketResponse) -> None:
    with contextlib.suppress(aiohttp.ClientError, ConnectionError):
        await ws.send_str('42/device,1["chat.send",{"text":"' + "x" * 10_000_000 + '"}]')
    await until_closed(ws)


async def deep(ws: aiohttp.ClientWebSocketResponse) -> None:
    nested = "[" * 30_000 + "]" * 30_000
    for ack_id in range(150):  # within the burst: every frame is read
        await ws.send_str(f'42/device,{ack_id}["help.request",{{"topic":{nested}}}]')
    while not (await ws.receive(timeout=30)).data.startswith("43/device,149["):
        pass


async def bad_utf8(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws._writer.send_frame(
        b'42/device,1["help.request",{"topic":"\xff"}]', aiohttp.WSMsgType.TEXT
    )
    await until_closed(ws)


BOMBS: list[tuple[str, int, Callable[[aiohttp.ClientWebSocketResponse], Awaitable[None]]]] = [
    ("binary attachments, 300 MB", 0, attachments),
    ("compressed frame inflating to 100 MB", 15, inflating),
    ("a 10 MB string", 0, huge_string),
    ("150 frames nested 30 000 deep", 0, deep),
    ("invalid UTF-8", 0, bad_utf8),
]


# --- the runs -----------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def run(args: argparse.Namespace, label: str, *, bombs: bool) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="mayday-bench-") as data_dir,
        server_process(["mayday.cli", "server"], Path(data_dir)) as server,
    ):
        async with aiohttp.ClientSession() as http:
            await sessions(server.url, http, args.sessions, 10)  # warm-up
            quiet = await sessions(server.url, http, args.sessions, args.trips)
            cpu = server.cpu_seconds()
            attacker = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--attack",
                server.url,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert attacker.stdin is not None
            assert attacker.stdout is not None
            await attacker.stdout.readline()  # signed in, flooding
            started = time.perf_counter()
            loud = await sessions(server.url, http, args.sessions, args.trips)
            seconds = time.perf_counter() - started
            attacker.stdin.close()
            tally = Flood(**json.loads(await attacker.stdout.readline()))
            await attacker.wait()
            busy = (server.cpu_seconds() - cpu) / seconds
            print(f"\n{label}")
            print(f"{'ack latency (ms)':<40} {'median':>9} {'p95':>9} {'n':>7}")
            print(row(f"{args.sessions} sessions alone", quiet))
            print(row(f"{args.sessions} sessions, one socket flooding", loud))
            print(f"flooded / alone: {ratios(loud, quiet)}")
            print(f"attacker over {seconds:.1f} s: {tally}; server CPU {busy:.0%}")
            if bombs:
                print(f"\n{'server RSS (MiB)':<44} {'before':>9} {'peak':>9} {'after':>9}")
                for name, compress, bomb in BOMBS:
                    registered = await register_device(http, server.url, "bomber")
                    ws = await signed_in(server.url, http, registered, compress=compress)
                    async with watched(server, name):
                        await bomb(ws)
                    await ws.close()
                answered = await sessions(server.url, http, 1, 10)
                print(f"answered after the bombs: {len(answered)} of 10 round trips")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--trips", type=int, default=100)
    parser.add_argument("--unlimited", action="store_true", help="also run without a rate limit")
    parser.add_argument("--attack", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        await attack(args.attack)
        return
    configure_logging(level="warning")
    await run(args, "rate limit on (defaults)", bombs=True)
    if args.unlimited:
        with environment(MAYDAY_EVENT_RATE_PER_S="1000000000", MAYDAY_EVENT_BURST="1000000000"):
            await run(args, "rate limit lifted", bombs=False)


if __name__ == "__main__":
    asyncio.run(main())
