"""A supervisor sees the customer's screen over a connection of its own, and draws only once joined
(docs/protocol.md §19.3): a real aiortc device, a real aiortc agent and supervisor, the server
in between."""

from __future__ import annotations

from device_agent import PatternScreen
from device_agent.customer import CustomerView
from signaling.annotations import Stroke
from sim import HeadlessAgent

from .conftest import Desk
from .devices import registered_device
from .support import assert_eventually


async def test_a_supervisor_sees_the_screen_and_draws_only_once_joined(desk: Desk) -> None:
    await desk.add_agent("alice")
    await desk.add_agent("sue", role="supervisor")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    supervisor = HeadlessAgent(desk.url, await desk.token("sue"))
    views: list[CustomerView] = []
    device = await registered_device(
        desk.http, desk.url, PatternScreen(640, 400), customer_surface=views.append
    )
    try:
        await agent.start()
        await supervisor.start(available=False)
        await device.start()
        await device.request_help(topic="general", locale="en")
        session_id = await agent.accept((await agent.next_ring())["ring_id"])
        await agent.wait_first_frame(timeout=20)

        watched = await supervisor.watch(session_id)
        assert watched["session_id"] == session_id
        _, frame = await supervisor.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (640, 400)
        assert views[-1].watchers == (("sue", "watch"),), "the customer is told who watches"
        # The agent's own stream goes on beside it.
        before = agent.frames_received
        await assert_eventually(lambda: agent.frames_received > before)

        mark = Stroke(
            id="s1", tool="pen", color="#8000ff", width=0.01, points=[(0.1, 0.1), (0.5, 0.5)]
        )
        await supervisor.annotate(mark)
        # Watching only: the device draws nothing of it (the agent's next mark is drawn).
        await agent.annotate(mark.model_copy(update={"id": "a1", "color": "#ff0000"}))
        await assert_eventually(lambda: [a.id for a in device.annotations.visible()] == ["a1"])

        await supervisor.watch(session_id, "join")
        await assert_eventually(lambda: views[-1].watchers == (("sue", "join"),))
        await supervisor.annotate(mark.model_copy(update={"id": "s2"}))
        await assert_eventually(
            lambda: "s2" in [a.id for a in device.annotations.visible()],
            message="a joined supervisor's mark never reached the device",
        )

        await supervisor.leave()
        await assert_eventually(lambda: not views[-1].watchers)
        await assert_eventually(lambda: not device.watchers.names)
    finally:
        await device.close()
        await supervisor.close()
        await agent.close()
