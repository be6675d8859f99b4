"""Wait estimates: Erlang C against known values, and the two waits built on it."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.estimate import erlang_c, wait_at_position, wait_for_new_arrival


def erlang_c_by_definition(servers: int, load: float) -> float:
    """The textbook formula, straight from the factorials (fine for small ``servers``)."""
    waiting = load**servers / math.factorial(servers) * servers / (servers - load)
    return waiting / (sum(load**k / math.factorial(k) for k in range(servers)) + waiting)


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: the probability of waiting is the utilisation
        (1, 0.9, 0.9),
        (2, 1.0, 1 / 3),
        (10, 8.0, 0.4092),  # textbook table value
        (3, 2.0, 0.4444),
        (5, 4.0, 0.5541),
    ],
)
def test_erlang_c_known_values(servers: int, load: float, expected: float) -> None:
    assert erlang_c(servers, load) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (0, 0.0, 1.0),  # nobody staffed: everyone waits
        (0, 3.0, 1.0),
        (-1, 1.0, 1.0),
        (3, 0.0, 0.0),  # nobody calls: nobody waits
        (3, -1.0, 0.0),
        (3, 3.0, 1.0),  # the desk cannot keep up
        (3, 7.5, 1.0),
        (1, 1.0, 1.0),
    ],
)
def test_erlang_c_edges(servers: int, load: float, expected: float) -> None:
    assert erlang_c(servers, load) == expected


@settings(max_examples=200, deadline=None)
@given(
    servers=st.integers(min_value=1, max_value=40),
    utilisation=st.floats(min_value=0.001, max_value=0.999),
)
def test_erlang_c_matches_the_definition(servers: int, utilisation: float) -> None:
    load = servers * utilisation
    probability = erlang_c(servers, load)
    assert 0.0 <= probability <= 1.0
    assert probability == pytest.approx(erlang_c_by_definition(servers, load), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    servers=st.integers(min_value=1, max_value=60),
    utilisation=st.floats(min_value=0.01, max_value=0.95),
)
def test_erlang_c_falls_with_more_agents_and_rises_with_more_load(
    servers: int, utilisation: float
) -> None:
    load = servers * utilisation
    assert erlang_c(servers + 1, load) <= erlang_c(servers, load)
    assert erlang_c(servers, load * 1.01) >= erlang_c(servers, load)


def test_erlang_c_approaches_one_near_saturation() -> None:
    assert erlang_c(10, 9.999) == pytest.approx(1.0, abs=1e-3)
    assert erlang_c(10, 9.999) <= 1.0


def test_erlang_c_is_stable_for_large_desks() -> None:
    probability = erlang_c(500, 480.0)
    assert math.isfinite(probability)
    assert 0.0 < probability < 1.0


# --- wait at a position -------------------------------------------------------------------


def test_wait_at_position_without_staff_is_unknown() -> None:
    assert wait_at_position(1, staffed=0, free=0, handling_time_s=300.0) is None
    assert wait_at_position(5, staffed=-1, free=0, handling_time_s=300.0) is None


@pytest.mark.parametrize(
    ("position", "staffed", "free", "expected"),
    [
        (1, 1, 0, 300.0),
        (1, 1, 1, 0.0),  # a free agent takes the next customer now
        (2, 2, 1, 150.0),
        (3, 2, 1, 300.0),
        (4, 4, 0, 300.0),
        (2, 3, 5, 0.0),
        (3, 2, -4, 450.0),  # a negative count of free agents is taken as none
    ],
)
def test_wait_at_position(position: int, staffed: int, free: int, expected: float) -> None:
    assert wait_at_position(
        position, staffed=staffed, free=free, handling_time_s=300.0
    ) == pytest.approx(expected)


@pytest.mark.parametrize(("staffed", "free"), [(1, 0), (3, 1), (5, 5), (8, 2)])
def test_wait_grows_with_position(staffed: int, free: int) -> None:
    waits = [
        wait_at_position(p, staffed=staffed, free=free, handling_time_s=240.0) for p in range(1, 30)
    ]
    numbers = [w for w in waits if w is not None]
    assert len(numbers) == len(waits)
    assert all(a <= b for a, b in itertools.pairwise(numbers))
    assert numbers[-1] > numbers[0]
    # Past the free agents, each place in line adds one agent-turnover interval.
    step = 240.0 / staffed
    for a, b in itertools.pairwise(numbers[free:]):
        assert b - a == pytest.approx(step)


def test_more_staff_means_shorter_waits() -> None:
    waits = [wait_at_position(6, staffed=n, free=0, handling_time_s=300.0) for n in range(1, 10)]
    numbers = [w for w in waits if w is not None]
    assert all(a > b for a, b in itertools.pairwise(numbers))


# --- wait of a new arrival ----------------------------------------------------------------


def test_new_arrival_without_staff_is_unknown() -> None:
    assert (
        wait_for_new_arrival(staffed=0, free=0, queued=0, arrival_rate=0.01, handling_time_s=300.0)
        is None
    )
    assert (
        wait_for_new_arrival(staffed=0, free=0, queued=3, arrival_rate=0.0, handling_time_s=300.0)
        is None
    )


def test_new_arrival_uses_erlang_c_while_the_desk_keeps_up() -> None:
    # M/M/1 with utilisation 0.5: Wq = rho / (mu - lambda) = 0.5 / (0.01 - 0.005) = 100 s.
    wait = wait_for_new_arrival(
        staffed=1, free=0, queued=0, arrival_rate=0.005, handling_time_s=100.0
    )
    assert wait == pytest.approx(100.0)
    # 10 agents, 8 Erlangs, h = 180 s: ASA = C * h / (n - A).
    wait = wait_for_new_arrival(
        staffed=10, free=0, queued=0, arrival_rate=8.0 / 180.0, handling_time_s=180.0
    )
    assert wait == pytest.approx(erlang_c(10, 8.0) * 180.0 / 2.0)
    assert wait == pytest.approx(36.83, abs=0.01)


def test_new_arrival_waits_nothing_while_an_agent_is_free() -> None:
    wait = wait_for_new_arrival(
        staffed=10, free=3, queued=2, arrival_rate=8.0 / 180.0, handling_time_s=180.0
    )
    assert wait == 0.0
    busy = wait_for_new_arrival(
        staffed=10, free=3, queued=3, arrival_rate=8.0 / 180.0, handling_time_s=180.0
    )
    assert busy is not None
    assert busy > 0.0


def test_new_arrival_with_no_arrivals_waits_nothing() -> None:
    assert wait_for_new_arrival(
        staffed=2, free=2, queued=0, arrival_rate=0.0, handling_time_s=300.0
    ) == pytest.approx(0.0)


def test_new_arrival_behind_a_queue_uses_the_position() -> None:
    wait = wait_for_new_arrival(
        staffed=2, free=0, queued=3, arrival_rate=0.001, handling_time_s=300.0
    )
    assert wait == wait_at_position(4, staffed=2, free=0, handling_time_s=300.0)
    assert wait == pytest.approx(600.0)


def test_new_arrival_on_an_overloaded_desk_uses_the_position() -> None:
    # load = 0.02 * 300 = 6 Erlangs on 2 agents: Erlang C is undefined, the queue decides.
    wait = wait_for_new_arrival(
        staffed=2, free=1, queued=0, arrival_rate=0.02, handling_time_s=300.0
    )
    assert wait == wait_at_position(1, staffed=2, free=1, handling_time_s=300.0)
    assert wait == 0.0
    wait = wait_for_new_arrival(
        staffed=2, free=0, queued=0, arrival_rate=0.02, handling_time_s=300.0
    )
    assert wait == pytest.approx(150.0)


def test_new_arrival_wait_grows_with_the_queue() -> None:
    waits = [
        wait_for_new_arrival(staffed=3, free=0, queued=q, arrival_rate=0.005, handling_time_s=300.0)
        for q in range(1, 20)
    ]
    numbers = [w for w in waits if w is not None]
    assert len(numbers) == len(waits)
    assert all(a < b for a, b in itertools.pairwise(numbers))


@settings(max_examples=200, deadline=None)
@given(
    staffed=st.integers(min_value=1, max_value=50),
    free=st.integers(min_value=0, max_value=50),
    queued=st.integers(min_value=0, max_value=500),
    arrival_rate=st.floats(min_value=0.0, max_value=10.0),
    handling_time_s=st.floats(min_value=1.0, max_value=7200.0),
)
def test_new_arrival_wait_is_finite_and_not_negative(
    staffed: int, free: int, queued: int, arrival_rate: float, handling_time_s: float
) -> None:
    wait = wait_for_new_arrival(
        staffed=staffed,
        free=free,
        queued=queued,
        arrival_rate=arrival_rate,
        handling_time_s=handling_time_s,
    )
    assert wait is not None
    assert math.isfinite(wait)
    assert wait >= 0.0
