"""Benchmark: help press → ring, and ring.accept → first decoded frame, through a real server.

Run: ``.venv/bin/python bench/signaling.py [--sessions 50]``

Each session registers a new device, presses help, lets the agent accept at once and waits for the
agent's first decoded 1280×800 frame; then the agent ends the session. The floor is the same first
frame for two aiortc peers wired directly in this process (no server). Prints median and p95 of
each, and the ratio of accept → first frame to the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, running_server
from bench._stats import percentile, ratios
from device_agent import PatternScreen
from device_agent.media import ScreenTrack
from device_agent.overlay import AnnotationLayer
from device_agent.peer import DevicePeer
from server.logs import configure_logging
from sim import HeadlessAgent
from tests.devices import registered_device
from tests.support import login


def row(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return f"{name:<34} {statistics.median(ms):>9.1f} {percentile(ms, 95):>9.1f} {len(ms):>6}"


async def direct_first_frame() -> float:
    """Seconds from the offer to the first decoded frame for two peers in one process.

    The sender is the device's own media stack (:class:`DevicePeer`: H.264 first, receive slots
    for the agent's microphone and camera, the annotations channel), so the ratio measures what
    the server adds, not a difference in media set-up.
    """
    track = ScreenTrack(PatternScreen(1280, 800))
    device = DevicePeer(
        session_id="bench",
        track=track,
        annotations=AnnotationLayer(),
        ice_servers=[],
        on_state=lambda state: None,
    )
    receiver = RTCPeerConnection()
    got_frame: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    @receiver.on("track")
    def on_track(remote: MediaStreamTrack) -> None:
        async def read() -> None:
            await remote.recv()
            if not got_frame.done():
                got_frame.set_result(time.perf_counter())

        if remote.kind == "video":
            asyncio.ensure_future(read())  # noqa: RUF006

    start = time.perf_counter()
    offer = await device.offer()
    await receiver.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await receiver.setLocalDescription(await receiver.createAnswer())
    await device.apply_answer(receiver.localDescription.sdp)
    done = await asyncio.wait_for(got_frame, 20)
    track.stop()
    await device.close()
    await receiver.close()
    return done - start


async def through_server(url: str, sessions: int) -> tuple[list[float], list[float]]:
    to_ring: list[float] = []
    to_frame: list[float] = []
    async with aiohttp.ClientSession() as http:
        token = (await login(http, url, "bench-agent", PASSWORD))["token"]
        agent = HeadlessAgent(url, token)
        await agent.start()
        screen = PatternScreen(1280, 800)
        for _ in range(sessions):
            device = await registered_device(http, url, screen, name="bench tablet")
            await device.start()
            pressed = time.perf_counter()
            await device.request_help()
            ring = await agent.next_ring()
            to_ring.append(ring["_received_at"] - pressed)
            accepted = time.perf_counter()
            await agent.accept(ring["ring_id"])
            decoded, _ = await agent.wait_first_frame(timeout=20)
            to_frame.append(decoded - accepted)
            await agent.end_session()
            await asyncio.wait_for(device.ended.wait(), 10)
            await device.close()
        await agent.close()
    return to_ring, to_frame


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    configure_logging(level="warning")

    floor = [await direct_first_frame() for _ in range(args.sessions)]
    with running_server(["bench-agent"]) as url:
        to_ring, to_frame = await through_server(url, args.sessions)

    print(f"{'metric (ms)':<34} {'median':>9} {'p95':>9} {'n':>6}")
    print(row("help press -> ring", to_ring))
    print(row("ring.accept -> first frame", to_frame))
    print(row("floor: direct peers, first frame", floor))
    print(f"accept -> first frame / floor: {ratios(to_frame, floor)}")


if __name__ == "__main__":
    asyncio.run(main())
