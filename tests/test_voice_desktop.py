"""The desktop's sound card (device_agent/sound.py) against a real sound server: a private
PulseAudio with a null sink. The agent's voice goes out through PortAudio → ALSA → PulseAudio and
is read back from the sink's monitor; the customer's microphone (the same monitor, made the default
source) records it after "Talk" and only then.

Skipped where PulseAudio, PortAudio or sounddevice is missing (``make test`` installs them).
"""

from __future__ import annotations

# ruff: noqa: S607 - pulseaudio, pactl and parec are found on PATH like every tool the tests run
import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from device_agent.voice import FRAME_SAMPLES, SAMPLE_RATE, Pcm, Voice, rms

from .support import assert_eventually

SINK = "mayday_test"


def tone(start: int, samples: int) -> Pcm:
    t = np.arange(start, start + samples) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 440.0 * t) * 0.3 * 32767).astype(np.int16)


@pytest.fixture
def pulse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A PulseAudio of this test's own with one null sink, its monitor the default source.

    Fails, not skips, when PulseAudio is missing or does not start: ``make test`` installs it
    (``make system-deps``), and a silent skip would leave the desktop's voice unchecked."""
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        pytest.fail(
            "PulseAudio is not installed: apt-get install -y pulseaudio pulseaudio-utils "
            "(`make system-deps`)",
            pytrace=False,
        )
    from device_agent.sound import unavailable

    socket = tmp_path / "native"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PULSE_RUNTIME_PATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disable-shm",
            f"--load=module-null-sink sink_name={SINK}",
            f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
            "--load=module-always-sink",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not socket.exists():
            pytest.fail("PulseAudio did not start within 5 s", pytrace=False)
        server = f"unix:{socket}"
        monkeypatch.setenv("PULSE_SERVER", server)
        subprocess.run(["pactl", "set-default-source", f"{SINK}.monitor"], check=True, timeout=5)
        subprocess.run(["pactl", "set-default-sink", SINK], check=True, timeout=5)
        reason = unavailable()
        if reason is not None:
            pytest.fail(f"no sound device through PulseAudio: {reason}", pytrace=False)
        yield server
    finally:
        process.terminate()
        process.wait(5)


async def test_desktop_plays_the_agent_and_records_the_customer_after_talk(pulse: str) -> None:
    from device_agent.sound import DesktopSound

    voice = Voice()
    voice.set_in_session(True)
    voice.track()
    sound = DesktopSound(voice, output_device="pulse", input_device="pulse")
    monitor = await asyncio.create_subprocess_exec(
        "parec", "-d", f"{SINK}.monitor", "--raw", "--format=s16le", "--rate=48000",
        "--channels=1", "--latency-msec=20",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    at = 0
    sink = bytearray()

    async def record() -> None:
        assert monitor.stdout is not None
        while chunk := await monitor.stdout.read(4096):
            sink.extend(chunk)

    def sink_peak() -> float:
        pcm = np.frombuffer(bytes(sink[: len(sink) // 1920 * 1920]), dtype="<i2")
        return max((rms(block) for block in pcm.reshape(-1, 960)), default=0.0)

    recorder = asyncio.create_task(record())

    async def agent_speaks(seconds: float) -> None:
        nonlocal at
        for _ in range(round(seconds * SAMPLE_RATE / FRAME_SAMPLES)):
            voice.play(tone(at, FRAME_SAMPLES))
            at += FRAME_SAMPLES
            await asyncio.sleep(FRAME_SAMPLES / SAMPLE_RATE)

    speaking = asyncio.create_task(agent_speaks(10.0))
    try:
        await assert_eventually(
            lambda: sink_peak() > 0.02, timeout=5, message="the null sink heard nothing"
        )
        assert sound.blocks_played > 0
        assert sound.played_peak > 0.05
        # The customer's microphone stayed closed: nothing was recorded before Talk.
        assert sound.blocks_recorded == 0
        assert voice.customer_peak == 0.0

        voice.set_talking(True)
        await assert_eventually(
            lambda: voice.customer_peak > 0.02,
            timeout=5,
            message="the customer's microphone recorded nothing",
        )
        assert sound.blocks_recorded > 0
        voice.set_talking(False)
        recorded = sound.blocks_recorded
        await asyncio.sleep(0.1)
        assert sound.blocks_recorded <= recorded + 1  # closed at Mute
    finally:
        speaking.cancel()
        sound.close()
        recorder.cancel()
        monitor.terminate()
        await monitor.wait()
