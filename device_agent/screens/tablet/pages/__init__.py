"""The apps' screens, one module per app, each a painter with the same shape (:data:`Painter`).

A painter draws its app below the status bar and records what can be tapped (hotspots whose
actions are :class:`~..apps.Apps` methods) and what must not leave the device (sensitive
rectangles, such as the password field). :func:`paint_status_bar` is drawn over each page.
"""

from __future__ import annotations

from ..model import App
from .bars import Painter, paint_status_bar
from .books import paint_books
from .browser import paint_browser
from .home import paint_home
from .mail import paint_mail
from .photos import paint_photos
from .settings import paint_settings
from .signin import paint_signin

__all__ = ["PAGES", "Painter", "paint_status_bar"]

PAGES: dict[App, Painter] = {
    "home": paint_home,
    "settings": paint_settings,
    "books": paint_books,
    "mail": paint_mail,
    "browser": paint_browser,
    "photos": paint_photos,
    "signin": paint_signin,
}
"""Each app's painter, by :data:`~..model.App` name."""
