"""Packaging hook: the wheel carries the npm libraries the console loads.

Everything else is declared in ``pyproject.toml``. The libraries come from ``node_modules/``
(``npm ci``) and are copied into the built ``agent_web/vendor/`` folder only; the repository never
holds a copy of them.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _npm_files() -> dict[str, str]:
    """The server's own list (``server/web_files.py``, standard library only), read from source."""
    spec = importlib.util.spec_from_file_location("_web_files", ROOT / "server" / "web_files.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files: dict[str, str] = module.NPM_FILES
    return files


class BuildWithBrowserLibraries(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # a checkout: the server serves them from node_modules/ itself
        vendor = Path(self.build_lib) / "agent_web" / "vendor"
        vendor.mkdir(parents=True, exist_ok=True)
        for name, relative in _npm_files().items():
            source = ROOT / "node_modules" / relative
            if not source.is_file():
                raise SystemExit(f"{source} is missing: run `npm ci` before building the wheel")
            shutil.copyfile(source, vendor / name)


setup(cmdclass={"build_py": BuildWithBrowserLibraries})
