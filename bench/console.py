"""Benchmark: help press → first frame on the agent's screen, the browser console vs the Python agent.

Run: ``.venv/bin/python bench/console.py [--runs 20]``

A real ``mayday server`` process, a real :class:`DeviceAgent` with a :class:`SimulatedTablet` in
this process. Each run registers a new device, presses help and lets the agent accept the ring at
once; the clock stops at the first video frame the agent has:

* browser: the console (agent_web/) in Chromium, accepting through its own Accept button the
  moment the ring card appears (a MutationObserver clicks it); the first frame is the first
  ``requestVideoFrameCallback`` of its <video>, i.e. a frame handed to the compositor;
* Python: :class:`sim.HeadlessAgent`, the reference agent; its first frame is the first
  frame aiortc decoded.

Both are timed from the help press, on the same wall clock (the page reports
``performance.timeOrigin + presentationTime``). The device ends each session, and a first
warm-up run of each is not counted. Prints median and p95 of both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from playwright.async_api import Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import PASSWORD, running_server
from bench._stats import percentile, ratios
from device_agent import DeviceAgent
from device_agent.screens.tablet import SimulatedTablet
from server.logs import configure_logging
from sim import HeadlessAgent
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.devices import registered_device
from tests.support import login

AGENT = "bench-agent"

# Accept every ring the moment its card shows, and resolve the next first frame of the <video>.
ARM_PAGE = """() => {
    const card = document.querySelector('#ring');
    if (!window.__benchAccept) {
        window.__benchAccept = new MutationObserver(() => {
            if (!card.hidden) document.querySelector('.ring-accept').click();
        });
        window.__benchAccept.observe(card, {attributes: true, attributeFilter: ['hidden']});
    }
    const video = document.querySelector('#screen');
    window.__benchFrame = new Promise((resolve) => {
        video.requestVideoFrameCallback((now, meta) =>
            resolve(performance.timeOrigin + (meta.presentationTime ?? now)));
    });
}"""


def row(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return f"{name:<44} {statistics.median(ms):>9.1f} {percentile(ms, 95):>9.1f} {len(ms):>5}"


@dataclass
class Devices:
    """A fresh registered device per run, on a tablet that has already drawn its first screen."""

    url: str
    http: aiohttp.ClientSession

    async def start(self) -> DeviceAgent:
        tablet = SimulatedTablet()
        tablet.capture()  # the first render is the tablet's cost, not the agent's
        device = await registered_device(self.http, self.url, tablet, name="bench tablet")
        await device.start()
        return device


async def run_many(runs: int, one: Callable[[], Awaitable[float]], label: str) -> list[float]:
    await one()  # warm-up, not counted
    results = []
    for index in range(runs):
        results.append(await one())
        print(f"  {label} {index + 1:>2}/{runs}: {results[-1] * 1000:7.1f} ms", file=sys.stderr)
    return results


async def browser_runs(url: str, devices: Devices, runs: int) -> list[float]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page: Page = await browser.new_page(viewport={"width": 1366, "height": 768})
        await page.goto(url)
        await page.fill("#signin-name", AGENT)
        await page.fill("#signin-password", PASSWORD)
        await page.click("#signin-submit")
        await page.wait_for_selector('#conn[data-state="connected"]')
        await page.click('#presence button[data-status="available"]')
        await page.wait_for_selector('#presence[data-status="available"]')

        async def one() -> float:
            device = await devices.start()
            await page.evaluate(ARM_PAGE)
            pressed = time.time()
            await device.request_help()
            shown_ms: float = await page.evaluate("() => window.__benchFrame")
            await device.end_session()
            await asyncio.wait_for(device.ended.wait(), 10)
            await device.close()
            await page.wait_for_selector("#wrapup:not([hidden])")
            await page.click(".wrapup-done")  # back to the queue: the wrap-up holds rings back
            await page.wait_for_selector("#idle:not([hidden])")
            return shown_ms / 1000 - pressed

        try:
            return await run_many(runs, one, "browser")
        finally:
            await browser.close()


async def python_runs(url: str, devices: Devices, runs: int) -> list[float]:
    token = (await login(devices.http, url, AGENT, PASSWORD))["token"]
    agent = HeadlessAgent(url, token)
    await agent.start()

    async def one() -> float:
        device = await devices.start()
        pressed = time.perf_counter()
        await device.request_help()
        ring = await agent.next_ring()
        await agent.accept(ring["ring_id"])
        decoded, _ = await agent.wait_first_frame(timeout=20)
        await device.end_session()
        await asyncio.wait_for(device.ended.wait(), 10)
        await device.close()
        await asyncio.wait_for(agent.ended.get(), 10)
        return decoded - pressed

    try:
        return await run_many(runs, one, "python")
    finally:
        await agent.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    configure_logging(level="warning")

    with running_server([AGENT]) as url:
        async with aiohttp.ClientSession() as http:
            devices = Devices(url, http)
            browser = await browser_runs(url, devices, args.runs)
            python = await python_runs(url, devices, args.runs)

    print(f"{'help press -> first frame (ms)':<44} {'median':>9} {'p95':>9} {'n':>5}")
    print(row("browser console (Chromium, frame presented)", browser))
    print(row("Python agent (HeadlessAgent, frame decoded)", python))
    print(f"browser / Python agent: {ratios(browser, python)}")


if __name__ == "__main__":
    asyncio.run(main())
