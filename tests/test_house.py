"""The house rule (``docs/architecture.md``), held against the code on every run.

Import Linter's contracts in ``pyproject.toml`` say who may import whom: ``signaling`` at the
bottom; ``server`` and ``device_agent`` side by side, never importing each other; ``sim`` and the
``mayday`` command above both; ``tests`` and ``bench`` above all; and no circles between the
modules of one package. The same check runs as ``lint-imports``.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout, result.stdout[-3000:]


def test_the_wheel_ships_every_package_and_the_browser_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", str(ROOT)),
            *("--no-deps", "--no-build-isolation", "--quiet", "--wheel-dir", str(tmp_path)),
        ],
        cwd=tmp_path,
        capture_output=True,
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("mayday-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {name.split("/")[0] for name in names if not name.startswith("mayday-")}
    assert tops == {"signaling", "server", "device_agent", "sim", "mayday", "agent_web"}
    console = {path.name for path in (ROOT / "agent_web").iterdir() if path.suffix != ".py"}
    assert {f"agent_web/{name}" for name in console} <= names
    vendor = {name for name in names if name.startswith("agent_web/vendor/")}
    assert vendor >= {
        "agent_web/vendor/socket.io.esm.min.js",  # the npm libraries the console loads
        "agent_web/vendor/rrweb.js",
        "agent_web/vendor/widget.js",  # the customer's web widget, built
    }
    assert "server/migrations/versions/0001_initial.py" in names
