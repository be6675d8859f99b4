"""Video encoders tuned for a shared screen at real time, put in the place of aiortc's own.

aiortc's encoders are set up for camera video: x264 at its ``medium`` preset (about 9 ms of a
core per 1280×800 frame) and libvpx with a noise filter. A screen is mostly still, sharp-edged
and noiseless, and must go out at 30 frames a second on a device that is doing other work, so
the screen's sender gets encoders with faster settings (measured with ``bench/device.py``):

* H.264: x264 preset :data:`X264_PRESET`, tune ``zerolatency`` (no look-ahead, no B-frames),
  one thread;
* VP8: libvpx ``deadline=realtime`` with ``cpu-used`` :data:`VP8_CPU_USED`, no noise filter,
  one thread. (Not libvpx's encode breakout, ``static-thresh``, yet: at 100 it halves VP8's CPU
  on a moving screen, but marks went missing from the video in a run that also had the 1/30 s
  clock below; not tried again without it.)

One thread each, because aiortc already encodes in a worker thread (PyAV releases the GIL while
the codec works) while the device's own worker thread prepares the next frame: two cores are
busy without the codecs' thread pools, which on a loaded 2-core device cost more CPU than they
save in time.

Everything else (packetizing, key frames on request, the bitrate the receiver asks for) stays
aiortc's: these classes only open the codec context before aiortc would, with the same width,
height and bitrate it checks, so aiortc keeps it.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCRtpTransceiver
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from av.frame import Frame
from av.video.codeccontext import VideoCodecContext

__all__ = [
    "VP8_CPU_USED",
    "X264_PRESET",
    "ScreenH264Encoder",
    "ScreenVp8Encoder",
    "install_screen_encoder",
]

X264_PRESET = "ultrafast"
"""x264's fastest preset: about a quarter of ``medium``'s CPU on a moving 1280×800 screen."""
VP8_CPU_USED = 16
"""libvpx's speed/quality trade at real time: the fastest (aiortc uses 6)."""
FRAME_RATE = 30


def _needs_new_codec(codec: VideoCodecContext | None, frame: av.VideoFrame, bitrate: int) -> bool:
    """aiortc's own rule for opening a new codec context: new size, or a bitrate 10 % off."""
    if codec is None or not codec.bit_rate:
        return True
    return (
        frame.width != codec.width
        or frame.height != codec.height
        or abs(bitrate - codec.bit_rate) / codec.bit_rate > 0.1
    )


def _context(
    name: str, frame: av.VideoFrame, bitrate: int, options: dict[str, str], **attributes: Any
) -> VideoCodecContext:
    codec = av.CodecContext.create(name, "w")
    assert isinstance(codec, VideoCodecContext)
    codec.width = frame.width
    codec.height = frame.height
    codec.bit_rate = bitrate
    codec.pix_fmt = "yuv420p"
    codec.thread_count = 1
    for attribute, value in attributes.items():
        setattr(codec, attribute, value)
    codec.options = options
    return codec


class ScreenH264Encoder(H264Encoder):
    """aiortc's H.264 encoder with x264 set for screen content at real time."""

    screen_codec: VideoCodecContext | None = None
    """The codec context opened here (aiortc's ``codec`` is it unless aiortc opened its own)."""

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)
        if _needs_new_codec(self.codec, frame, self.target_bitrate):
            self.codec = self.screen_codec = _context(
                "libx264",
                frame,
                self.target_bitrate,
                {"level": "31", "preset": X264_PRESET, "tune": "zerolatency"},
                profile="Baseline",
                # As aiortc's: frames then count on a 1/30 s clock.
                framerate=fractions.Fraction(FRAME_RATE, 1),
                time_base=fractions.Fraction(1, FRAME_RATE),
            )
        return super().encode(frame, force_keyframe)


class ScreenVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder with libvpx set for screen content at real time."""

    screen_codec: VideoCodecContext | None = None
    """The codec context opened here (aiortc's ``codec`` is it unless aiortc opened its own)."""

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        bitrate = self.target_bitrate
        if _needs_new_codec(self.codec, frame, bitrate):
            self.codec = self.screen_codec = _context(
                "libvpx",
                frame,
                bitrate,
                {
                    # Constant bitrate with aiortc's buffer (rc_buf_sz 1000 ms), no look-ahead.
                    "bufsize": str(bitrate),
                    "minrate": str(bitrate),
                    "maxrate": str(bitrate),
                    "deadline": "realtime",
                    "cpu-used": str(VP8_CPU_USED),
                    "lag-in-frames": "0",
                    "noise-sensitivity": "0",
                    "static-thresh": "1",
                    "partitions": "0",
                    "overshoot-pct": "15",
                    "undershoot-pct": "100",
                },
                # No time base, as aiortc's: libvpx then counts in the frames' 90 kHz clock.
                # On a 1/30 s clock (frames closer together than that share a timestamp), red
                # marks went missing from the video for seconds (bench/_marks.py: 11 of 15).
                gop_size=3000,
                qmin=2,
                qmax=56,
            )
        return super().encode(frame, force_keyframe)


_ENCODERS: dict[str, Callable[[], Encoder]] = {
    "video/h264": ScreenH264Encoder,
    "video/vp8": ScreenVp8Encoder,
}


def install_screen_encoder(transceiver: RTCRtpTransceiver) -> bool:
    """Give the screen's sender a screen encoder for the codec negotiated, if it has none yet.

    Called by the screen track just before it hands its first frame to the sender: aiortc opens
    its own encoder right after that hand-over only if the slot is still empty. ``True`` if the
    sender has a screen encoder now; ``False`` before negotiation or for a codec without one (it
    then keeps aiortc's default). aiortc offers no public way to choose an encoder, so this is
    the one place that reaches into its sender.
    """
    sender = transceiver.sender
    slot = "_RTCRtpSender__encoder"
    current = getattr(sender, slot, None)
    if isinstance(current, ScreenH264Encoder | ScreenVp8Encoder):
        return True
    codecs = getattr(transceiver, "_codecs", None) or []
    if current is not None or not codecs:
        return False
    make = _ENCODERS.get(codecs[0].mimeType.lower())
    if make is None:
        return False
    setattr(sender, slot, make())
    return True
