"""The sessions export (§19, ``GET /api/reports/sessions``): real sessions, exported as CSV and
JSON by a supervisor; an agent is refused, a bad query is answered 400, and a text cell that a
spreadsheet would run as a formula is neutralised.

Real server, real Socket.IO clients, both live stores (``make_desk``).
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from .conftest import MEMORY_ONLY, Desk, DeskFactory

FORMULA_NAME = "=HYPERLINK(1)"
FORMULA_COMMENT = "@SUM(A1:A9) was great"


async def two_sessions(desk: Desk) -> tuple[str, str]:
    """One answered, ended, rated session and one help request cancelled before an answer."""
    device, alice, _, answered = await desk.session("alice")
    await alice.call("session.end", {"session_id": answered, "reason": "resolved"})
    await device.next("session.ended")
    rate = {"session_id": answered, "rating": 4, "comment": FORMULA_COMMENT, "solved": True}
    assert await device.call("session.rate", rate) == {"ok": True}
    await desk.add_agent("away-agent")  # nobody free: the next customer waits
    await alice.call("presence.set", {"status": "away"})
    other, _ = await desk.device(FORMULA_NAME)
    ticket = (await other.call("help.request", {"topic": "printer"}))["ticket"]
    assert await other.call("help.cancel", {"ticket_id": ticket["id"]}) == {"ok": True}
    return answered, ticket["id"]


async def fetch(desk: Desk, query: str, token: str) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with desk.http.get(f"{desk.url}/api/reports/sessions{query}", headers=headers) as reply:
        body: Any = (
            await reply.json() if reply.content_type == "application/json" else await reply.text()
        )
        return reply.status, dict(reply.headers), body


async def test_a_supervisor_exports_the_day_as_json_and_csv(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    answered, cancelled = await two_sessions(desk)
    await desk.add_agent("sue", role="supervisor")
    token = await desk.token("sue")

    status, _, report = await fetch(desk, "", token)
    assert status == 200, report
    assert report["from"] < time.time() < report["to"]
    by_id = {row["id"]: row for row in report["sessions"]}
    assert set(by_id) == {answered, cancelled}
    done = by_id[answered]
    assert done["agent_name"] == "alice"
    assert done["outcome"] == "resolved"
    assert (done["rating"], done["rating_comment"], done["solved"]) == (4, FORMULA_COMMENT, True)
    assert done["handle_s"] is not None
    assert done["wait_s"] is not None
    assert done["customer_kind"] == "device"
    assert done["transfers"] == 0
    assert done["previous_session_id"] is None
    assert done["next_session_id"] is None
    gave_up = by_id[cancelled]
    assert (gave_up["outcome"], gave_up["end_reason"], gave_up["ended_by"]) == (
        "abandoned",
        "cancelled",
        "device",
    )
    assert gave_up["accepted_at"] is None
    assert gave_up["customer_name"] == FORMULA_NAME
    figures = report["figures"]
    assert (figures["help_requests"], figures["answered"], figures["abandoned"]) == (2, 1, 1)
    assert figures["abandonment_rate"] == 0.5
    assert (figures["ratings"], figures["csat_mean"], figures["first_contact_resolution"]) == (
        1,
        4.0,
        1.0,
    )

    status, headers, text = await fetch(desk, "?format=csv", token)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"].startswith('attachment; filename="mayday-sessions-')
    assert headers["Content-Disposition"].endswith('.csv"')
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["id"] for row in rows] == [r["id"] for r in report["sessions"]]
    csv_by_id = {row["id"]: row for row in rows}
    assert csv_by_id[answered]["rating_comment"] == "'" + FORMULA_COMMENT
    assert csv_by_id[cancelled]["customer_name"] == "'" + FORMULA_NAME
    assert csv_by_id[cancelled]["accepted_at"] == ""
    assert csv_by_id[answered]["created_at"].endswith("Z")
    assert csv_by_id[answered]["solved"] == "true"

    # A window without these sessions is empty, and its ratios are null.
    status, _, empty = await fetch(desk, "?from=2001-01-01&to=2001-01-02", token)
    assert status == 200
    assert empty["sessions"] == []
    assert empty["figures"]["service_level"] is None


@MEMORY_ONLY
async def test_an_agent_may_not_export(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    await desk.add_agent("alice")
    status, _, body = await fetch(desk, "", await desk.token("alice"))
    assert status == 403
    assert body["error"]["code"] == "forbidden"


@MEMORY_ONLY
@pytest.mark.parametrize(
    "query",
    [
        "?format=xml",
        "?from=yesterday",
        "?from=2025-02-30",
        "?from=2025-01-02&to=2025-01-01",
        "?from=2024-01-01&to=2025-06-01",
        "?from=1e400",
        "?to=99999999999999999999",
        "?from=" + "1" * 41,
    ],
)
async def test_a_bad_query_is_answered_400(make_desk: DeskFactory, query: str) -> None:
    desk = await make_desk()
    await desk.add_agent("sue", role="supervisor")
    status, _, body = await fetch(desk, query, await desk.token("sue"))
    assert status == 400, body
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"]


@MEMORY_ONLY
@pytest.mark.parametrize(
    "query",
    [
        "?from=2025-01-01&to=2025-01-31",
        "?from=1735689600&to=1735776000.5",
        "?from=2025-01-01T08:00:00Z&to=2025-01-01T09:30:00%2B01:00",
    ],
)
async def test_dates_datetimes_and_epoch_seconds_are_windows(
    make_desk: DeskFactory, query: str
) -> None:
    desk = await make_desk()
    await desk.add_agent("sue", role="supervisor")
    status, _, body = await fetch(desk, query + "&format=json", await desk.token("sue"))
    assert status == 200, body
    assert body["to"] > body["from"]
