"""The customer's support controls as a small Tk window, for real desktops (the X11 source).

The simulated tablet draws these controls into its own picture; on a real X desktop nothing does,
so this window shows the same things: the Help button, the queue position and estimated wait,
"Connected to <agent>", the consent dialog (Allow / Deny), Pause / Resume sharing, a prominent
Stop control, End, and the 1–5 rating when the session is over. Every string comes from
:mod:`device_agent.i18n`, in the language of :attr:`CustomerView.locale`.

One module per job: :mod:`.window` (:class:`CustomerWindow`: the Tk thread, the queue, the
window's place and safety), :mod:`.content` (the labels and buttons for one view) and
:mod:`.style` (colours and fonts). ``tkinter`` is imported only when the window starts, so this
package imports on a Python built without ``_tkinter``.
"""

from __future__ import annotations

from .window import CustomerWindow

__all__ = ["CustomerWindow"]
