"""A simulated 1280×800 Android-style tablet, drawn with Pillow, with the customer's support UI.

The tablet has a status bar (clock, Wi-Fi, Bluetooth, battery), a home screen with apps
(Settings, Books, Mail, Browser, Photos, Account) and, drawn over everything, the customer's
own controls for the support session: the Help button, the queue card, the consent dialog, the
Stop control button and the rating card. What those controls show comes from a
:class:`CustomerView` the device sets with :meth:`SimulatedTablet.set_customer_view`; taps on
them are reported through the ``on_customer_action`` callback.

Security rule: only input with ``origin="customer"`` reaches the customer's controls. Agent input
that lands on any of them is swallowed (``inject`` returns ``False`` and nothing changes), and while
the consent dialog is up, agent input changes nothing at all. The dialog is modal for the customer
too, except that Stop control always works. Brightness dims the apps but not the customer's
controls, and never below 30 %, so the screen cannot be blacked out from afar.
``on_customer_action`` runs in the thread that called ``inject``, after the tablet's lock is
released, so it may call :meth:`SimulatedTablet.set_customer_view`.

Rendering is lazy: a frame is drawn only when the state or the clock's minute changed, and
:attr:`SimulatedTablet.revision` counts those changes so a streamer can skip static screens without
comparing pixels. :meth:`SimulatedTablet.capture` returns the cached frame as a **read-only**
array (no copy); callers that want to draw on it must copy it first. A warm render takes
5–20 ms; the first one in a process about 150 ms while sprites and the wallpaper are cached.

Text is drawn in DejaVu Sans Condensed, which has every letter of the customer's six languages;
without it (no ``fonts-dejavu-extra``), in Pillow's bundled font, composing accented letters from
the base letter and a drawn mark (``text``).

The package is split into small modules, each with one job: ``theme`` (geometry and colours),
``model`` (state types and app content), ``apps`` (the apps' state and its changes), ``text``
(the font and text drawing), ``art`` (masks, glyphs, icons, wallpaper, photos, covers), ``canvas``
(the drawing surface), ``widgets`` (hotspots and the overlay's controls), ``pages`` (one painter
per app, and the status bar), ``input`` (taps, drags, scrolls and keys on the apps), ``controls``
(the customer's controls, the End question, the rating card), ``chat`` (the chat's peek and open
history), ``keyboard`` (the on-screen keyboard and the line being typed) and ``screen``
(:class:`SimulatedTablet`, which ties them together).

The customer types chat lines and rating comments with the on-screen keyboard, or with a physical
keyboard through the preview page: while the chat is open (or the comment field), the *customer's*
keys and text go there instead of to the apps; the agent's keys always go to the apps and never
reach what the customer is typing.
"""

from __future__ import annotations

from ...customer import ChatLine, CustomerAction, CustomerActionCallback, CustomerView, Phase
from .model import DEVICES, TabletFields, TabletState
from .screen import SimulatedTablet

__all__ = [
    "DEVICES",
    "ChatLine",
    "CustomerAction",
    "CustomerActionCallback",
    "CustomerView",
    "Phase",
    "SimulatedTablet",
    "TabletFields",
    "TabletState",
]
