"""The tablet tests' fake clock, the recorder of the customer's actions, and the taps and pixel
reads they all use.

``tests/test_tablet.py`` (the apps, input and capture) and ``tests/test_tablet_customer.py`` (the
customer's own controls and their wording) build the same tablet and read it the same way; here
that is written once. A test module takes the fixtures by importing all three (``actions``,
``clock``, ``tablet``: ``tablet`` asks for the other two), as ``from .tablet import tablet as
tablet``; only the tablet tests use them, so they live here rather than in ``conftest.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from device_agent.customer import CustomerAction
from device_agent.screens.base import Frame, InputOrigin, Rect, Tap
from device_agent.screens.tablet import SimulatedTablet, TabletState

__all__ = [
    "FakeClock",
    "Recorder",
    "actions",
    "centre",
    "clock",
    "luminance",
    "region",
    "snapshot",
    "tablet",
    "tap",
]


class FakeClock:
    def __init__(self, hour: int = 10, minute: int = 42) -> None:
        self.hour, self.minute = hour, minute

    def __call__(self) -> time.struct_time:
        return time.struct_time((2026, 11, 24, self.hour, self.minute, 0, 1, 328, 0))


class Recorder:
    def __init__(self) -> None:
        self.actions: list[tuple[CustomerAction, int | str | None]] = []

    def __call__(self, action: CustomerAction, value: int | str | None) -> None:
        self.actions.append((action, value))


@pytest.fixture
def actions() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tablet(actions: Recorder, clock: FakeClock) -> SimulatedTablet:
    return SimulatedTablet(on_customer_action=actions, clock=clock)


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.width // 2, rect.y + rect.height // 2


def tap(tablet: SimulatedTablet, name: str, origin: InputOrigin = "agent") -> bool:
    x, y = centre(tablet.elements()[name])
    return tablet.inject(Tap(x, y), origin)


def region(frame: Frame, rect: Rect) -> Frame:
    return frame[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width].copy()


def luminance(frame: Frame) -> float:
    return float(frame.astype(np.float32).mean())


def snapshot(tablet: SimulatedTablet) -> tuple[TabletState, int, Frame]:
    return tablet.state(), tablet.revision, tablet.capture().copy()
