"""The device agent end to end: a real server, a real aiortc agent, a simulated tablet.

What the customer and the agent each see and do: frames, annotations, consent and control,
privacy, pause, the agent's microphone, the rating.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import numpy as np
import pytest
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from device_agent import DeviceAgent
from device_agent.customer import ChatLine
from device_agent.overlay import HIDDEN_FILL, HIDDEN_STRIPE
from device_agent.screens.base import Rect, Text
from device_agent.screens.tablet import SimulatedTablet
from signaling import Event
from signaling import models as m
from signaling.annotations import Stroke
from sim import HeadlessAgent

from .conftest import Desk
from .devices import registered_device
from .support import assert_eventually

W, H = 1280, 800


@dataclass
class Live:
    desk: Desk
    agent: HeadlessAgent
    device: DeviceAgent
    tablet: SimulatedTablet
    session_id: str


@pytest.fixture
async def live(desk: Desk) -> AsyncIterator[Live]:
    await desk.add_agent("alice")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    agent.microphone = AudioStreamTrack()
    tablet = SimulatedTablet()
    device = await registered_device(desk.http, desk.url, tablet, fade_s=30)
    try:
        await agent.start()
        await device.start()
        tablet.tap("customer.help", origin="customer")
        ring = await agent.next_ring()
        session_id = await agent.accept(ring["ring_id"])
        await agent.wait_first_frame(timeout=20)
        await asyncio.wait_for(device.media_connected.wait(), 10)
        yield Live(desk, agent, device, tablet, session_id)
    finally:
        await device.close()
        await agent.close()


def pixels(frame: av.VideoFrame, rect: Rect | None = None) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24").astype(np.int16)
    if rect is None:
        return image
    return image[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width]


def centre(rect: Rect) -> dict[str, float]:
    return {"x": (rect.x + rect.width / 2) / W, "y": (rect.y + rect.height / 2) / H}


def tap_on(tablet: SimulatedTablet, name: str) -> dict[str, object]:
    return {"type": "tap", **centre(tablet.elements()[name])}


async def grant(live: Live) -> None:
    await live.agent.request_control()
    await assert_eventually(lambda: "customer.allow" in live.tablet.elements())
    assert live.tablet.tap("customer.allow", origin="customer")
    await live.agent.wait_control("granted")


async def test_agent_sees_the_tablet_and_the_customer_sees_connected(live: Live) -> None:
    _, frame = await live.agent.wait_frame(lambda f: True)
    error = np.abs(pixels(frame) - live.tablet.capture().astype(np.int16)).mean()
    assert error < 8, f"the agent's picture differs from the tablet by {error:.1f} per channel"
    view = live.tablet.customer_view
    assert (view.phase, view.agent_name) == ("connected", "alice")


async def test_annotation_shows_on_the_device_and_comes_back_in_the_video(live: Live) -> None:
    arrow = Stroke(
        id="a1", tool="arrow", color="#ff0000", width=0.01, points=[(0.2, 0.5), (0.6, 0.5)]
    )
    mid_x, mid_y = int(0.4 * W), int(0.5 * H)

    def red_at_arrow(frame: av.VideoFrame) -> bool:
        r, g, b = pixels(frame)[mid_y - 2 : mid_y + 3, mid_x - 2 : mid_x + 3].mean(axis=(0, 1))
        return bool(r > 180 and g < 90 and b < 90)

    sent = await live.agent.annotate(arrow)
    seen, _ = await live.agent.wait_frame(red_at_arrow)
    assert seen - sent < 2.0
    customer = live.device.render_for_customer()
    assert tuple(customer[mid_y, mid_x]) == (255, 0, 0), "the customer sees the arrow too"
    assert live.device.annotations.visible()[0].id == "a1"


async def test_control_needs_consent_and_stop_control_ends_it_at_once(live: Live) -> None:
    tablet, agent = live.tablet, live.agent
    # Before consent: the server refuses, and the device would drop it anyway.
    refused = await agent.send_input(tap_on(tablet, "app.settings"))
    assert refused["error"]["code"] == "forbidden"
    bypass = m.ControlInput(session_id=live.session_id, seq=99, events=[m.TapInput(x=0.5, y=0.5)])
    await live.device._on_control_input(bypass.model_dump())
    assert tablet.state()["current_app"] == "home"
    assert live.device.inputs_dropped == 1

    await grant(live)
    assert tablet.customer_view.control_active
    assert await agent.send_input(tap_on(tablet, "app.settings")) == {"ok": True}
    await assert_eventually(lambda: tablet.state()["current_app"] == "settings")
    toggle = tablet.elements()["settings.bluetooth_toggle"]
    _, before = await agent.wait_frame(lambda f: True)
    assert tablet.state()["bluetooth"] is False
    assert await agent.send_input(tap_on(tablet, "settings.bluetooth_toggle")) == {"ok": True}
    await assert_eventually(lambda: tablet.state()["bluetooth"] is True)

    def toggle_changed(frame: av.VideoFrame) -> bool:
        return float(np.abs(pixels(frame, toggle) - pixels(before, toggle)).mean()) > 20

    await agent.wait_frame(toggle_changed)

    assert tablet.tap("customer.stop_control", origin="customer")
    await assert_eventually(lambda: not live.device.consent.allows(live.session_id))
    assert (await agent.wait_control("none"))["reason"] == "revoked"
    after = await agent.send_input(tap_on(tablet, "settings.bluetooth_toggle"))
    assert after["error"]["code"] == "forbidden"
    await asyncio.sleep(0.2)
    assert tablet.state()["bluetooth"] is True, "input after Stop control changed the device"

    _, events = await live.desk.get(
        f"/api/sessions/{live.session_id}/events", await live.desk.token("alice")
    )
    kinds = [e["kind"] for e in events["events"]]
    for kind in (
        "control.requested",
        "control.granted",
        "control.revoked",
        "control.input_dropped",
    ):
        assert kind in kinds, kind


async def test_password_pixels_never_reach_the_agent(live: Live) -> None:
    tablet = live.tablet
    assert tablet.tap("app.signin", origin="customer")
    await assert_eventually(lambda: "signin.password" in tablet.elements())
    assert tablet.tap("signin.password", origin="customer")
    from device_agent.screens.base import Text

    assert tablet.inject(Text("hunter2hunter2"), origin="customer")
    field = tablet.elements()["signin.password"]
    shown = tablet.capture()[field.y : field.y + field.height, field.x : field.x + field.width]
    hidden = np.array([HIDDEN_FILL, HIDDEN_STRIPE], dtype=np.int16).mean(axis=0)

    def hidden_in(frame: av.VideoFrame) -> bool:
        region = pixels(frame, field)
        return bool(np.abs(region.mean(axis=(0, 1)) - hidden).max() < 25)

    _, frame = await live.agent.wait_frame(hidden_in)
    region = pixels(frame, field)
    assert np.abs(region - shown.astype(np.int16)).mean() > 40, "the field's own pixels leaked"
    for _ in range(5):  # and it stays hidden in every later frame
        _, later = await live.agent.wait_frame(lambda f: True)
        assert hidden_in(later)
    await assert_eventually(lambda: live.agent.device_status.get("hidden_regions") == 1)


async def test_pause_sharing_replaces_the_screen(live: Live) -> None:
    assert live.tablet.tap("customer.pause", origin="customer")

    def card(frame: av.VideoFrame) -> bool:
        return float(pixels(frame).mean()) < 60

    await live.agent.wait_frame(card)
    await assert_eventually(lambda: live.agent.device_status.get("sharing_paused") is True)
    # Every status says what the device is, for the agent's Customer tab.
    assert live.agent.device_status["device"] == {
        "model": "mayday simulated tablet",
        "os": "mayday Tablet OS 1",
        "screen_width": live.tablet.size[0],
        "screen_height": live.tablet.size[1],
        "battery_percent": 78,
        "charging": False,
        "network": "Wi-Fi",
    }
    assert live.tablet.tap("customer.resume", origin="customer")
    await live.agent.wait_frame(lambda f: not card(f))


async def test_agent_microphone_is_received(live: Live) -> None:
    await assert_eventually(
        lambda: live.device.peer is not None and live.device.peer.audio_frames > 10,
        message="the agent's microphone never reached the device",
    )


async def test_customer_rates_after_the_end(live: Live) -> None:
    await live.agent.end_session("resolved")
    await assert_eventually(lambda: "customer.rate.4" in live.tablet.elements())
    assert live.tablet.tap("customer.rate.4", origin="customer")

    async def rated() -> bool:
        status, body = await live.desk.get(
            f"/api/sessions/{live.session_id}", await live.desk.token("alice")
        )
        return status == 200 and body["rating"] == 4

    await assert_eventually(rated)


async def test_agent_camera_is_a_tile_on_the_customers_screen(desk: Desk) -> None:
    await desk.add_agent("alice")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    agent.camera = VideoStreamTrack()  # aiortc's test camera: a plain green picture
    tablet = SimulatedTablet()
    device = await registered_device(desk.http, desk.url, tablet)
    try:
        await agent.start()
        await device.start()
        await device.request_help()
        await agent.accept((await agent.next_ring())["ring_id"])
        await assert_eventually(lambda: device.peer is not None and device.peer.camera_frames > 3)
        customer = device.render_for_customer().astype(np.int16)
        tile = customer[60:200, W - 220 : W - 30]
        r, g, b = tile.reshape(-1, 3).mean(axis=0)
        assert g > r + 60, "the agent's camera tile is missing"
        assert g > b + 60, "the agent's camera tile is missing"
        _, seen_by_agent = await agent.wait_frame(lambda f: True)
        assert (
            np.abs(
                pixels(seen_by_agent)[60:200, W - 220 : W - 30].mean(axis=(0, 1)) - (r, g, b)
            ).max()
            > 30
        ), "the agent's own camera is not streamed back to it"
    finally:
        await device.close()
        await agent.close()


async def test_a_socket_blip_resumes_the_session_and_control_within_the_lease(live: Live) -> None:
    await grant(live)
    before = live.device.peer
    assert live.device.client.sio.eio.ws is not None
    await live.device.client.sio.eio.ws.close()  # the network drops the signaling socket

    await live.agent.wait_control("suspended")
    resumed = await live.agent.wait_control("granted")
    assert resumed["reason"] == "resumed", "control must come back without a new dialog"
    assert live.tablet.customer_view.control_active
    assert live.device.session is not None
    assert live.device.session["session_id"] == live.session_id
    assert live.device.peer is before, "media that never dropped is kept"
    assert await live.agent.send_input(tap_on(live.tablet, "app.settings")) == {"ok": True}
    await assert_eventually(lambda: live.tablet.state()["current_app"] == "settings")


async def test_a_failed_media_connection_is_restarted_in_the_same_session(live: Live) -> None:
    old = live.device.peer
    assert old is not None
    await live.device._on_media_state(old, "failed")  # what aiortc reports after a network blip
    await assert_eventually(
        lambda: live.device.peer is not old and live.device.media_connected.is_set()
    )
    _, frame = await live.agent.wait_first_frame(timeout=20)
    assert (frame.width, frame.height) == (W, H)
    assert live.agent.session is not None
    assert live.agent.session["session_id"] == live.session_id


async def test_an_offer_lost_on_its_way_is_made_again(live: Live) -> None:
    """An offer (or its answer) lost while a socket moves to another server process: the device
    offers anew after its wait, and the media comes up; without that it would never start."""
    lost: list[dict[str, object]] = []

    async def lose(data: dict[str, object]) -> None:
        lost.append(data)
        live.agent.client.on(Event.RTC_OFFER, live.agent._on_offer)  # the next one gets through

    live.agent.client.on(Event.RTC_OFFER, lose)
    live.device.offer_answer_timeout_s = 0.5
    old = live.device.peer
    assert old is not None
    await live.device._on_media_state(old, "failed")
    await assert_eventually(lambda: len(lost) == 1)
    lost_offer = live.device.peer
    assert lost_offer is not None
    assert not lost_offer.answered
    await assert_eventually(
        lambda: live.device.peer not in (old, lost_offer) and live.device.media_connected.is_set()
    )
    assert live.device.peer is not None
    assert live.device.peer.answered
    _, frame = await live.agent.wait_first_frame(timeout=20)
    assert (frame.width, frame.height) == (W, H)


async def test_chat_both_ways_then_the_customer_ends_and_comments(live: Live) -> None:
    """The agent's line peeks, folds into the Chat button with its count, and is read once the
    customer opens the chat; the customer's typed line reaches the agent; End asks first; the
    rating card takes a comment."""
    heard: list[dict[str, object]] = []

    async def on_chat(data: dict[str, object]) -> None:
        heard.append(data)

    live.agent.client.on(Event.CHAT_MESSAGE, on_chat)
    live.device.chat_peek_s = 0.05
    await live.agent.client.call(
        Event.CHAT_SEND, {"session_id": live.session_id, "text": "Open Settings, please."}
    )
    await assert_eventually(
        lambda: ChatLine(False, "alice", "Open Settings, please.") in live.tablet.customer_view.chat
    )
    await assert_eventually(lambda: live.tablet.customer_view.chat_state == "closed")
    assert live.tablet.customer_view.chat_unread == 1
    assert live.tablet.tap("customer.chat", origin="customer")
    await assert_eventually(lambda: live.tablet.customer_view.chat_state == "open")
    assert live.tablet.customer_view.chat_unread == 0
    live.tablet.inject(Text("Done!"), origin="customer")
    assert live.tablet.tap("customer.chat_send", origin="customer")
    await assert_eventually(
        lambda: ChatLine(True, "You", "Done!") in live.tablet.customer_view.chat
    )
    await assert_eventually(lambda: any(m["sender"] == "device" for m in heard))
    assert [(m["sender"], m["text"]) for m in heard] == [
        ("agent", "Open Settings, please."),
        ("device", "Done!"),
    ]
    assert live.tablet.customer_view.chat_unread == 0, "the customer's own line is not unread"

    assert live.tablet.tap("customer.end", origin="customer")
    assert "customer.end_yes" in live.tablet.elements()
    assert not live.device.ended.is_set()
    assert live.tablet.tap("customer.end_yes", origin="customer")
    await asyncio.wait_for(live.device.ended.wait(), 10)
    await assert_eventually(lambda: "customer.rate.2" in live.tablet.elements())
    assert live.tablet.tap("customer.rate.2", origin="customer")
    await assert_eventually(lambda: live.tablet.customer_view.rating == 2)
    await live.device.rate_comment("Too slow, but friendly.")
    assert live.tablet.customer_view.rating_comment_sent
    assert live.tablet.customer_view.rating_requested, "the card stays until it is closed"
