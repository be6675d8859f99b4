"""The ``mayday`` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _mayday(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mayday.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "MAYDAY_DATA_DIR": str(data_dir)},
        timeout=60,
        check=False,
    )


def test_agents_add_list_remove(tmp_path: Path) -> None:
    added = _mayday(
        tmp_path,
        "agents",
        "add",
        "alice",
        "--languages",
        "de,en",
        "--skills",
        "kindle",
        stdin="a-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "alice" in added.stdout
    listed = _mayday(tmp_path, "agents", "list")
    assert "alice" in listed.stdout
    assert "languages=de,en" in listed.stdout
    assert "skills=kindle" in listed.stdout
    again = _mayday(tmp_path, "agents", "add", "alice", stdin="a-long-password\n")
    assert again.returncode == 1
    assert "exists" in again.stderr
    short = _mayday(tmp_path, "agents", "add", "bob", stdin="short\n")
    assert short.returncode == 1
    assert "8 characters" in short.stderr
    assert _mayday(tmp_path, "agents", "remove", "alice").returncode == 0
    assert "alice" not in _mayday(tmp_path, "agents", "list").stdout
    assert _mayday(tmp_path, "agents", "remove", "alice").returncode == 1
