"""Benchmark the device side: CPU per session, frame rate, bitrate per codec, annotation latency.

Run: ``.venv/bin/python bench/device.py [--seconds 8] [--marks 300]``

A real server and a real ``mayday device`` process (so its CPU time is its own, read from
/proc), a headless aiortc agent in this process. For each codec (VP8, H.264) and each scene
(the simulated tablet sitting still; a moving 1280×800 pattern) it measures, over a window after
the first frame: the device process's CPU in % of one core, the frame rate and bitrate the
agent received. Then, on the tablet, marks (``bench/_marks.py``): agent sends a mark → the agent
decodes a frame that shows it, and agent sends ``clear`` → a frame without it, median and p95; a
mark still visible after its clear is a failure, counted (target: 0, clear p95 < 150 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._marks import measure_marks
from bench._server import PASSWORD, running_server
from server.logs import configure_logging
from sim import HeadlessAgent
from tests.support import login

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def bytes_received(agent: HeadlessAgent) -> int:
    assert agent.pc is not None
    report = await agent.pc.getStats()
    # aiortc keeps no per-stream byte count; the device sends nothing but its screen here, so the
    # transport's total (plus a little RTCP and data channel) is the video bitrate.
    return sum(
        int(getattr(stat, "bytesReceived", 0))
        for stat in report.values()
        if getattr(stat, "type", "") == "transport"
    )


async def start_session(
    url: str, token: str, source: str, codec: str, config: Path
) -> tuple[asyncio.subprocess.Process, HeadlessAgent]:
    agent = HeadlessAgent(url, token)
    await agent.start()
    device = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "device",
        "--server",
        url,
        "--config",
        str(config),
        "--source",
        source,
        "--codec",
        codec,
        "--help-now",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    ring = await agent.next_ring(timeout=30)
    await agent.accept(ring["ring_id"])
    await agent.wait_first_frame(timeout=30)
    return device, agent


async def stop_session(device: asyncio.subprocess.Process, agent: HeadlessAgent) -> None:
    await agent.end_session()
    device.terminate()
    await device.wait()
    await agent.close()


def screen_codec(agent: HeadlessAgent) -> str:
    """The codec the screen is sent in: the first one of the answer's first video section (the
    device sends in the first codec both sides share, and the answer lists them in that order)."""
    assert agent.pc is not None
    assert agent.pc.localDescription is not None
    payload_type, names = "", dict[str, str]()
    for line in agent.pc.localDescription.sdp.splitlines():
        if line.startswith("m=video") and not payload_type:
            payload_type = line.split()[3]
        elif line.startswith("a=rtpmap:"):
            number, name = line.removeprefix("a=rtpmap:").split(" ", 1)
            names.setdefault(number, name.split("/")[0])
    return str(names.get(payload_type, "?"))


async def measure(
    url: str, token: str, source: str, codec: str, seconds: float, config: Path
) -> dict[str, float]:
    device, agent = await start_session(url, token, source, codec, config)
    try:
        await asyncio.sleep(2.0)  # past the start-up burst (first keyframes, first renders)
        if source == "tablet":
            # The tablet's clock shows minutes: a minute turning within the window is a change
            # (half a second at the full frame rate), not the still screen measured here.
            into_minute = time.time() % 60
            if into_minute + seconds + 1.0 > 60:
                await asyncio.sleep(60 - into_minute + 1.0)
        cpu0, frames0, bytes0, t0 = (
            cpu_seconds(device.pid),
            agent.frames_received,
            await bytes_received(agent),
            time.monotonic(),
        )
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(device.pid) - cpu0
        frames = agent.frames_received - frames0
        sent = await bytes_received(agent) - bytes0
        codec_used = screen_codec(agent)
        print(f"  {source:<8} {codec:<5} negotiated {codec_used}", file=sys.stderr)
        if codec_used.lower() != codec:
            raise RuntimeError(f"asked the device for {codec}, the screen came in {codec_used}")
        return {
            "cpu_pct": 100 * cpu / elapsed,
            "fps": frames / elapsed,
            "kbps": 8 * sent / elapsed / 1000,
        }
    finally:
        await stop_session(device, agent)


TARGETS = {
    # scene: (device CPU % of a core at most, frame rate at least, frame rate at most); issue 17
    "static tablet": (2.5, 0.0, 1.2),
    "moving pattern": (30.0, 29.5, float("inf")),
}
"""A still screen costs no more than its 1 fps keep-alive (the clock turning a minute within the
window may add a frame); a moving one holds 30 fps, each codec on at most 30 % of a core."""


def print_targets(rows: list[tuple[str, str, dict[str, float]]]) -> None:
    """Each figure against its target, with the ratio figure/target and PASS or MISS."""
    print(f"{'figure':<36} {'value':>8} {'target':>10} {'ratio':>6}")
    for scene, codec, r in rows:
        cpu_max, fps_min, fps_max = TARGETS[scene]
        checks = [("device CPU %core", r["cpu_pct"], "<=", cpu_max)]
        if fps_min > 0:
            checks.append(("fps", r["fps"], ">=", fps_min))
        if fps_max < float("inf"):
            checks.append(("fps", r["fps"], "<=", fps_max))
        for name, value, sense, target in checks:
            ok = value <= target if sense == "<=" else value >= target
            print(
                f"{scene + ' ' + codec + ' ' + name:<36} {value:>8.1f} {sense + ' ' + str(target):>10}"
                f" {value / target:>6.2f} {'PASS' if ok else 'MISS'}"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--marks", type=int, default=300)
    args = parser.parse_args()
    configure_logging(level="warning")
    np.seterr(all="ignore")

    with tempfile.TemporaryDirectory() as home, running_server(["bench-agent"]) as url:
        config = Path(home) / "device.json"
        async with aiohttp.ClientSession() as http:
            token = (await login(http, url, "bench-agent", PASSWORD))["token"]
        rows = []
        for source, scene in (("tablet", "static tablet"), ("pattern", "moving pattern")):
            for codec in ("vp8", "h264"):
                result = await measure(url, token, source, codec, args.seconds, config)
                rows.append((scene, codec, result))
        marks = {
            codec: await measure_marks(
                functools.partial(start_session, url, token, "tablet", codec, config),
                stop_session,
                args.marks,
            )
            for codec in ("h264", "vp8")  # the default codec first
        }

    print(f"cores: {os.cpu_count()}   screen: 1280x800   window: {args.seconds:.0f} s")
    print(f"{'scene':<16} {'codec':<6} {'device CPU %core':>17} {'fps':>7} {'kbit/s':>9}")
    for scene, codec, r in rows:
        print(f"{scene:<16} {codec:<6} {r['cpu_pct']:>17.1f} {r['fps']:>7.1f} {r['kbps']:>9.0f}")
    print_targets(rows)
    for codec, figures in marks.items():
        print(f"marks on the tablet, {codec}:")
        print(figures.report())


if __name__ == "__main__":
    asyncio.run(main())
