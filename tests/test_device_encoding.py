"""The device's screen pipeline: only changed rows are converted, the screen encoders are aiortc's
with screen settings, and a session's screen is sent with them in either codec."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from aiortc.codecs import get_decoder
from aiortc.codecs.base import Decoder
from aiortc.codecs.h264 import h264_depayload
from aiortc.codecs.vpx import vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from device_agent import PatternScreen
from device_agent.encoding import ScreenH264Encoder, ScreenVp8Encoder
from device_agent.frames import YuvCanvas, changed_rows
from device_agent.media import ScreenTrack
from device_agent.screens.base import Frame
from sim import HeadlessAgent

from .conftest import Desk
from .devices import registered_device


def _whole(rgb: Frame) -> list[np.ndarray]:
    """The I420 planes of a whole-picture conversion (what the encoders made before)."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return [
        np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy()
        for p in frame.planes
    ]


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    return [
        np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy()
        for p in frame.planes
    ]


@pytest.mark.parametrize("size", [(800, 1280), (101, 67), (64, 64)])
def test_canvas_converts_changed_rows_exactly_like_the_whole_picture(
    size: tuple[int, int],
) -> None:
    rng = np.random.default_rng(7)
    height, width = size
    canvas = YuvCanvas()
    picture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert canvas.update(picture)
    assert not canvas.update(picture.copy()), "the same pixels are no change"
    for _ in range(30):
        picture = picture.copy()
        first = int(rng.integers(0, height))
        end = min(height, first + int(rng.integers(1, 40)))
        picture[first:end, int(rng.integers(0, width)) :] = rng.integers(0, 256, 3)
        canvas.update(picture)
        for got, want in zip(_planes(canvas.frame()), _whole(picture), strict=True):
            assert np.array_equal(got, want), f"rows {first}..{end} converted wrongly"


def test_canvas_converts_a_band_not_the_whole_picture() -> None:
    base = PatternScreen(1280, 800).capture()
    canvas = YuvCanvas()
    canvas.update(base)
    before = canvas.rows_converted
    picture = base.copy()
    picture[390:410, 100:200] = (255, 0, 0)
    assert changed_rows(base, picture) == (390, 410)
    assert canvas.update(picture)
    assert 0 < canvas.rows_converted - before < 100


def _decode(mime: str, payloads: list[bytes], timestamp: int) -> list[av.VideoFrame]:
    depayload = h264_depayload if mime == "video/H264" else vp8_depayload
    data = b"".join(depayload(payload) for payload in payloads)
    decoder = _decoders.setdefault(
        mime, get_decoder(RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=96))
    )
    return [
        frame
        for frame in decoder.decode(JitterFrame(data=data, timestamp=timestamp))
        if isinstance(frame, av.VideoFrame)
    ]


_decoders: dict[str, Decoder] = {}


@pytest.mark.parametrize("mime", ["video/H264", "video/VP8"])
def test_screen_encoders_keep_their_settings_and_decode(mime: str) -> None:
    _decoders.clear()
    encoder = ScreenH264Encoder() if mime == "video/H264" else ScreenVp8Encoder()
    screen = PatternScreen(640, 400)
    canvas = YuvCanvas()
    decoded = 0
    for index in range(12):
        if index == 6:
            encoder.target_bitrate = 2_000_000  # the receiver asks for more: a new codec context
        canvas.update(screen.capture())
        frame = canvas.frame()
        frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.encode(frame, force_keyframe=index in (0, 6))
        assert payloads
        decoded += len(_decode(mime, payloads, timestamp))
        # aiortc kept the context opened with the screen settings, also at the new bitrate.
        assert encoder.codec is not None
        assert encoder.codec is encoder.screen_codec
        assert encoder.codec.thread_count == 1
        assert encoder.codec.bit_rate == encoder.target_bitrate
    assert decoded >= 10


async def test_a_still_screen_is_converted_once() -> None:
    """Keep-alive and settling frames of an unchanged picture are neither captured nor
    converted again when the source tells its revision."""

    class Still(PatternScreen):
        @property
        def revision(self) -> int:
            return 1

    track = ScreenTrack(Still(320, 200), fps=30, keepalive_fps=30)
    for _ in range(8):
        frame = await track.recv()
        assert (frame.width, frame.height, frame.format.name) == (320, 200, "yuv420p")
    assert track.stats.frames_sent == 8
    assert track.stats.renders == 1
    track.stop()


@pytest.mark.parametrize("codec", ["h264", "vp8"])
async def test_the_session_screen_is_sent_with_the_screen_encoder(desk: Desk, codec: str) -> None:
    await desk.add_agent("alice")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    device = await registered_device(desk.http, desk.url, PatternScreen(1280, 800), codec=codec)
    try:
        await agent.start()
        await device.start()
        await device.request_help(topic="general", locale="en")
        ring = await agent.next_ring()
        await agent.accept(ring["ring_id"])
        _, frame = await agent.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (1280, 800)
        assert device.peer is not None
        senders = [t.sender for t in device.peer.pc.getTransceivers() if t.sender.track]
        encoders = [getattr(s, "_RTCRtpSender__encoder", None) for s in senders]
        wanted = ScreenH264Encoder if codec == "h264" else ScreenVp8Encoder
        assert any(isinstance(e, wanted) for e in encoders), encoders
    finally:
        await device.close()
        await agent.close()
