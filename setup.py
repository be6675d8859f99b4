"""Packaging hook: the wheel carries the npm libraries the console loads and the built widget.

Everything else is declared in ``pyproject.toml``. The libraries come from ``node_modules/``
(``npm ci``), the widget from ``customer_web/dist/`` (``npm run build``); both are copied into the
built ``agent_web/vendor/`` folder only, and the repository never holds a copy of them.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _browser_files() -> dict[str, Path]:
    """The server's own lists (``server/web_files.py``, standard library only), read from source:
    the npm libraries the console loads and the built widget, by the name they are served as."""
    spec = importlib.util.spec_from_file_location("_web_files", ROOT / "server" / "web_files.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    npm: dict[str, str] = module.NPM_FILES
    widget: dict[str, str] = module.WIDGET_FILES
    return {
        **{name: ROOT / "node_modules" / relative for name, relative in npm.items()},
        **{name: ROOT / relative for name, relative in widget.items()},
    }


class BuildWithBrowserLibraries(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # a checkout: the server serves them from node_modules/ itself
        vendor = Path(self.build_lib) / "agent_web" / "vendor"
        vendor.mkdir(parents=True, exist_ok=True)
        for name, source in _browser_files().items():
            if not source.is_file():
                raise SystemExit(
                    f"{source} is missing: run `npm ci && npm run build` before building the wheel"
                )
            shutil.copyfile(source, vendor / name)


setup(cmdclass={"build_py": BuildWithBrowserLibraries})
