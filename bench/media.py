"""Benchmark: media latencies through a real server against two aiortc peers wired directly.

Run: ``.venv/bin/python bench/media.py [--sessions 10] [--seconds 4]``

The device's screen is a generated 1280×800 picture (the moving pattern of
:class:`~device_agent.screens.pattern.PatternScreen`) with a frame number stamped into it as two
rows of black and white 32-pixel blocks: the number and its complement. The time of every
capture is noted; the receiver reads the number back from the luma plane of each decoded frame,
so glass-to-glass latency = decoded − captured, both on this process's clock. Frames whose stamp
does not read back (the complement does not match) are counted and left out.

* through the server: a :class:`~device_agent.DeviceAgent` and a
  :class:`~sim.HeadlessAgent` connected to a real ``mayday server`` process; the agent
  accepts the ring at once. Time to first frame is ``ring.accept`` sent → first decoded frame
  (session.started to the device, its offer, rtc.offer/rtc.answer relayed by the server, ICE,
  DTLS, the first keyframe).
* floor: the same device peer (:class:`~device_agent.peer.DevicePeer`: the same track, codec
  preference, data channel and transceivers) and a receiving ``RTCPeerConnection`` in this
  process, the offer and answer handed over directly. Time to first frame is from creating the
  device peer to the first decoded frame.

Media never passes through the server (it only relays signaling), so per-frame latency should be
the same both ways; time to first frame carries the signaling. Sessions alternate between the
two, ``--sessions`` of each; per-frame latency is taken over ``--seconds`` after a
``--warmup`` after the first frame. Everything but the server runs in this process and shares
this machine's cores (the encoder alone takes about half a core).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, running_server
from bench._stats import percentile
from device_agent import PatternScreen
from device_agent.media import ScreenTrack
from device_agent.overlay import AnnotationLayer
from device_agent.peer import DEFAULT_CODEC, DevicePeer
from device_agent.rtc import peer_connection
from device_agent.screens.base import Frame, ScreenSource
from server.logs import configure_logging
from sim import HeadlessAgent
from tests.devices import registered_device
from tests.support import login

WIDTH, HEIGHT = 1280, 800
FPS = 30.0
BITS = 20
BLOCK = 32
ORIGIN = (16, 16)
"""Top-left corner of the stamp, away from the pattern's moving marker."""

OnFrame = Callable[[av.VideoFrame, float], None]


# --- the stamped screen ----------------------------------------------------------------------------


class StampScreen(ScreenSource):
    """The moving pattern with a frame number in it; remembers when each number was captured."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self._pattern = PatternScreen(width, height)
        self._lock = threading.Lock()
        self._number = 0
        self.captured_at: dict[int, float] = {}

    @property
    def size(self) -> tuple[int, int]:
        return self._pattern.size

    def capture(self) -> Frame:
        frame = self._pattern.capture()
        with self._lock:
            self._number = (self._number + 1) % (1 << BITS)
            number = self._number
            self.captured_at[number] = time.perf_counter()
        x0, y0 = ORIGIN
        for bit in range(BITS):
            one = bool(number >> bit & 1)
            x = x0 + bit * BLOCK
            frame[y0 : y0 + BLOCK, x : x + BLOCK] = 255 if one else 0
            frame[y0 + BLOCK : y0 + 2 * BLOCK, x : x + BLOCK] = 0 if one else 255
        return frame


def read_stamp(frame: av.VideoFrame) -> int | None:
    """The frame number in a decoded frame, or ``None`` if it does not read back cleanly."""
    luma: npt.NDArray[Any]
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
        plane = frame.planes[0]  # the luma plane, read in place: no conversion of the frame
        luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    else:
        luma = frame.to_ndarray(format="gray")
    scale_x, scale_y = frame.width / WIDTH, frame.height / HEIGHT
    x0, y0 = ORIGIN
    xs = [int((x0 + bit * BLOCK + BLOCK // 2) * scale_x) for bit in range(BITS)]
    rows = [int((y0 + row * BLOCK + BLOCK // 2) * scale_y) for row in range(2)]
    number = complement = 0
    for bit, x in enumerate(xs):
        number |= int(luma[rows[0], x] > 128) << bit
        complement |= int(luma[rows[1], x] > 128) << bit
    return number if number ^ complement == (1 << BITS) - 1 else None


@dataclass
class Session:
    """What one session measured."""

    first_frame_s: float
    latencies_s: list[float]
    frames: int
    unreadable: int
    window_s: float


@dataclass
class Recorder:
    """Every decoded frame's number and arrival time."""

    screen: StampScreen
    arrivals: list[tuple[float, int | None]] = field(default_factory=list)

    def on_frame(self, frame: av.VideoFrame, at: float) -> None:
        self.arrivals.append((at, read_stamp(frame)))

    def session(self, first_frame_s: float, start: float, seconds: float) -> Session:
        window = [(at, n) for at, n in self.arrivals if start <= at < start + seconds]
        latencies = [
            at - self.screen.captured_at[n]
            for at, n in window
            if n is not None and n in self.screen.captured_at
        ]
        return Session(
            first_frame_s=first_frame_s,
            latencies_s=latencies,
            frames=len(window),
            unreadable=len(window) - len(latencies),
            window_s=seconds,
        )


async def read_frames(track: MediaStreamTrack, on_frame: OnFrame) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            frame = await track.recv()
            at = time.perf_counter()
            if isinstance(frame, av.VideoFrame):
                on_frame(frame, at)


# --- through the server ----------------------------------------------------------------------------


class StampAgent(HeadlessAgent):
    """The headless agent, also handing every decoded frame and its arrival time to ``on_frame``."""

    on_frame: OnFrame | None = None

    async def _read(self, track: MediaStreamTrack) -> None:
        def seen(frame: av.VideoFrame, at: float) -> None:
            self.frames_received += 1
            self.latest_frame, self.latest_frame_at = frame, at
            self.frame_event.set()
            if not self.first_frame.done():
                self.first_frame.set_result((at, frame))
            if self.on_frame is not None:
                self.on_frame(frame, at)

        await read_frames(track, seen)


async def through_server(
    url: str, http: aiohttp.ClientSession, agent: StampAgent, args: argparse.Namespace
) -> Session:
    screen = StampScreen()
    recorder = Recorder(screen)
    agent.on_frame = recorder.on_frame
    device = await registered_device(
        http, url, screen, name="bench tablet", fps=FPS, codec=args.codec
    )
    await device.start()
    try:
        await device.request_help()
        ring = await agent.next_ring()
        accepted = time.perf_counter()
        await agent.accept(ring["ring_id"])
        first_at, _ = await agent.wait_first_frame(timeout=30)
        await asyncio.sleep(args.warmup + args.seconds)
        await agent.end_session()
        await asyncio.wait_for(device.ended.wait(), 10)
    finally:
        agent.on_frame = None
        await device.close()
    return recorder.session(first_at - accepted, first_at + args.warmup, args.seconds)


# --- the floor: two peers wired directly -------------------------------------------------------------


async def direct(args: argparse.Namespace) -> Session:
    screen = StampScreen()
    recorder = Recorder(screen)
    first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    readers: list[asyncio.Task[None]] = []

    def on_frame(frame: av.VideoFrame, at: float) -> None:
        if not first.done():
            first.set_result(at)
        recorder.on_frame(frame, at)

    started = time.perf_counter()
    annotations = AnnotationLayer()
    track = ScreenTrack(screen, fps=FPS, annotations=annotations)
    device = DevicePeer(
        session_id="direct",
        track=track,
        annotations=annotations,
        ice_servers=[],
        on_state=lambda _state: None,
        codec=args.codec,
    )
    receiver = peer_connection()

    @receiver.on("track")
    def on_track(remote: MediaStreamTrack) -> None:
        if remote.kind == "video" and not readers:
            readers.append(asyncio.create_task(read_frames(remote, on_frame)))

    try:
        offer = await device.offer()
        await receiver.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await receiver.setLocalDescription(await receiver.createAnswer())
        await device.apply_answer(receiver.localDescription.sdp)
        first_at = await asyncio.wait_for(first, 30)
        await asyncio.sleep(args.warmup + args.seconds)
    finally:
        track.stop()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await device.close()
        await receiver.close()
    return recorder.session(first_at - started, first_at + args.warmup, args.seconds)


# --- report ----------------------------------------------------------------------------------------


def summary(sessions: list[Session]) -> dict[str, float]:
    first = [1000 * s.first_frame_s for s in sessions]
    latency = [1000 * v for s in sessions for v in s.latencies_s]
    frames = sum(s.frames for s in sessions)
    return {
        "first_median": statistics.median(first),
        "first_p95": percentile(first, 95),
        "first_n": len(first),
        "latency_median": statistics.median(latency),
        "latency_p95": percentile(latency, 95),
        "latency_n": len(latency),
        "fps": frames / sum(s.window_s for s in sessions),
        "unreadable": sum(s.unreadable for s in sessions) / max(1, frames),
    }


def print_report(server: list[Session], floor: list[Session], args: argparse.Namespace) -> None:
    ours, base = summary(server), summary(floor)
    print(
        f"\ncores: {os.cpu_count()}   date: {datetime.date.today().isoformat()}   "
        f"screen: {WIDTH}x{HEIGHT} at up to {FPS:.0f} fps, {args.codec}   "
        f"sessions: {args.sessions} of each, {args.seconds:.0f} s measured after "
        f"{args.warmup:.0f} s"
    )
    print(
        f"{'metric (ms)':<36} {'server median':>13} {'p95':>7} {'n':>5}   "
        f"{'direct median':>13} {'p95':>7} {'n':>5}   {'ratio median':>12} {'p95':>6}"
    )
    for label, key in (
        ("time to first frame", "first"),
        ("per-frame latency (capture->decoded)", "latency"),
    ):
        print(
            f"{label:<36} {ours[f'{key}_median']:>13.1f} {ours[f'{key}_p95']:>7.1f} "
            f"{ours[f'{key}_n']:>5.0f}   {base[f'{key}_median']:>13.1f} {base[f'{key}_p95']:>7.1f} "
            f"{base[f'{key}_n']:>5.0f}   {ours[f'{key}_median'] / base[f'{key}_median']:>11.2f}x "
            f"{ours[f'{key}_p95'] / base[f'{key}_p95']:>5.2f}x"
        )
    print(
        f"{'frames/s received':<36} {ours['fps']:>13.1f} {'':>7} {'':>5}   {base['fps']:>13.1f}"
        f" {'':>7} {'':>5}   {ours['fps'] / base['fps']:>11.2f}x"
    )
    print(
        f"stamps that did not read back: server {100 * ours['unreadable']:.1f} %, "
        f"direct {100 * base['unreadable']:.1f} % of frames"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help="of each kind")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured per session")
    parser.add_argument("--warmup", type=float, default=1.0, help="after the first frame")
    parser.add_argument("--codec", choices=("h264", "vp8"), default=DEFAULT_CODEC)
    args = parser.parse_args()
    configure_logging(level="warning")

    server_sessions: list[Session] = []
    floor_sessions: list[Session] = []
    with running_server(["bench-agent"]) as url:
        async with aiohttp.ClientSession() as http:
            token = (await login(http, url, "bench-agent", PASSWORD))["token"]
            agent = StampAgent(url, token)
            await agent.start()
            try:
                for index in range(args.sessions):
                    floor_sessions.append(await direct(args))
                    server_sessions.append(await through_server(url, http, agent, args))
                    print(
                        f"  session {index + 1}/{args.sessions}: first frame "
                        f"server {1000 * server_sessions[-1].first_frame_s:.0f} ms, "
                        f"direct {1000 * floor_sessions[-1].first_frame_s:.0f} ms",
                        flush=True,
                    )
            finally:
                await agent.close()
    print_report(server_sessions, floor_sessions, args)


if __name__ == "__main__":
    asyncio.run(main())
