"""Hover details for matplotlib figures inlined in HTML: matplotlib's SVG-tooltip recipe.

An artist gets a ``gid``; the figure is saved to SVG; the element with that id gets a ``<title>``
child, which browsers show as a native tooltip, no script needed. For a collection (hundreds of
bars or marks drawn as one artist, far cheaper than one artist each) every drawn item gets its
own ``<title>``, in the order matplotlib draws them, and only when the count matches.

The SVG is also made fit for a page of several charts: ids in use are prefixed per chart (so they
stay unique), unused ids, metadata and matplotlib's page-wide ``<style>`` are dropped, text takes
the page's font, and the fixed size goes (the ``viewBox`` stays, so CSS scales the chart).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection as Keys
from collections.abc import Sequence

from matplotlib.artist import Artist
from matplotlib.collections import Collection
from matplotlib.figure import Figure

__all__ = ["Tips"]

_SVG, _XLINK = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
_REF = re.compile(r"url\(#([^)]+)\)")
_FONT_FAMILY = re.compile(r"font-family:[^;]*;?\s*")


class Tips:
    """Hover texts for one figure's artists, each given a gid (``key-kind-n``) here and its
    ``<title>`` by :meth:`svg`."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.one: dict[str, str] = {}
        self.each: dict[str, list[str]] = {}
        self.targets: set[str] = set()

    def _gid(self, artist: Artist, kind: str) -> str:
        gid = f"{self.key}-{kind}-{len(self.one) + len(self.each)}"
        artist.set_gid(gid)
        return gid

    def add(self, artist: Artist, kind: str, text: str) -> None:
        self.one[self._gid(artist, kind)] = text

    def per_item(
        self, collection: Collection, kind: str, texts: Sequence[str], *, target: bool = False
    ) -> None:
        """One text per drawn item; ``target``: the items are invisible hover areas."""
        gid = self._gid(collection, kind)
        self.each[gid] = list(texts)
        if target:
            self.targets.add(gid)

    def svg(self, fig: Figure, label: str, css_class: str = "") -> str:
        """The figure as an inline ``<svg>`` (no size, so CSS scales it) with the tooltips."""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        root = ET.fromstring(buffer.getvalue())  # noqa: S314 (matplotlib's own output)
        _tidy(root, self.key, keep=self.one.keys() | self.each.keys())
        by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
        for gid, text in self.one.items():
            if gid in by_id:
                _title(by_id[gid], text)
        for gid, texts in self.each.items():
            group = by_id.get(gid)
            items = _items(group, len(texts)) if group is not None else []
            if group is None or len(items) != len(texts):
                continue  # never a tooltip on the wrong item
            for item, text in zip(items, texts, strict=True):
                _title(item, text)
            if gid in self.targets:
                group.set("pointer-events", "all")  # hover over unpainted areas
        for name in ("width", "height", "version"):
            root.attrib.pop(name, None)
        root.set("role", "img")
        root.set("aria-label", label)
        if css_class:
            root.set("class", css_class)
        return ET.tostring(root, encoding="unicode")


def _items(group: ET.Element, count: int) -> list[ET.Element]:
    """The drawn items of a collection's group: its children but ``<defs>``, or those of its
    only child (markers of one style are drawn inside one clipping ``<g>``)."""
    items = [child for child in group if child.tag != "defs"]
    while len(items) == 1 and count > 1 and items[0].tag == "g":
        items = [child for child in items[0] if child.tag != "defs"]
    return items


def _title(element: ET.Element, text: str) -> None:
    title = ET.Element("title")
    title.text = text
    element.insert(0, title)


def _tidy(root: ET.Element, key: str, keep: Keys[str]) -> None:
    """Plain tag names (HTML needs no namespaces; SVG 2 ``href``), no metadata, no global
    ``<style>``, no unused ids or layout whitespace; the ids in use prefixed by ``key`` so that
    they stay unique in a page of several charts."""
    used: set[str] = set()
    for el in root.iter():
        el.tag = el.tag.rpartition("}")[2]
        href = el.attrib.pop(f"{{{_XLINK}}}href", None)
        if href is not None:
            el.set("href", href)
            used.add(href.lstrip("#"))
        for value in el.attrib.values():
            used.update(_REF.findall(value))
    for parent in [root, *root.iter("defs")]:
        for child in list(parent):
            if child.tag in ("metadata", "style"):
                parent.remove(child)
    for child in list(root):
        if child.tag == "defs" and not len(child):
            root.remove(child)  # it held only the <style>
    for el in root.iter():
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
        if "d" in el.attrib:
            el.set("d", " ".join(el.attrib["d"].split()))
        if el.tag == "text":
            el.set("style", _FONT_FAMILY.sub("", el.get("style", "")))  # the page's font
            if el.get("transform", "").startswith("rotate(-0 "):
                del el.attrib["transform"]
        if el.get("href", "").startswith("#"):
            el.set("href", f"#{key}-{el.attrib['href'][1:]}")
        for name, value in list(el.attrib.items()):
            if "url(#" in value:
                el.set(name, _REF.sub(lambda m: f"url(#{key}-{m.group(1)})", value))
        ident = el.get("id")
        if ident is not None and ident not in keep:
            if ident in used:
                el.set("id", f"{key}-{ident}")
            else:
                del el.attrib["id"]
    root.set("id", key)
    root.set("xmlns", _SVG)
