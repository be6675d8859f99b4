"""A generated screen for tests and benchmarks: a still backdrop with a moving marker and a clock.

Cheap to draw (the backdrop is drawn once), different in every frame, and recognisable: the
marker's position says which frame the receiver is looking at.
"""

from __future__ import annotations

import time

import numpy as np

from .base import Frame, ScreenSource

__all__ = ["PatternScreen"]


class PatternScreen(ScreenSource):
    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self._width, self._height = width, height
        ys = np.linspace(40, 200, height, dtype=np.float32)[:, None]
        xs = np.linspace(30, 120, width, dtype=np.float32)[None, :]
        backdrop = np.empty((height, width, 3), dtype=np.uint8)
        backdrop[..., 0] = xs.astype(np.uint8)
        backdrop[..., 1] = ys.astype(np.uint8)
        backdrop[..., 2] = 160
        self._backdrop = backdrop
        self._started = time.monotonic()

    @property
    def size(self) -> tuple[int, int]:
        return self._width, self._height

    def capture(self) -> Frame:
        frame = self._backdrop.copy()
        elapsed = time.monotonic() - self._started
        x = int((elapsed * 200) % max(1, self._width - 80))
        frame[self._height // 2 - 40 : self._height // 2 + 40, x : x + 80] = (250, 250, 250)
        return frame
