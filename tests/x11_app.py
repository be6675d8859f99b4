"""A tiny real X program for tests/test_x11.py, run as ``python tests/x11_app.py`` under Xvfb.

The tests drive it only through the X server (XTest input, screen capture), so it stands in for
any application a support agent would click in. Its layout is fixed, so the tests know where
its widgets are without asking it; every change of its state is printed as one JSON line on
stdout, so the tests can see what the input did.

Layout (root pixels; the window sits at +100+100 and no window manager moves it):

* a Toggle button at (120, 120)–(280, 170): flips ``toggled`` and the pad's colour;
* an Entry at (120, 190)–(480, 230): its text is ``text``;
* a pad at (120, 250)–(480, 400), red when off and green when on, which counts button presses
  by button number (4/5 wheel up/down; Tk 8.6 turns the horizontal wheel buttons 6/7 into
  "4+shift"/"5+shift"), releases of button 1, and pointer motions while button 1 is held
  (a drag).
"""

from __future__ import annotations

import json
import sys
import tkinter as tk
from typing import Any

WINDOW_X, WINDOW_Y = 100, 100
OFF_COLOUR = "#c82828"
ON_COLOUR = "#28a03c"
SHIFT_MASK = 0x1


def main() -> None:
    root = tk.Tk(className="MaydayProbe")
    root.title("probe")
    root.geometry(f"400x320+{WINDOW_X}+{WINDOW_Y}")
    root.configure(background="#ffffff")
    state: dict[str, Any] = {
        "toggled": False,
        "text": "",
        "presses": {},
        "releases": {},
        "drag_motions": 0,
    }

    def emit() -> None:
        sys.stdout.write(json.dumps(state) + "\n")
        sys.stdout.flush()

    pad = tk.Frame(root, background=OFF_COLOUR)

    def toggle() -> None:
        state["toggled"] = not state["toggled"]
        pad.configure(background=ON_COLOUR if state["toggled"] else OFF_COLOUR)
        emit()

    button = tk.Button(root, text="Toggle", command=toggle)
    button.place(x=20, y=20, width=160, height=50)

    text = tk.StringVar(root)
    # No blinking cursor: the tests expect a still picture when nothing happens.
    entry = tk.Entry(root, textvariable=text, insertofftime=0)
    entry.place(x=20, y=90, width=360, height=40)

    def text_changed(*_: object) -> None:
        state["text"] = text.get()
        emit()

    text.trace_add("write", text_changed)

    def pressed(event: Any) -> None:
        # Tk 8.6 reports wheel buttons 6/7 (horizontal) as 4/5 with Shift held: "4+shift".
        key = f"{event.num}+shift" if int(event.state) & SHIFT_MASK else str(event.num)
        state["presses"][key] = state["presses"].get(key, 0) + 1
        emit()

    def released(event: Any) -> None:
        key = str(event.num)
        state["releases"][key] = state["releases"].get(key, 0) + 1
        emit()

    def dragged(_event: Any) -> None:
        state["drag_motions"] += 1
        emit()

    pad.place(x=20, y=150, width=360, height=150)
    pad.bind("<ButtonPress>", pressed)
    pad.bind("<ButtonRelease-1>", released)
    pad.bind("<B1-Motion>", dragged)

    def ready() -> None:
        entry.focus_force()
        state["ready"] = True
        emit()

    root.after(100, ready)
    root.mainloop()


if __name__ == "__main__":
    main()
