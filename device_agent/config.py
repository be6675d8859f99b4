"""The device's credentials, kept in a local file between runs.

The first run registers with the server (``POST /api/devices``) and writes the id and secret here,
readable by the owner only; later runs reuse them, so the server knows the device again (its
sessions, its resume after a restart). Pointing the device at another server registers anew.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

__all__ = ["DeviceCredentials", "default_config_path", "load_or_register"]


@dataclass(frozen=True)
class DeviceCredentials:
    server: str
    device_id: str
    device_secret: str
    name: str


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mayday" / "device.json"


def _load(path: Path) -> DeviceCredentials | None:
    try:
        data = json.loads(path.read_text())
        return DeviceCredentials(
            **{k: str(data[k]) for k in ("server", "device_id", "device_secret", "name")}
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(path: Path, credentials: DeviceCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(credentials), file, indent=2)
    temporary.replace(path)


async def load_or_register(
    server: str, path: Path, *, name: str, enrollment_key: str | None = None
) -> DeviceCredentials:
    server = server.rstrip("/")
    known = _load(path)
    if known is not None and known.server == server:
        return known
    body: dict[str, str] = {"name": name}
    if enrollment_key:
        body["enrollment_key"] = enrollment_key
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server}/api/devices", json=body) as response,
    ):
        answer = await response.json(content_type=None)
        if response.status != 201:
            message = (
                answer.get("error", {}).get("message", response.reason)
                if isinstance(answer, dict)
                else response.reason
            )
            raise SystemExit(f"could not register with {server}: {message}")
    credentials = DeviceCredentials(server, answer["device_id"], answer["device_secret"], name)
    _save(path, credentials)
    return credentials
