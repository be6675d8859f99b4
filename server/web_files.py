"""Where the browser files the server hosts are: the console (``agent_web``) and the npm libraries
it loads.

In a checkout they are the ``agent_web/`` folder and ``node_modules/`` (from ``npm ci``) beside the
Python packages. An installed wheel carries ``agent_web`` as package data, with the npm libraries
copied into ``agent_web/vendor/`` when the wheel was built (``setup.py``): none of them is ever
committed to the repository.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["NPM_FILES", "VENDOR", "WEB_ROOT"]

NPM_FILES = {
    # served name -> its path under node_modules/
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
}
"""Browser libraries from npm that the console loads, by the name it asks for."""


def _web_root() -> Path:
    spec = importlib.util.find_spec("agent_web")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).resolve().parent
    return Path(__file__).resolve().parent.parent / "agent_web"


def _vendor(web_root: Path) -> dict[str, Path]:
    """Each npm file from the wheel's ``vendor/`` folder if it is there, else from node_modules."""
    node_modules = web_root.parent / "node_modules"
    found = {}
    for name, relative in NPM_FILES.items():
        bundled = web_root / "vendor" / name
        found[name] = bundled if bundled.is_file() else node_modules / relative
    return found


WEB_ROOT = _web_root()
VENDOR = _vendor(WEB_ROOT)
