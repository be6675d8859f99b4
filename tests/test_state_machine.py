"""The session state machine: every (from, to) pair, legal or not."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from server.live.machine import ALLOWED, IllegalTransition, audit, transition
from server.live.records import Actor, AuditEvent, LiveSession, SessionState
from signaling import ErrorCode, ProtocolError

S = SessionState
ALL_PAIRS = list(itertools.product(S, S))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED[a]]

AGENT = Actor(kind="agent", id="a1", name="alice")
NOW = 1_000.0

STAMP: dict[SessionState, str | None] = {
    S.QUEUED: None,
    S.RINGING: "rung_at",
    S.CONNECTING: "accepted_at",
    S.ACTIVE: "active_at",
    S.ENDED: "ended_at",
}
"""Which timestamp a move *into* each state sets."""


def session_in(state: SessionState) -> LiveSession:
    """A session as it would look in ``state``, with one earlier line on its timeline."""
    session = LiveSession(
        id="s1",
        device_id="d1",
        device_name="tablet",
        topic="general",
        locale="en-US",
        created_at=10.0,
        queue_score=10.0,
        state=state,
    )
    if state is not S.QUEUED:
        session.rung_at = 20.0
    if state in (S.CONNECTING, S.ACTIVE):
        session.accepted_at = 30.0
        session.agent_id = "a1"
        session.agent_name = "alice"
    if state is S.ACTIVE:
        session.active_at = 40.0
    if state is S.RINGING:
        session.ring_id = "r1"
    if state is S.ENDED:
        session.ended_at = 50.0
        session.end_reason = "resolved"
        session.ended_by = "device"
    session.timeline.append(
        AuditEvent(
            session_id="s1", seq=1, at=10.0, actor=Actor(kind="device"), kind="help.requested"
        )
    )
    return session


def test_the_table_is_the_documented_graph() -> None:
    assert set(ALLOWED) == set(S)
    documented = {
        S.QUEUED: {S.RINGING, S.ENDED},
        S.RINGING: {S.QUEUED, S.CONNECTING, S.ENDED},
        S.CONNECTING: {S.ACTIVE, S.ENDED},
        S.ACTIVE: {S.ENDED},
        S.ENDED: set(),
    }
    assert documented == ALLOWED
    assert len(LEGAL) == 8
    assert len(ILLEGAL) == 17


def test_every_state_can_reach_ended_and_ended_is_final() -> None:
    for state in S:
        seen, todo = {state}, [state]
        while todo:
            for nxt in ALLOWED[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert S.ENDED in seen
    assert not ALLOWED[S.ENDED]


@pytest.mark.parametrize(("old", "new"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_legal_transition(old: SessionState, new: SessionState) -> None:
    session = session_in(old)
    before = session.model_dump()
    actor = AGENT if new is not S.ENDED else Actor(kind="system")

    event = transition(session, new, actor=actor, at=NOW, reason="because")

    assert session.state is new
    assert event == AuditEvent(
        session_id="s1",
        seq=2,
        at=NOW,
        actor=actor,
        kind="transition",
        from_state=old,
        to_state=new,
        reason="because",
    )
    assert session.timeline[-1] is event
    assert len(session.timeline) == 2

    # Exactly the state, the timeline and the stamps of the new state changed.
    expected: dict[str, Any] = {
        **before,
        "state": new,
        "timeline": [*before["timeline"], event.model_dump()],
    }
    stamp = STAMP[new]
    if new is S.RINGING:
        # A customer rung again keeps the time of their first ring.
        assert session.rung_at == (before["rung_at"] if before["rung_at"] is not None else NOW)
        expected["rung_at"] = session.rung_at
    elif stamp is not None:
        assert getattr(session, stamp) == NOW
        expected[stamp] = NOW
    if new is S.ENDED:
        expected["end_reason"] = "because"
        expected["ended_by"] = "system"
        assert session.end_reason == "because"
        assert session.ended_by == "system"
    assert session.model_dump() == expected


@pytest.mark.parametrize(("old", "new"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_illegal_transition_changes_nothing(old: SessionState, new: SessionState) -> None:
    session = session_in(old)
    before = session.model_dump()

    with pytest.raises(IllegalTransition) as caught:
        transition(session, new, actor=AGENT, at=NOW, reason="because")

    error = caught.value
    assert isinstance(error, ProtocolError)
    assert error.code is ErrorCode.CONFLICT
    assert error.from_state is old
    assert error.to_state is new
    assert error.message == f"session s1 is {old.value}; it cannot become {new.value}"
    assert session.model_dump() == before


def test_first_ring_time_is_kept_when_rung_again() -> None:
    session = session_in(S.QUEUED)
    transition(session, S.RINGING, actor=Actor.system(), at=100.0, reason="ringing alice")
    transition(session, S.QUEUED, actor=Actor.system(), at=115.0, reason="ring timeout")
    transition(session, S.RINGING, actor=Actor.system(), at=120.0, reason="ringing bob")
    assert session.rung_at == 100.0
    assert [e.seq for e in session.timeline] == [1, 2, 3, 4]
    assert [(e.from_state, e.to_state) for e in session.timeline[1:]] == [
        (S.QUEUED, S.RINGING),
        (S.RINGING, S.QUEUED),
        (S.QUEUED, S.RINGING),
    ]


def test_whole_life_of_a_session() -> None:
    session = session_in(S.QUEUED)
    for at, (state, actor) in enumerate(
        [
            (S.RINGING, Actor.system()),
            (S.CONNECTING, AGENT),
            (S.ACTIVE, Actor(kind="device", id="d1")),
            (S.ENDED, AGENT),
        ],
        start=100,
    ):
        transition(session, state, actor=actor, at=float(at), reason=state.value)
    assert (session.rung_at, session.accepted_at, session.active_at, session.ended_at) == (
        100.0,
        101.0,
        102.0,
        103.0,
    )
    assert session.ended_by == "agent"
    assert session.end_reason == "ended"
    assert [e.seq for e in session.timeline] == [1, 2, 3, 4, 5]
    assert [e.actor.kind for e in session.timeline[1:]] == ["system", "agent", "device", "agent"]
    with pytest.raises(IllegalTransition):
        transition(session, S.ENDED, actor=AGENT, at=104.0, reason="again")
    assert session.ended_at == 103.0


def test_audit_appends_a_non_transition_event() -> None:
    session = session_in(S.RINGING)
    before = session.model_dump()
    event = audit(
        session,
        "ring.declined",
        actor=AGENT,
        at=NOW,
        reason="declined",
        detail={"agent_id": "a1"},
    )
    assert event.seq == 2
    assert event.kind == "ring.declined"
    assert (event.from_state, event.to_state) == (None, None)
    assert event.detail == {"agent_id": "a1"}
    assert session.timeline[-1] is event
    assert session.model_dump() == {**before, "timeline": [*before["timeline"], event.model_dump()]}
    assert audit(session, "peer.lost", actor=Actor.system(), at=NOW).detail == {}
    assert session.timeline[-1].seq == 3
