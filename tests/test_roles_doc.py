"""docs/protocol.md §19.2 names the role of every REST route and of every socket event a client
sends, exactly as the server enforces them (the OpenAPI operations' ``role`` and
``signaling.EVENT_ROLES``): an outsider reading the document knows what each account may do."""

from __future__ import annotations

import re
from pathlib import Path

from signaling import EVENT_ROLES, INBOUND
from signaling.openapi import OPERATIONS

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(title)
    end = text.index("\n### ", start + len(title))
    return text[start:end]


def _rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_route_has_its_role_in_the_document() -> None:
    documented = {}
    for cells in _rows(_section("### 19.2 Who may call what")):
        route = re.fullmatch(r"`(GET|POST|PATCH|DELETE|OPTIONS) (\S+)`", cells[0])
        if route is not None:
            documented[(route.group(1), route.group(2))] = cells[1]
    enforced = {(op.method.upper(), op.path): op.needs or "open" for op in OPERATIONS}
    assert documented == enforced


def test_every_client_event_has_its_role_in_the_document() -> None:
    documented: dict[tuple[str, str], str] = {}
    for cells in _rows(_section("### 19.2 Who may call what")):
        if len(cells) != 4 or cells[1] not in ("device", "agent"):
            continue
        for name in re.findall(r"`([a-z.]+)`", cells[0]):
            documented[(cells[1], name)] = cells[2]
    enforced = {("device", event.value): "-" for event in INBOUND["device"]} | {
        ("agent", event.value): EVENT_ROLES.get(event, "agent") for event in INBOUND["agent"]
    }
    assert documented == enforced
