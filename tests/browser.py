"""Debian's Chromium as the tests and benchmarks launch it through Playwright.

Playwright's own browser download cannot work on these machines, so every launch uses the system
binary with these flags: no sandbox or GPU in containers, nothing phoning home, media autoplay and
fake camera and microphone without prompts, and real local ICE addresses instead of mDNS names.
"""

from __future__ import annotations

import shutil

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "require_chromium"]

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


def require_chromium() -> None:
    """Fail, not skip: ``make test`` installs Debian's chromium, and a silent skip would leave a
    browser flow unchecked."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium` "
            "(`make system-deps`): the test drives a real browser.",
            pytrace=False,
        )
