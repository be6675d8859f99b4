"""The named keys a person's keyboard may send to a device: the one table of them.

A ``key`` input (``KeyInput`` in :mod:`signaling.models`, ``{"type": "key"}`` on the device's
preview page) names one key by its web ``KeyboardEvent.key`` value; a printable character goes
as ``text`` instead. The wire itself accepts any short name (an X desktop also knows its own
keysym names), so this table does not validate messages: it says which keys the clients send as
named keys rather than letting the browser keep them.

Who reads it:

* the device's preview page (``device_agent.preview``) builds its JavaScript from
  :data:`EDITING_KEYS` when the page is generated, and accepts only those;
* the agent's console (``agent_web/control.js``) cannot import Python and keeps a copy of
  :data:`NAMED_KEYS`; ``tests/test_keys.py`` checks that the copy agrees with this table;
* the X11 screen maps each of them to an X keysym (``device_agent.screens.keysyms``); the same
  test checks that none is missing there.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EDITING_KEYS", "EXTRA_KEYS", "NAMED_KEYS"]

# agent_web/control.js repeats these and EXTRA_KEYS (JavaScript cannot import this table);
# tests/test_keys.py holds that copy to this one.
EDITING_KEYS: Final[tuple[str, ...]] = (
    "Enter",
    "Backspace",
    "Tab",
    "Escape",
    "ArrowLeft",
    "ArrowRight",
    "ArrowUp",
    "ArrowDown",
    "Home",
    "End",
    "Delete",
)
"""Keys to fill in a form and move through text: what the console and the preview page send."""

EXTRA_KEYS: Final[tuple[str, ...]] = (
    "PageUp",
    "PageDown",
    "Insert",
    *(f"F{n}" for n in range(1, 13)),
)
"""Keys only the agent's console sends. The preview page leaves them to the browser (F5 reloads
it, F12 opens the developer tools): the person at it acts as the customer of a simulated tablet,
whose apps know none of them."""

NAMED_KEYS: Final[tuple[str, ...]] = EDITING_KEYS + EXTRA_KEYS
"""Every named key the agent's console sends in ``control.input``."""
