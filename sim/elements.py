"""Every element name the simulated tablet can show, for checking scenarios before they run.

The names are found by visiting the tablet's screens (every app, Bluetooth and Wi-Fi on and off,
signed in, every customer control), not written down here, so a scenario is checked against the
tablet as it is. The tablet is imported on first use: listing the steps or printing the schema
does not need it.
"""

from __future__ import annotations

from functools import lru_cache

from .source import suggest

__all__ = ["element_catalogue", "unknown_element"]


@lru_cache(maxsize=1)
def element_catalogue() -> frozenset[str]:
    """Every element name the simulated tablet can show, found by visiting its screens."""
    from device_agent.customer import CallbackPrompt, CustomerView
    from device_agent.screens.base import Text
    from device_agent.screens.tablet import DEVICES, SimulatedTablet

    names: set[str] = set()
    apps = ("settings", "books", "mail", "browser", "photos", "signin")
    for bluetooth in (False, True):
        for wifi in (True, False):
            tablet = SimulatedTablet(bluetooth=bluetooth, wifi=wifi)
            names.update(tablet.elements())
            for app in apps:
                tablet.tap(f"app.{app}", origin="customer")
                names.update(tablet.elements())
                tablet.tap("back", origin="customer")
    tablet = SimulatedTablet()
    for app, first in (("books", "books.book."), ("photos", "photos.photo.")):
        tablet.tap(f"app.{app}", origin="customer")
        target = sorted(n for n in tablet.elements() if n.startswith(first))[0]
        tablet.tap(target, origin="customer")
        names.update(tablet.elements())
        tablet.tap("back", origin="customer")
        tablet.tap("back", origin="customer")
    tablet.tap("app.signin", origin="customer")
    tablet.tap("signin.email", origin="customer")
    tablet.inject(Text("qa@example.com"), origin="customer")
    tablet.tap("signin.password", origin="customer")
    tablet.inject(Text("secret"), origin="customer")
    tablet.tap("signin.submit", origin="customer")
    names.update(tablet.elements())
    for view in (
        CustomerView(phase="queued"),
        CustomerView(phase="queued", callback_offered=True),
        CustomerView(phase="queued", callback=True, callback_ring=CallbackPrompt("Ada", 30)),
        CustomerView(phase="connecting"),
        CustomerView(phase="connected", consent_requested=True),
        CustomerView(phase="connected", control_active=True),
        CustomerView(phase="connected", sharing_paused=True),
        CustomerView(phase="connected", control_active=True, sharing_paused=True),
        CustomerView(phase="ended", rating_requested=True),
        CustomerView(phase="ended", rating_requested=True, rating=3),  # then: solved Yes / No
    ):
        tablet = SimulatedTablet()
        tablet.set_customer_view(view)
        names.update(tablet.elements())
    for device in DEVICES:
        names.update((f"bluetooth.device.{device.slug}", f"bluetooth.pair.{device.slug}"))
    return frozenset(names)


def unknown_element(name: str) -> str | None:
    """Why ``name`` is not an element of the tablet (with the closest and its family), if not."""
    known = element_catalogue()
    if name in known:
        return None
    prefix = name.split(".")[0]
    family = sorted(n for n in known if n.split(".")[0] == prefix)
    listing = f"; elements starting '{prefix}.': {', '.join(family)}" if family else ""
    return f"the tablet has no element '{name}'{suggest(name, known)}{listing}"
