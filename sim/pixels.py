"""Looking at the agent's received video: colours of regions, marks, changes, the paused card.

Everything here is plain numpy on RGB arrays and runs in worker threads (a 1280×800 frame takes a
few milliseconds to convert and compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from device_agent.screens.base import Rect

__all__ = [
    "Change",
    "Image",
    "colour_distance",
    "dominant_colour",
    "fraction_near",
    "hex_rgb",
    "is_paused_card",
    "patch_mean",
    "rgb",
    "rgb_hex",
]

Image = npt.NDArray[np.int16]
PAUSED_BACKGROUND = np.array((30, 33, 41), dtype=np.int16)
"""The paused card's background (device_agent.overlay.paused_card)."""


def rgb(frame: av.VideoFrame, size: tuple[int, int]) -> Image:
    """The frame as signed RGB pixels at the device's screen size (scaled if the encoder did)."""
    width, height = size
    if (frame.width, frame.height) != (width, height):
        frame = frame.reformat(width=width, height=height)
    return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.int16)


def hex_rgb(colour: str) -> npt.NDArray[np.int16]:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def rgb_hex(colour: Sequence[float] | npt.NDArray[np.generic]) -> str:
    r, g, b = (max(0, min(255, round(float(c)))) for c in colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def patch_mean(image: Image, x: int, y: int, radius: int) -> npt.NDArray[np.float64]:
    height, width = image.shape[:2]
    x0, x1 = max(0, x - radius), min(width, x + radius + 1)
    y0, y1 = max(0, y - radius), min(height, y + radius + 1)
    return np.asarray(image[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0), dtype=np.float64)


def colour_distance(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> float:
    """The largest per-channel difference."""
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def crop(image: Image, rect: Rect) -> Image:
    height, width = image.shape[:2]
    x0, y0 = max(0, rect.x), max(0, rect.y)
    x1, y1 = min(width, rect.x + rect.width), min(height, rect.y + rect.height)
    return image[y0:y1, x0:x1]


def fraction_near(region: Image, colour: npt.NDArray[np.int16], tolerance: float) -> float:
    """Share of the region's pixels within ``tolerance`` of ``colour`` in every channel."""
    if region.size == 0:
        return 0.0
    near = np.abs(region - colour).max(axis=-1) <= tolerance
    return float(near.mean())


def dominant_colour(region: Image) -> str:
    """The region's most common colour (pixels grouped in steps of 16, then averaged)."""
    if region.size == 0:
        return "none"
    pixels = region.reshape(-1, 3)
    bins = pixels // 16
    keys = bins[:, 0] * 256 + bins[:, 1] * 16 + bins[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    key = int(values[int(np.argmax(counts))])
    return rgb_hex(pixels[keys == key].mean(axis=0))


def is_paused_card(image: Image) -> bool:
    """The paused card: its dark background in all four corners."""
    height, width = image.shape[:2]
    corners = (
        image[8:40, 8:40],
        image[8:40, width - 40 : width - 8],
        image[height - 40 : height - 8, 8:40],
        image[height - 40 : height - 8, width - 40 : width - 8],
    )
    return all(
        colour_distance(c.reshape(-1, 3).mean(axis=0), PAUSED_BACKGROUND) < 14 for c in corners
    )


@dataclass(frozen=True)
class Change:
    """What an input changed on the device's screen, to recognise it in the received video."""

    ys: npt.NDArray[np.intp]
    xs: npt.NDArray[np.intp]
    before: npt.NDArray[np.int16]
    after: npt.NDArray[np.int16]

    @property
    def pixels(self) -> int:
        return len(self.ys)

    @classmethod
    def between(
        cls,
        before: npt.NDArray[np.uint8],
        after: npt.NDArray[np.uint8],
        hidden: Sequence[Rect] = (),
        sample: int = 20_000,
    ) -> Change:
        """Pixels that differ clearly between two captures, outside hidden regions."""
        old = before.astype(np.int16)
        new = after.astype(np.int16)
        changed = np.abs(new - old).max(axis=-1) > 40
        for rect in hidden:
            changed[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width] = False
        ys, xs = np.nonzero(changed)
        if len(ys) > sample:
            step = len(ys) // sample + 1
            ys, xs = ys[::step], xs[::step]
        return cls(ys=ys, xs=xs, before=old[ys, xs], after=new[ys, xs])

    def seen_in(self, image: Image) -> bool:
        """The received picture is clearly closer to the new screen than to the old one."""
        got = image[self.ys, self.xs]
        to_after = float(np.abs(got - self.after).mean())
        to_before = float(np.abs(got - self.before).mean())
        return to_after < 0.6 * to_before
