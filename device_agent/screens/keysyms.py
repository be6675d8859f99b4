"""Which X keysym a web key name or a typed character stands for: pure lookups, no X connection.

The X11 screen (:mod:`.x11`) turns these keysyms into keycodes of the current keymap; keeping the
lookups apart keeps that module about the X connection.
"""

from __future__ import annotations

from Xlib import XK, X

__all__ = ["NAMED_KEYS", "char_keysym", "key_keysym"]

NAMED_KEYS: dict[str, str] = {
    "Enter": "Return",
    "Backspace": "BackSpace",
    "Tab": "Tab",
    "Escape": "Escape",
    "ArrowLeft": "Left",
    "ArrowRight": "Right",
    "ArrowUp": "Up",
    "ArrowDown": "Down",
    "Home": "Home",
    "End": "End",
    "Delete": "Delete",
    "Insert": "Insert",
    "PageUp": "Prior",
    "PageDown": "Next",
    "Space": "space",
    **{f"F{n}": f"F{n}" for n in range(1, 13)},
}
"""Web ``KeyboardEvent.key`` names (what the agent's browser sends) → X keysym names.

Any other multi-letter name is tried as an X keysym name (``BackSpace``, ``KP_Enter``). The web
names are those of :data:`signaling.keys.NAMED_KEYS` plus ``Space``; they stay written out here
because each needs its keysym beside it; ``tests/test_keys.py`` checks that none is missing.
"""

_CONTROL_CHARACTERS = {"\n": "Return", "\r": "Return", "\t": "Tab", "\b": "BackSpace"}


def char_keysym(char: str) -> int:
    """The keysym for one character: Latin-1 keysyms equal the code point, others are 0x01000000+.

    Control characters with a key of their own (newline, tab, backspace) get that key; other
    unprintable characters get ``NoSymbol`` and are skipped.
    """
    if char in _CONTROL_CHARACTERS:
        return XK.string_to_keysym(_CONTROL_CHARACTERS[char])
    if not char.isprintable():
        return X.NoSymbol
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 | code


def key_keysym(name: str) -> int:
    """The keysym for a named key (``NoSymbol``, i.e. 0, when X knows no such name)."""
    return XK.string_to_keysym(NAMED_KEYS.get(name, name))
