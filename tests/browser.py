"""Debian's Chromium as the tests and benchmarks launch it through Playwright.

Playwright's own browser download cannot work on these machines, so every launch uses the system
binary with these flags: no sandbox or GPU in containers, nothing phoning home, media autoplay and
fake camera and microphone without prompts, and real local ICE addresses instead of mDNS names.
"""

from __future__ import annotations

__all__ = ["CHROMIUM", "CHROMIUM_ARGS"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
