"""The desk's figures (server/figures.py), each definition on hand-made sessions: no server."""

from __future__ import annotations

import time

import pytest

from server.figures import (
    SessionFacts,
    figures,
    hourly_figures,
    local_midnight,
    merge_live,
    outcome,
)
from server.live.records import LiveSession, SessionState
from signaling.models import Figures

T0 = 1_765_000_000.0
SL = 15.0
NOW = T0 + 1000


def leg(session_id: str, created: float, **fields: object) -> SessionFacts:
    return SessionFacts(id=session_id, created_at=T0 + created, **fields)  # type: ignore[arg-type]


def window(
    *legs: SessionFacts, now: float = NOW, start: float = T0, end: float = T0 + 3600
) -> Figures:
    return figures(legs, start, end, now=now, service_level_s=SL)


def test_an_empty_window_has_counts_of_zero_and_no_ratios() -> None:
    empty = window()
    assert (empty.help_requests, empty.answered, empty.abandoned, empty.ratings) == (0, 0, 0, 0)
    assert empty.service_level is None
    assert empty.average_speed_of_answer_s is None
    assert empty.abandonment_rate is None
    assert empty.average_handle_time_s is None
    assert empty.csat_mean is None
    assert empty.csat_share_4_5 is None
    assert empty.first_contact_resolution is None


def test_answered_in_time_and_late_make_the_service_level_and_the_speed_of_answer() -> None:
    fast = leg("a", 0, accepted_at=T0 + 10, ended_at=T0 + 70)
    exactly = leg("b", 100, accepted_at=T0 + 115, ended_at=T0 + 135)
    slow = leg("c", 200, accepted_at=T0 + 260, ended_at=T0 + 300)
    got = window(fast, exactly, slow)
    assert (got.help_requests, got.answered, got.answered_in_time) == (3, 3, 2)
    assert got.service_level == pytest.approx(2 / 3)
    assert got.average_speed_of_answer_s == pytest.approx((10 + 15 + 60) / 3, abs=1e-3)
    assert got.average_handle_time_s == pytest.approx((60 + 20 + 40) / 3, abs=1e-3)


def test_abandoned_requests_count_against_the_service_level() -> None:
    answered = leg("a", 0, accepted_at=T0 + 5, ended_at=T0 + 50)
    cancelled = leg("b", 10, ended_at=T0 + 12, end_reason="cancelled", ended_by="device")
    lost = leg("c", 20, ended_at=T0 + 60, end_reason="peer_lost", ended_by="system")
    got = window(answered, cancelled, lost)
    assert (got.help_requests, got.answered, got.abandoned) == (3, 1, 2)
    assert got.abandonment_rate == pytest.approx(2 / 3)
    assert got.service_level == pytest.approx(1 / 3)
    assert got.average_handle_time_s == pytest.approx(45)
    assert [outcome(x) for x in (cancelled, lost)] == ["abandoned", "abandoned"]


def test_a_customer_waiting_past_the_service_level_counts_as_not_in_time() -> None:
    answered = leg("a", 0, accepted_at=T0 + 5)
    waiting_long = leg("b", 100)
    waiting_short = leg("c", 990)
    got = window(answered, waiting_long, waiting_short, now=T0 + 1000)
    assert (got.help_requests, got.answered, got.abandoned) == (3, 1, 0)
    assert got.service_level == pytest.approx(1 / 2), "the one waiting 10 s is not decided yet"
    assert got.abandonment_rate == pytest.approx(0.0)
    assert got.average_handle_time_s is None, "nothing answered has ended"
    assert outcome(waiting_long) == "waiting"
    assert outcome(answered) == "in_session"


def test_requeues_and_transfers_are_not_new_help_requests_but_each_leg_has_its_handle_time() -> (
    None
):
    first = leg(
        "a", 0, accepted_at=T0 + 4, ended_at=T0 + 64, end_reason="transferred", agent_id="x"
    )
    second = leg(
        "b",
        64,
        accepted_at=T0 + 100,
        ended_at=T0 + 200,
        end_reason="agent_lost",
        previous_session_id="a",
    )
    third = leg(
        "c", 200, accepted_at=T0 + 201, ended_at=T0 + 221, previous_session_id="b", rating=5
    )
    got = window(first, second, third)
    assert (got.help_requests, got.answered, got.answered_in_time) == (1, 1, 1)
    assert got.average_speed_of_answer_s == pytest.approx(4)
    assert got.average_handle_time_s == pytest.approx((60 + 100 + 20) / 3, abs=1e-3)
    assert [outcome(x) for x in (first, second, third)] == ["transferred", "requeued", "ended"]
    # A continuation whose customer never got an agent again is no abandoned request either.
    gave_up = leg("d", 300, ended_at=T0 + 330, previous_session_id="c")
    assert window(first, second, third, gave_up).abandoned == 0


def test_csat_and_first_contact_resolution() -> None:
    legs = [
        leg("a", 0, accepted_at=T0 + 1, ended_at=T0 + 9, rating=5, solved=True),
        leg("b", 10, accepted_at=T0 + 11, ended_at=T0 + 19, rating=4, solved=False),
        leg("c", 20, accepted_at=T0 + 21, ended_at=T0 + 29, rating=2),
        leg("d", 30, accepted_at=T0 + 31, ended_at=T0 + 39, solved=True),
        leg("e", 40, accepted_at=T0 + 41, ended_at=T0 + 49),
    ]
    got = window(*legs)
    assert got.ratings == 3
    assert got.csat_mean == pytest.approx(11 / 3)
    assert got.csat_share_4_5 == pytest.approx(2 / 3)
    assert got.solved_answers == 3
    assert got.first_contact_resolution == pytest.approx(2 / 3)
    assert [outcome(x) for x in legs] == ["resolved", "unresolved", "ended", "resolved", "ended"]


def test_only_sessions_created_inside_the_window_count() -> None:
    before = leg("a", -10, accepted_at=T0 + 1, ended_at=T0 + 5)
    inside = leg("b", 0, accepted_at=T0 + 1, ended_at=T0 + 5)
    at_end = leg("c", 3600, accepted_at=T0 + 3601, ended_at=T0 + 3605)
    assert window(before, inside, at_end).help_requests == 1


def test_each_hour_has_its_own_figures_up_to_now() -> None:
    legs = [
        leg("a", 10, accepted_at=T0 + 12, ended_at=T0 + 20),
        leg("b", 3700, ended_at=T0 + 3710),
        leg("c", 7300),
    ]
    now = T0 + 7400
    hours = hourly_figures(legs, T0, now=now, service_level_s=SL)
    assert [h.start for h in hours] == [T0, T0 + 3600, T0 + 7200]
    assert hours[-1].end == now
    assert [(h.help_requests, h.answered, h.abandoned) for h in hours] == [
        (1, 1, 0),
        (1, 0, 1),
        (1, 0, 0),
    ]
    assert hours[2].service_level == 0.0, "waiting 100 s: decided, not in time"


def test_live_sessions_are_laid_over_the_records() -> None:
    recorded = [
        leg("a", 0, rating=4),  # the row is behind: the live store has it accepted
        leg("b", 10),  # gone from the live store: ended after the records were read
    ]
    live = [
        LiveSession(
            id="a",
            device_id="d",
            device_name="tablet",
            topic="general",
            locale="en",
            state=SessionState.CONNECTING,
            created_at=T0,
            queue_score=T0,
            accepted_at=T0 + 3,
            agent_id="x",
        ),
        LiveSession(
            id="c",
            device_id="e",
            device_name="phone",
            topic="general",
            locale="en",
            created_at=T0 + 20,
            queue_score=T0 + 20,
        ),
    ]
    merged = {facts.id: facts for facts in merge_live(recorded, live, T0, T0 + 3600)}
    assert merged["a"].accepted_at == T0 + 3
    assert merged["a"].rating == 4
    assert merged["b"].stale
    assert not merged["c"].stale
    assert merged["c"].accepted_at is None
    got = window(*merged.values(), now=T0 + 100)
    assert (got.help_requests, got.answered) == (3, 1)
    assert got.service_level == pytest.approx(1 / 2), "b's outcome is not known yet"


def test_midnight_is_local() -> None:
    now = time.time()
    midnight = local_midnight(now)
    assert 0 <= now - midnight < 25 * 3600
    assert time.localtime(midnight)[3:6] == (0, 0, 0)
