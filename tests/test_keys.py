"""One table of named keys (``signaling/keys.py``), and every copy of it held against it.

The console is JavaScript and keeps its own copy; the preview page's script is built from the
table; the X11 screen maps each key to a keysym (``device_agent/screens/keysyms.py``). A key
added in one place and not the others would be sent but not understood, or understood but never
sent: these tests catch it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from device_agent.preview import NAMED_KEYS as PREVIEW_KEYS
from device_agent.preview import parse_input
from device_agent.preview.page import SCRIPT
from device_agent.screens.base import Key
from device_agent.screens.keysyms import NAMED_KEYS as X11_KEYSYMS
from signaling.keys import EDITING_KEYS, EXTRA_KEYS, NAMED_KEYS

ROOT = Path(__file__).resolve().parent.parent
CONTROL_JS = ROOT / "agent_web" / "control.js"


def _js_string_set(source: str, name: str) -> list[str]:
    """The string literals of ``const <name> = new Set([...]);``, refusing anything else in it."""
    match = re.search(rf"const {name} = new Set\(\[(.*?)\]\);", source, flags=re.S)
    assert match is not None, f"no `const {name} = new Set([...])` found"
    body = match.group(1)
    literals = re.findall(r'"([^"\\]*)"', body)
    rest = re.sub(r'"[^"\\]*"', "", body)
    assert re.fullmatch(r"[\s,]*", rest), f"{name} holds more than string literals: {rest!r}"
    return literals


def test_the_table_has_no_repeats() -> None:
    assert len(set(NAMED_KEYS)) == len(NAMED_KEYS)
    assert not set(EDITING_KEYS) & set(EXTRA_KEYS)


def test_the_console_copy_agrees_with_the_table() -> None:
    console = _js_string_set(CONTROL_JS.read_text(), "NAMED_KEYS")
    assert len(console) == len(set(console)), "a key is listed twice in control.js"
    assert set(console) == set(NAMED_KEYS), (
        "agent_web/control.js NAMED_KEYS differs from signaling/keys.py: "
        f"only in control.js {sorted(set(console) - set(NAMED_KEYS))}, "
        f"only in signaling {sorted(set(NAMED_KEYS) - set(console))}"
    )


def test_the_preview_page_sends_what_its_server_accepts() -> None:
    assert set(PREVIEW_KEYS) == set(EDITING_KEYS)
    page_keys = _js_string_set(SCRIPT, "NAMED")
    assert set(page_keys) == set(PREVIEW_KEYS)
    for key in EDITING_KEYS:
        assert parse_input(json.dumps({"type": "key", "key": key}), (100, 100)) == Key(key)


def test_the_x11_screen_knows_every_named_key() -> None:
    missing = sorted(set(NAMED_KEYS) - set(X11_KEYSYMS))
    assert not missing, f"device_agent/screens/keysyms.py NAMED_KEYS has no keysym for {missing}"
