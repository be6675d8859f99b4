"""What a computer says about itself (device_agent/facts.py), read from a /sys tree built here."""

from __future__ import annotations

from pathlib import Path

from device_agent.facts import host_facts


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_a_laptop_on_wifi_with_a_charging_battery(tmp_path: Path) -> None:
    sys = tmp_path / "sys"
    _write(sys / "power_supply" / "AC" / "type", "Mains")
    _write(sys / "power_supply" / "BAT0" / "type", "Battery")
    _write(sys / "power_supply" / "BAT0" / "capacity", "64")
    _write(sys / "power_supply" / "BAT0" / "status", "Charging")
    _write(sys / "net" / "lo" / "operstate", "unknown")
    _write(sys / "net" / "wlp2s0" / "operstate", "up")
    (sys / "net" / "wlp2s0" / "wireless").mkdir()
    _write(
        tmp_path / "os-release",
        'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    )

    facts = host_facts((1920, 1080), root=sys, os_release=tmp_path / "os-release")
    assert facts.model_dump(exclude_none=True) == {
        "os": "Debian GNU/Linux 12 (bookworm)",
        "screen_width": 1920,
        "screen_height": 1080,
        "battery_percent": 64,
        "charging": True,
        "network": "Wi-Fi",
    }


def test_a_desktop_on_a_cable_without_a_battery(tmp_path: Path) -> None:
    sys = tmp_path / "sys"
    _write(sys / "net" / "eno1" / "operstate", "up")
    (sys / "net" / "eno1" / "device").mkdir()
    _write(sys / "net" / "docker0" / "operstate", "up")  # virtual: no device link
    facts = host_facts((1280, 800), root=sys, os_release=tmp_path / "missing")
    assert (facts.battery_percent, facts.charging, facts.network) == (None, None, "Ethernet")
    assert facts.os  # from the platform module when /etc/os-release is not there


def test_nothing_readable_leaves_the_facts_out(tmp_path: Path) -> None:
    facts = host_facts((640, 480), root=tmp_path / "none", os_release=tmp_path / "none")
    assert (facts.battery_percent, facts.network) == (None, None)
    assert (facts.screen_width, facts.screen_height) == (640, 480)
