"""What a computer running the device agent says about itself, for the agent's Customer tab:
its system, screen, battery and network, each only when it can be read (Linux ``/sys`` and
``/etc/os-release``; elsewhere what :mod:`platform` knows).

Support agents ask these first ("which system are you on? are you on Wi-Fi?"); reading them
spares the customer the questions. Nothing private: no addresses, names or serial numbers.
"""

from __future__ import annotations

import platform
from pathlib import Path

from signaling.annotations import DeviceFacts

__all__ = ["host_facts"]

SYS = Path("/sys/class")


def host_facts(
    size: tuple[int, int], root: Path = SYS, os_release: Path = Path("/etc/os-release")
) -> DeviceFacts:
    """The facts of this computer; ``size`` is the shared screen's ``(width, height)``."""
    battery, charging = _battery(root / "power_supply")
    return DeviceFacts(
        os=_system(os_release),
        screen_width=size[0],
        screen_height=size[1],
        battery_percent=battery,
        charging=charging,
        network=_network(root / "net"),
    )


def _system(os_release: Path) -> str | None:
    try:
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')[:80] or None
    except OSError:
        pass
    name = f"{platform.system()} {platform.release()}".strip()
    return name[:80] or None


def _battery(power_supply: Path) -> tuple[int | None, bool | None]:
    """The first battery's charge and whether it charges; ``(None, None)`` without one."""
    try:
        supplies = sorted(power_supply.iterdir())
    except OSError:
        return None, None
    for supply in supplies:
        try:
            if (supply / "type").read_text().strip() != "Battery":
                continue
            level = max(0, min(100, int((supply / "capacity").read_text().strip())))
            status = (supply / "status").read_text().strip()
        except (OSError, ValueError):
            continue
        return level, status in ("Charging", "Full")
    return None, None


def _network(net: Path) -> str | None:
    """``Wi-Fi`` when a wireless interface is up, else ``Ethernet`` when a wired one is."""
    try:
        interfaces = sorted(net.iterdir())
    except OSError:
        return None
    up = []
    for interface in interfaces:
        try:
            state = (interface / "operstate").read_text().strip()
        except OSError:
            continue
        if interface.name != "lo" and state == "up":
            up.append(interface)
    if any((interface / "wireless").exists() for interface in up):
        return "Wi-Fi"
    if any((interface / "device").exists() for interface in up):
        return "Ethernet"  # a physical (not virtual) wired interface
    return None
