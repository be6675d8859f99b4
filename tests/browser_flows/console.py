"""The agent console (agent_web/) in a real Chromium: the page, the device and the helpers the
console tests share (``tests/browser_flows/test_console_*.py``).

The device is a :class:`DeviceAgent` with a :class:`SimulatedTablet` in this process, so what the
console shows can be compared with what the tablet really shows, and what the agent does in the
browser (draw, click, type) can be checked on the tablet itself.

A screenshot of every step goes to test-artifacts/console/ (1366×768, plus the session at
1920×1080) for people to look at.

The fixtures that open these (``chromium``, ``browser``, ``open_console``, ``tablets``, and the
``live_store`` that runs the slow flows once, in memory) are in this directory's conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from playwright.async_api import Page, ViewportSize

from device_agent import DeviceAgent
from device_agent.screens.base import Rect
from device_agent.screens.tablet import SimulatedTablet

from ..conftest import AGENT_PASSWORD, Desk

__all__ = [
    "LARGE",
    "SMALL",
    "TIMEOUT_MS",
    "XSS",
    "Console",
    "ConsoleFactory",
    "Tablet",
    "TabletFactory",
    "in_session",
    "mean_error",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
SMALL: ViewportSize = {"width": 1366, "height": 768}
LARGE: ViewportSize = {"width": 1920, "height": 1080}
TIMEOUT_MS = 15_000
XSS = "<img src=x onerror=alert(1)>"

Pixels = npt.NDArray[np.int16]


@dataclass
class Console:
    """One agent's console page, with the few steps every test needs."""

    page: Page
    desk: Desk
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    async def sign_in(self, name: str) -> None:
        await self.page.fill("#signin-name", name)
        await self.page.fill("#signin-password", AGENT_PASSWORD)
        await self.page.click("#signin-submit")
        await self.page.wait_for_selector('#conn[data-state="connected"]', timeout=TIMEOUT_MS)

    async def set_presence(self, status: str) -> None:
        await self.page.click(f'#presence button[data-status="{status}"]')
        await self.page.wait_for_selector(f'#presence[data-status="{status}"]')

    async def wait_ring(self) -> None:
        await self.page.wait_for_selector("#ring:not([hidden])", timeout=TIMEOUT_MS)

    async def accept_and_watch(self) -> None:
        await self.page.click(".ring-accept")
        await self.page.wait_for_function(
            "() => document.querySelector('#screen').videoWidth > 0"
            " && document.querySelector('.stage-wait').hidden",
            timeout=20_000,
        )

    async def video_box(self) -> dict[str, float]:
        """The video element's box and the size of the picture it shows (once it shows one)."""
        # Read in the same turn as the check: a new offer (the device came back) resets the video,
        # and a picture seen a moment ago may be gone by the next evaluate().
        handle = await self.page.wait_for_function(
            """() => {
                const v = document.querySelector('#screen');
                const r = v.getBoundingClientRect();
                if (!(v.videoWidth > 0 && v.videoHeight > 0 && r.width > 0 && r.height > 0)) {
                    return null;
                }
                return {left: r.left, top: r.top, width: r.width, height: r.height,
                        vw: v.videoWidth, vh: v.videoHeight};
            }""",
            timeout=20_000,
        )
        box: dict[str, float] = await handle.json_value()
        return box

    async def page_point(self, x: float, y: float) -> tuple[float, float]:
        """Tablet pixel → page coordinates, through the video's box and its letterbox bars.

        Deliberately computed here from scratch rather than with the console's own geometry, so
        the console's mapping is what is under test.
        """
        box = await self.video_box()
        scale = min(box["width"] / box["vw"], box["height"] / box["vh"])
        shown_w, shown_h = box["vw"] * scale, box["vh"] * scale
        left = box["left"] + (box["width"] - shown_w) / 2
        top = box["top"] + (box["height"] - shown_h) / 2
        return left + (x + 0.5) / box["vw"] * shown_w, top + (y + 0.5) / box["vh"] * shown_h

    async def click_tablet(self, rect: Rect) -> None:
        x, y = await self.page_point(rect.x + rect.width / 2, rect.y + rect.height / 2)
        await self.page.mouse.click(x, y)

    async def video_pixels(self, rect: Rect) -> Pixels:
        """What the <video> shows in a region of the tablet, drawn into a canvas in the page."""
        data: list[int] = await self.page.evaluate(
            """([x, y, w, h]) => {
                const v = document.querySelector('#screen');
                const c = document.createElement('canvas');
                c.width = v.videoWidth; c.height = v.videoHeight;
                const ctx = c.getContext('2d');
                ctx.drawImage(v, 0, 0);
                return Array.from(ctx.getImageData(x, y, w, h).data);
            }""",
            [rect.x, rect.y, rect.width, rect.height],
        )
        rgba = np.array(data, dtype=np.int16).reshape(rect.height, rect.width, 4)
        return rgba[..., :3]

    def assert_clean(self) -> None:
        """Nothing device-controlled ran as script, and the page threw no error."""
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"errors in the page: {self.errors}"

    async def text(self, selector: str) -> str:
        return (await self.page.text_content(selector)) or ""

    async def record_notices(self) -> None:
        """Keep every notice shown over the video, even short-lived ones, in window.__notices."""
        await self.page.evaluate(
            """() => {
                window.__notices = [];
                const root = document.querySelector('#notices');
                new MutationObserver(() => {
                    for (const n of root.children) window.__notices.push(n.textContent);
                }).observe(root, {childList: true, subtree: true, characterData: true});
            }"""
        )

    async def notices_seen(self) -> str:
        seen: list[str] = await self.page.evaluate("() => window.__notices")
        return " | ".join(seen)


@dataclass
class Tablet:
    """A customer's device: the agent in this process and the simulated tablet it shares."""

    device: DeviceAgent
    tablet: SimulatedTablet


ConsoleFactory = Callable[..., Awaitable[Console]]
TabletFactory = Callable[..., Awaitable[Tablet]]


async def in_session(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory, name: str = "alice"
) -> tuple[Console, Tablet]:
    """An agent signed in and in a session with a tablet whose customer pressed help."""
    await desk.add_agent(name)
    console = await open_console(desk)
    await console.sign_in(name)
    await console.set_presence("available")
    customer = await tablets(desk)
    customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    await console.accept_and_watch()
    await asyncio.wait_for(customer.device.media_connected.wait(), 10)
    return console, customer


def mean_error(a: Pixels, b: Pixels) -> float:
    """How far two pictures are apart: the mean absolute difference per channel (0–255)."""
    return float(np.abs(a - b).mean())
