"""A ``clear`` takes every mark out of the video the agent receives (issue 17, "the stale clear").

The "1 of 30 marks still visible 10 s after clear" that ``bench/device.py`` once reported was its
own probe: mark 26 (and every 35th after it) was looked for over the tablet's red Mail icon, which
no clear can take away (the bench now checks its probes before it measures, ``bench/_marks.py``).
These tests pin the device's half: it really clears, for every tool, in every codec, with a
stroke and its clear sent back to back, and for a mark over the red icon.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import numpy as np
import pytest

from device_agent import DeviceAgent
from device_agent.overlay import AnnotationLayer
from device_agent.screens.tablet import SimulatedTablet
from signaling.annotations import Clear, Laser, Stroke
from sim import HeadlessAgent

from .conftest import MEMORY_ONLY, Desk
from .devices import registered_device

W, H = 1280, 800
MARK_DIFF = 60
"""A pixel belongs to a mark where drawing it changes a channel by more than this."""
CLEAN = 20.0
"""After a clear, the mean difference from the bare screen over a mark's pixels stays below this
(video coding noise is a few units; a mark left over is 60 or more by construction)."""


def video_frame(pixels: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")


def marks() -> list[Stroke | Laser]:
    """Every tool, in several colours, one of them over the red Mail icon (x 484..632, y 428..580)."""
    return [
        Stroke(id="pen", tool="pen", color="#ff0000", width=0.008, points=[(0.1, 0.2), (0.5, 0.2)]),
        Stroke(
            id="over-mail",
            tool="pen",
            color="#00ff00",
            width=0.01,
            points=[(0.36, 0.66), (0.52, 0.66), (0.52, 0.6)],
        ),
        Stroke(
            id="arrow", tool="arrow", color="#ffcc00", width=0.006, points=[(0.6, 0.8), (0.9, 0.3)]
        ),
        Stroke(id="circle", tool="circle", color="#0a84ff", points=[(0.15, 0.35), (0.3, 0.5)]),
        Stroke(
            id="highlight",
            tool="highlight",
            color="#ffcc00",
            width=0.006,
            points=[(0.3, 0.9), (0.8, 0.9)],
        ),
        Stroke(
            id="pinned",
            tool="pen",
            color="#bf5af2",
            width=0.008,
            points=[(0.7, 0.15), (0.95, 0.25)],
            pinned=True,
        ),
        Stroke(
            id="drawing",
            tool="pen",
            color="#ff3b30",
            width=0.008,
            points=[(0.05, 0.7), (0.25, 0.75)],
            done=False,
        ),
        Laser(x=0.8, y=0.6),
    ]


def masks(screen: np.ndarray) -> dict[str, np.ndarray]:
    """For each mark, the pixels drawing it alone changes on ``screen``."""
    out = {}
    for mark in marks():
        layer = AnnotationLayer(fade_s=600)
        layer.apply(mark)
        drawn = layer.composite(screen).astype(np.int16)
        mask = np.abs(drawn - screen.astype(np.int16)).max(axis=2) > MARK_DIFF
        assert mask.sum() > 50, f"{mark.type} {getattr(mark, 'id', '')} does not show on the screen"
        out[getattr(mark, "id", "laser")] = mask
    return out


def left_over(frame: av.VideoFrame, screen: np.ndarray, where: dict[str, np.ndarray]) -> list[str]:
    """The marks whose pixels in ``frame`` still differ from the bare ``screen``."""
    diff = np.abs(frame.to_ndarray(format="rgb24").astype(np.int16) - screen.astype(np.int16))
    return [name for name, mask in where.items() if float(diff[mask].mean()) >= CLEAN]


# --- the overlay: what the device composites before encoding ---------------------------------


def test_clear_gives_back_the_bare_screen_whatever_came_before() -> None:
    screen = SimulatedTablet().capture()
    orders: list[list[Stroke | Laser | Clear]] = [
        [*marks(), Clear()],
        # A stroke still being drawn, then its end, then clear, all back to back.
        [marks()[6], marks()[6].model_copy(update={"done": True}), Clear()],
        [Clear(), *marks(), Clear()],
    ]
    for order in orders:
        layer = AnnotationLayer(fade_s=600)
        for message in order:
            layer.apply(message)
        assert layer.visible() == []
        assert not layer.animating()
        assert np.array_equal(layer.composite(screen), screen), order


# --- end to end: the frames the agent decodes ------------------------------------------------


@dataclass
class Live:
    agent: HeadlessAgent
    device: DeviceAgent
    tablet: SimulatedTablet


@pytest.fixture(params=["vp8", "h264"])
async def live(request: pytest.FixtureRequest, desk: Desk) -> AsyncIterator[Live]:
    await desk.add_agent("alice")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    tablet = SimulatedTablet()
    device = await registered_device(
        desk.http, desk.url, tablet, fade_s=600, codec=str(request.param)
    )
    try:
        await agent.start()
        await device.start()
        tablet.tap("customer.help", origin="customer")
        ring = await agent.next_ring()
        await agent.accept(ring["ring_id"])
        await agent.wait_first_frame(timeout=20)
        await asyncio.wait_for(device.media_connected.wait(), 10)
        yield Live(agent, device, tablet)
    finally:
        await device.close()
        await agent.close()


@MEMORY_ONLY
async def test_clear_takes_every_mark_out_of_the_agents_video(live: Live) -> None:
    agent, tablet = live.agent, live.tablet
    screen = tablet.capture()
    where = masks(screen)
    strokes = [mark for mark in marks() if isinstance(mark, Stroke)]
    for mark in strokes:
        await agent.annotate(mark)

    def all_shown(frame: av.VideoFrame) -> bool:
        return set(left_over(frame, screen, where)) >= {mark.id for mark in strokes}

    await agent.wait_frame(all_shown)
    await agent.annotate(Laser(x=0.8, y=0.6))
    await agent.annotate(Clear())
    _, frame = await agent.wait_frame(lambda frame: not left_over(frame, screen, where))
    for _ in range(3):  # and no later frame brings one back
        _, frame = await agent.wait_frame(lambda frame: True)
        assert left_over(frame, screen, where) == []
    assert live.device.annotations.visible() == []
    assert np.array_equal(live.device.render_for_customer(), screen), "the customer sees it too"


@MEMORY_ONLY
async def test_a_stroke_and_its_clear_sent_back_to_back_leave_nothing(live: Live) -> None:
    agent, tablet = live.agent, live.tablet
    screen = tablet.capture()
    where = masks(screen)
    for round_ in range(5):
        for mark in marks():
            if isinstance(mark, Stroke):
                mark = mark.model_copy(update={"id": f"{mark.id}-{round_}"})
            await agent.annotate(mark)
        await agent.annotate(Clear())
    # One more mark, waited for: the frames judged below come after the device took in all of
    # the above (the channel is ordered), not from before.
    last = marks()[0]
    assert isinstance(last, Stroke)
    await agent.annotate(last.model_copy(update={"id": "last", "pinned": True}))
    await agent.wait_frame(lambda frame: "pen" in left_over(frame, screen, where))
    await agent.annotate(Clear())
    _, frame = await agent.wait_frame(lambda frame: not left_over(frame, screen, where))
    for _ in range(3):
        _, frame = await agent.wait_frame(lambda frame: True)
        assert left_over(frame, screen, where) == []
    assert live.device.annotations.visible() == []
