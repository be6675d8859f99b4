"""Benchmark the device side: CPU per session, frame rate, bitrate per codec, annotation latency.

Run: ``.venv/bin/python bench/device.py [--seconds 8] [--marks 30]``

A real server and a real ``mayday device`` process (so its CPU time is its own, read from
/proc), a headless aiortc agent in this process. For each codec (VP8, H.264) and each scene
(the simulated tablet sitting still; a moving 1280×800 pattern) it measures, over a window after
the first frame: the device process's CPU in % of one core, the frame rate and bitrate the
agent received. Then, on the tablet, annotation latency: agent sends a mark → the agent decodes a
frame that shows it, median and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, running_server
from bench._stats import percentile
from server.logs import configure_logging
from signaling.annotations import Clear, Stroke
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


async def measure(
    url: str, token: str, source: str, codec: str, seconds: float, config: Path
) -> dict[str, float]:
    device, agent = await start_session(url, token, source, codec, config)
    try:
        await asyncio.sleep(2.0)  # past the start-up burst (first keyframes, first renders)
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
        codec_used = ""
        if agent.pc is not None:
            for transceiver in agent.pc.getTransceivers():
                if transceiver.kind == "video" and transceiver.receiver.track is not None:
                    codecs = transceiver.receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
                    codec_used = ",".join(sorted({c.mimeType for c in codecs.values()}))[:40]
        print(f"  {source:<8} {codec:<5} negotiated {codec_used}", file=sys.stderr)
        return {
            "cpu_pct": 100 * cpu / elapsed,
            "fps": frames / elapsed,
            "kbps": 8 * sent / elapsed / 1000,
        }
    finally:
        await stop_session(device, agent)


async def annotation_latency(url: str, token: str, marks: int, config: Path) -> list[float]:
    device, agent = await start_session(url, token, "tablet", "vp8", config)
    latencies: list[float] = []
    try:
        await asyncio.sleep(1.0)
        for index in range(marks):
            y = 0.2 + 0.6 * (index % 7) / 7
            x0, x1 = 0.15 + 0.05 * (index % 5), 0.6
            row, col = int(y * 800), int((x0 + x1) / 2 * 1280)

            def shows_mark(frame: av.VideoFrame, row: int = row, col: int = col) -> bool:
                patch = frame.to_ndarray(format="rgb24")[row - 2 : row + 3, col - 2 : col + 3]
                r, g, b = patch.reshape(-1, 3).mean(axis=0)
                return bool(r > 180 and g < 90 and b < 90)

            stroke = Stroke(
                id=f"m{index}", tool="pen", color="#ff0000", width=0.008, points=[(x0, y), (x1, y)]
            )
            sent = await agent.annotate(stroke)
            seen, _ = await agent.wait_frame(shows_mark, timeout=10)
            latencies.append(seen - sent)
            await agent.annotate(Clear())

            def cleared(frame: av.VideoFrame, row: int = row, col: int = col) -> bool:
                return not shows_mark(frame, row, col)

            try:
                await agent.wait_frame(cleared, timeout=10)
            except TimeoutError:
                print(f"  mark {index}: still seen 10 s after clear; measuring on", file=sys.stderr)
    finally:
        await stop_session(device, agent)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--marks", type=int, default=30)
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
        latencies = await annotation_latency(url, token, args.marks, config)

    print(f"cores: {os.cpu_count()}   screen: 1280x800   window: {args.seconds:.0f} s")
    print(f"{'scene':<16} {'codec':<6} {'device CPU %core':>17} {'fps':>7} {'kbit/s':>9}")
    for scene, codec, r in rows:
        print(f"{scene:<16} {codec:<6} {r['cpu_pct']:>17.1f} {r['fps']:>7.1f} {r['kbps']:>9.0f}")
    print(
        "annotation latency (agent send -> seen in a received frame): "
        f"median {1000 * statistics.median(latencies):.0f} ms, "
        f"p95 {1000 * percentile(latencies, 95):.0f} ms, n={len(latencies)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
