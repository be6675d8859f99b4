"""End to end: a real aiortc device streams a generated screen; a real aiortc agent, connected only
through the server's signaling, decodes it."""

from __future__ import annotations

import numpy as np

from device_agent import PatternScreen
from sim import HeadlessAgent

from .conftest import Desk
from .devices import registered_device
from .support import assert_eventually


async def test_agent_receives_decoded_frame_of_device_screen(desk: Desk) -> None:
    await desk.add_agent("alice")
    token = await desk.token("alice")
    agent = HeadlessAgent(desk.url, token)
    screen = PatternScreen(1280, 800)
    device = await registered_device(desk.http, desk.url, screen)
    try:
        await agent.start()
        await device.start()
        ticket = await device.request_help(topic="general", locale="en")
        ring = await agent.next_ring()
        assert ring["ticket"]["ticket_id"] == ticket["id"]
        session_id = await agent.accept(ring["ring_id"])

        _, frame = await agent.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (1280, 800)
        received = frame.to_ndarray(format="rgb24").astype(np.int16)
        expected = screen.capture().astype(np.int16)
        # The backdrop (everything but the moving marker's band) survives lossy coding closely.
        band = slice(800 // 2 - 60, 800 // 2 + 60)
        outside = np.ones(800, dtype=bool)
        outside[band] = False
        error = np.abs(received[outside] - expected[outside]).mean()
        assert error < 6, f"received picture differs from the screen by {error:.1f} per channel"

        async def active() -> bool:
            status, body = await desk.get(f"/api/sessions/{session_id}", token)
            return status == 200 and body["state"] == "active"

        await assert_eventually(active, message="the session never became active")
    finally:
        await device.close()
        await agent.close()
