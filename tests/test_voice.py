"""Voice both ways, measured as non-silent samples: a real aiortc device, a real aiortc agent,
signaling through the server.

The agent speaks into the device's send-and-receive audio slot; the customer is silent (no
microphone opened, digital silence sent) until they tap "Talk", and is heard after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from device_agent import DeviceAgent, PatternScreen, ScreenSource
from device_agent.customer import CustomerView
from device_agent.preview import PreviewServer
from device_agent.screens.tablet import SimulatedTablet
from device_agent.voice import FRAME_SAMPLES, SAMPLE_RATE, Pcm, rms, to_mono
from sim import HeadlessAgent

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from .conftest import Desk
from .devices import registered_device
from .support import assert_eventually
from .tablet import centre

SILENT = 0.002
"""RMS (fraction of full scale) below which a frame counts as silence; Opus keeps digital silence
at 0 and our tones sit near 0.2."""
HEARD = 0.05

memory_only = pytest.mark.parametrize("live_store", ["memory"], indirect=True)
"""Voice does not touch the live store: one configuration is enough."""


def tone(start: int, samples: int, hz: float = 440.0) -> Pcm:
    t = (np.arange(start, start + samples) / SAMPLE_RATE).astype(np.float64)
    return (np.sin(2 * np.pi * hz * t) * 0.3 * 32767).astype(np.int16)


class ToneTrack(MediaStreamTrack):
    """The agent's microphone: a 440 Hz tone, 20 ms a frame, paced by the clock."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            await asyncio.sleep(max(0.0, self._start + self._pts / SAMPLE_RATE - time.monotonic()))
        frame = av.AudioFrame.from_ndarray(
            tone(self._pts, FRAME_SAMPLES).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame


@contextlib.asynccontextmanager
async def session(
    desk: Desk, name: str, agent_mic: bool, source: ScreenSource | None = None
) -> AsyncIterator[tuple[DeviceAgent, HeadlessAgent]]:
    await desk.add_agent(name)
    agent = HeadlessAgent(desk.url, await desk.token(name))
    if agent_mic:
        agent.microphone = ToneTrack()
    device = await registered_device(desk.http, desk.url, source or PatternScreen(320, 200))
    try:
        await agent.start()
        await device.start()
        await device.request_help()
        await agent.accept((await agent.next_ring())["ring_id"])
        await agent.wait_first_frame(timeout=20)
        yield device, agent
    finally:
        await device.close()
        await agent.close()
        if agent.microphone is not None:
            agent.microphone.stop()


async def agent_levels(agent: HeadlessAgent, frames: int, timeout: float = 5) -> list[float]:
    """RMS of the next ``frames`` frames of the customer's voice as the agent decodes them."""
    assert agent.pc is not None
    receiver = next(r for r in agent.pc.getReceivers() if r.track.kind == "audio")
    levels = []
    for _ in range(frames):
        frame = await asyncio.wait_for(receiver.track.recv(), timeout)
        assert isinstance(frame, av.AudioFrame)
        levels.append(rms(to_mono(frame)))
    return levels


def test_tablet_talk_control_shows_the_microphone_state() -> None:
    """Talk appears once connected; tapped, it reports ``talk``; while talking it is a filled Mute
    that reports ``talk_stop``, and the card says the agent hears the customer."""
    actions: list[tuple[str, int | str | None]] = []
    tablet = SimulatedTablet(on_customer_action=lambda a, v: actions.append((a, v)))
    tablet.set_customer_view(CustomerView(phase="connecting", agent_name="Anna"))
    assert "customer.talk" not in tablet.elements()
    tablet.set_customer_view(CustomerView(phase="connected", agent_name="Anna"))
    assert tablet.tap("customer.talk", origin="customer")
    assert actions[-1] == ("talk", None)
    silent = tablet.capture().copy()
    tablet.set_customer_view(CustomerView(phase="connected", agent_name="Anna", talking=True))
    assert tablet.tap("customer.talk", origin="customer")
    assert actions[-1] == ("talk_stop", None)
    assert not np.array_equal(silent, tablet.capture())


@memory_only
async def test_customer_heard_only_after_talk(desk: Desk) -> None:
    async with session(desk, "alice", agent_mic=False) as (device, agent):
        microphone = device.voice.microphone
        assert microphone is not None
        assert not device.voice.talking
        # Before Talk: whatever a surface feeds is dropped, and no audio packet leaves the device.
        device.voice.feed(tone(0, SAMPLE_RATE // 2))
        with pytest.raises(TimeoutError):
            await agent_levels(agent, 1, timeout=0.5)
        assert microphone.frames_sent == 0

        await device.customer_action("talk")
        assert microphone.talking  # the track the agent hears

        async def speak() -> None:
            at = 0
            while True:  # a surface's microphone: 20 ms chunks, in real time
                device.voice.feed(tone(at, FRAME_SAMPLES, hz=660.0))
                at += FRAME_SAMPLES
                await asyncio.sleep(FRAME_SAMPLES / SAMPLE_RATE)

        speaker = asyncio.create_task(speak())
        try:
            levels = await agent_levels(agent, 25)
        finally:
            speaker.cancel()
        assert max(levels) > HEARD, f"the agent never heard the customer: {max(levels):.4f}"

        await device.customer_action("talk_stop")
        device.voice.feed(tone(0, SAMPLE_RATE // 2))
        with contextlib.suppress(TimeoutError):
            await agent_levels(agent, 50, timeout=0.5)  # what was on its way, then nothing
        sent = microphone.frames_sent
        with pytest.raises(TimeoutError):
            await agent_levels(agent, 1, timeout=0.5)
        assert microphone.frames_sent == sent


@memory_only
async def test_agent_heard_by_the_customer(desk: Desk) -> None:
    heard: list[float] = []
    async with session(desk, "bob", agent_mic=True) as (device, _):
        device.voice.listeners.append(lambda pcm: heard.append(rms(pcm)))
        await assert_eventually(
            lambda: any(level > HEARD for level in heard), message="the agent was never heard"
        )
        assert heard, "no audio reached the device"
        assert max(heard) > HEARD, f"the agent's voice arrived silent: {max(heard):.4f}"
        assert device.voice.agent_level >= 0.0
        assert device.peer is not None
        assert device.peer.audio_frames > 0
        # The customer did not tap Talk: their microphone sent nothing.
        microphone = device.voice.microphone
        assert microphone is not None
        assert microphone.frames_sent == 0


VOICE_SHOWN = "() => !document.getElementById('voice').hidden"
AGENT_HEARD = "(level) => window.__preview.audioLevel > level"
MIC_OPEN = "() => window.__preview.micOpen && window.__preview.micChunks > 10"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@memory_only
async def test_preview_page_plays_the_agent_and_sends_the_customers_microphone(
    desk: Desk,
) -> None:
    """The customer's page: "Tap to hear the agent", the agent's voice played (non-silent
    samples reach WebAudio), then Talk on the tablet opens Chromium's fake microphone (a beep)
    and its non-silent PCM reaches the device's microphone track."""
    require_chromium()
    from playwright.async_api import async_playwright

    tablet = SimulatedTablet()
    async with session(desk, "carol", agent_mic=True, source=tablet) as (device, _):
        preview = PreviewServer.of_device(device, tablet, "Voice tablet")
        url = await preview.start()
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport={"width": 1366, "height": 768})
                await page.goto(url)
                await page.wait_for_function(VOICE_SHOWN)
                assert "Tap to hear the agent" in await page.inner_text("#sound")
                assert "Microphone off" in await page.inner_text("#mic")
                assert device.voice.customer_peak == 0.0
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "preview-voice-ask.png"))

                await page.click("#sound")
                await page.wait_for_function(AGENT_HEARD, arg=HEARD, timeout=10_000)
                assert preview.audio_sent > 0

                # Talk, tapped on the tablet's own control through the page.
                x, y = centre(tablet.elements()["customer.talk"])
                box = await page.locator("#screen").bounding_box()
                assert box is not None
                width, height = tablet.size
                await page.mouse.click(
                    box["x"] + (x + 0.5) * box["width"] / width,
                    box["y"] + (y + 0.5) * box["height"] / height,
                )
                await assert_eventually(lambda: device.voice.talking, message="Talk not taken")
                await page.wait_for_function(MIC_OPEN, timeout=10_000)
                await assert_eventually(
                    lambda: device.voice.customer_peak > SILENT * 5,
                    message="the customer's microphone never reached the device",
                )
                assert "Microphone on" in await page.inner_text("#mic")
                await page.screenshot(path=str(ARTIFACTS / "preview-voice.png"))

                await device.customer_action("talk_stop")
                await page.wait_for_function("() => !window.__preview.micOpen")
                await browser.close()
        finally:
            await preview.stop()
