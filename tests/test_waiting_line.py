"""The waiting line routing reads (``server/live/line.py``): the queue in order, the same by
language and topic, and the customers kept for a colleague; each change moves a customer between
groups, and reading a few groups in line visits only their customers."""

from __future__ import annotations

from server.live.line import WaitingLine, line_key
from server.live.records import LiveSession, SessionState


def customer(
    session_id: str,
    score: float,
    *,
    locale: str = "en",
    topic: str = "billing",
    state: SessionState = SessionState.QUEUED,
    kept_for: str | None = None,
) -> LiveSession:
    return LiveSession(
        id=session_id,
        device_id=f"dev-{session_id}",
        device_name="tablet",
        topic=topic,
        locale=locale,
        state=state,
        created_at=score,
        queue_score=score,
        reserved_for=kept_for,
    )


def ids(sessions: object) -> list[str]:
    return [s.id for s in sessions]  # type: ignore[attr-defined]


def test_the_line_is_in_queue_order_and_grouped_by_language_and_topic() -> None:
    line = WaitingLine.of(
        [
            customer("de-2", 4.0, locale="de"),
            customer("en-1", 1.0),
            customer("de-1", 2.0, locale="de"),
            customer("en-net", 3.0, topic="network"),
        ]
    )
    assert ids(line.sessions()) == ["en-1", "de-1", "en-net", "de-2"]
    assert ids(line.sessions(2)) == ["en-1", "de-1"]
    assert line.position("en-net") == 3
    assert sorted(ids(line.heads())) == ["de-1", "en-1", "en-net"]
    assert ids(line.in_line([("de", "billing")])) == ["de-1", "de-2"]
    assert ids(line.in_line([("de", "billing"), ("en", "network")])) == ["de-1", "en-net", "de-2"]
    assert ids(line.in_line([("fr", "billing")])) == []


def test_a_change_moves_the_customer_and_leaving_the_queue_removes_them() -> None:
    line = WaitingLine.of([customer("a", 1.0), customer("b", 2.0)])
    line.put("a", customer("a", 1.0, locale="fr"))  # the same customer, now in French
    assert ids(line.in_line([("en", "billing")])) == ["b"]
    assert ids(line.in_line([("fr", "billing")])) == ["a"]
    line.put("a", customer("a", 1.0, locale="fr", state=SessionState.CONNECTING))  # accepted
    assert ids(line.sessions()) == ["b"]
    assert line.position("a") is None
    assert [line_key(s) for s in line.heads()] == [("en", "billing")]
    line.put("b", None)  # forgotten
    assert len(line) == 0
    assert list(line.heads()) == []


def test_customers_kept_for_a_colleague_come_along_once_whatever_the_groups() -> None:
    line = WaitingLine.of(
        [
            customer("a", 1.0),
            customer("kept", 2.0, locale="de", kept_for="agt-1"),
            customer("c", 3.0),
        ]
    )
    assert ids(line.in_line([])) == ["kept"]
    assert ids(line.in_line([("en", "billing")])) == ["a", "kept", "c"]
    assert ids(line.in_line([("de", "billing"), ("en", "billing")])) == ["a", "kept", "c"]
    line.put("kept", customer("kept", 2.0, locale="de"))  # the reservation is over
    assert ids(line.in_line([])) == []
