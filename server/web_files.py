"""Where the browser files the server hosts are: the console (``agent_web``), the npm libraries
it loads, and the customer's web widget (``customer_web``, bundled by ``npm run build``).

In a checkout they are the ``agent_web/`` folder, ``node_modules/`` (from ``npm ci``) and
``customer_web/dist/`` (from ``npm run build``) beside the Python packages. An installed wheel
carries ``agent_web`` as package data, with the npm libraries and the built widget copied into
``agent_web/vendor/`` when the wheel was built (``setup.py``): none of them is ever committed to
the repository.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["NPM_FILES", "VENDOR", "WEB_ROOT", "WIDGET", "WIDGET_FILES"]

NPM_FILES = {
    # served name -> its path under node_modules/
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
    # The co-browsing replay (agent_web/replay.js): rrweb's ES module build and its player CSS.
    "rrweb.js": "rrweb/dist/rrweb.js",
    "rrweb.css": "rrweb/dist/style.css",
    # The supervisors' wallboard (agent_web/wallboard.js): uPlot's ES module build and its CSS.
    "uPlot.esm.js": "uplot/dist/uPlot.esm.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
}
"""Browser libraries from npm that the console loads, by the name it asks for."""

WIDGET_FILES = {
    # served name -> its path in a checkout, after `npm run build`
    "widget.js": "customer_web/dist/widget.js",
    "widget.js.map": "customer_web/dist/widget.js.map",
}
"""The customer's web widget (one bundled script and its source map), served from the site root."""


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


def _widget(web_root: Path) -> dict[str, Path]:
    """Each widget file from the wheel's ``vendor/`` folder if it is there, else from the build."""
    found = {}
    for name, relative in WIDGET_FILES.items():
        bundled = web_root / "vendor" / name
        found[name] = bundled if bundled.is_file() else web_root.parent / relative
    return found


WEB_ROOT = _web_root()
VENDOR = _vendor(WEB_ROOT)
WIDGET = _widget(WEB_ROOT)
