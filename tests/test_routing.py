"""Who rings whom: plan_rings over snapshots of the queue and the agents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pytest

from server.live.line import LineKey, WaitingLine
from server.live.records import AgentPresence, LiveSession, SessionState
from server.live.records import AgentPresence as _AgentPresence
from server.routing import matches as _matches
from server.routing import plan_rings as _plan_rings

NOW = 1000.0
HOLD_S = 60.0


def plan_rings(
    waiting: Sequence[LiveSession], agents: Sequence[_AgentPresence], *, now: float = NOW
) -> list[tuple[str, str]]:
    return _plan_rings(WaitingLine.of(waiting), agents, now=now, decline_hold_s=HOLD_S)


def matches(agent: _AgentPresence, session: LiveSession, *, now: float = NOW) -> bool:
    return _matches(agent, session, now=now, decline_hold_s=HOLD_S)


def customer(
    session_id: str,
    *,
    topic: str = "general",
    locale: str = "en",
    state: SessionState = SessionState.QUEUED,
    lost: bool = False,
    declined_by: Sequence[str] = (),
    declined_at: float = NOW - 1.0,
) -> LiveSession:
    score = float(len(session_id))
    return LiveSession(
        id=session_id,
        device_id=f"dev-{session_id}",
        device_name="tablet",
        topic=topic,
        locale=locale,
        state=state,
        created_at=score,
        queue_score=score,
        device_lost_at=5.0 if lost else None,
        declined_at=dict.fromkeys(declined_by, declined_at),
    )


def agent(
    agent_id: str,
    *,
    idle_since: float = 0.0,
    languages: Sequence[str] = (),
    skills: Sequence[str] = (),
    away: bool = False,
    connected: bool = True,
    lost: bool = False,
    ringing: bool = False,
    busy: bool = False,
    wrapping_up: bool = False,
) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id,
        name=agent_id,
        languages=list(languages),
        skills=list(skills),
        status="away" if away else "available",
        sid=f"sock-{agent_id}" if connected else None,
        lost_at=6.0 if lost else None,
        idle_since=idle_since,
        ring_id="r-x" if ringing else None,
        session_id="s-x" if busy else None,
        wrapup_until=NOW + 30.0 if wrapping_up else None,
    )


def test_nothing_to_plan() -> None:
    assert plan_rings([], []) == []
    assert plan_rings([customer("s1")], []) == []
    assert plan_rings([], [agent("a")]) == []


def test_first_come_first_served() -> None:
    waiting = [customer("s1"), customer("s2"), customer("s3")]
    assert plan_rings(waiting, [agent("a")]) == [("s1", "a")]
    assert plan_rings(waiting, [agent("a"), agent("b")]) == [("s1", "a"), ("s2", "b")]
    # The plan follows the line's order (the queue score), not the ids.
    reversed_line = [c.model_copy(update={"queue_score": 10.0 - i}) for i, c in enumerate(waiting)]
    assert plan_rings(reversed_line, [agent("a")]) == [("s3", "a")]


def test_each_agent_at_most_once_and_each_customer_at_most_once() -> None:
    waiting = [customer(f"s{i}") for i in range(5)]
    agents = [agent(f"a{i}", idle_since=float(i)) for i in range(3)]
    plan = plan_rings(waiting, agents)
    assert plan == [("s0", "a0"), ("s1", "a1"), ("s2", "a2")]
    more_agents = [agent(f"a{i}", idle_since=float(i)) for i in range(8)]
    plan = plan_rings(waiting, more_agents)
    assert len({s for s, _ in plan}) == len(plan) == 5
    assert len({a for _, a in plan}) == 5


def test_longest_idle_agent_first() -> None:
    agents = [
        agent("recent", idle_since=300.0),
        agent("longest", idle_since=100.0),
        agent("middle", idle_since=200.0),
    ]
    waiting = [customer("s1"), customer("s2"), customer("s3")]
    assert plan_rings(waiting, agents) == [("s1", "longest"), ("s2", "middle"), ("s3", "recent")]


def test_idle_tie_is_broken_by_agent_id() -> None:
    agents = [agent("b", idle_since=1.0), agent("a", idle_since=1.0)]
    assert plan_rings([customer("s1")], agents) == [("s1", "a")]


@pytest.mark.parametrize(
    ("locale", "languages", "expected"),
    [
        ("de-DE", ["de"], True),
        ("de_AT", ["de"], True),
        ("DE-de", ["de"], True),
        ("de", ["en", "de"], True),
        ("en-US", ["de"], False),
        ("de-DE", ["en"], False),
        ("fr-CA", [], True),
    ],
)
def test_language_matches_the_locale(locale: str, languages: list[str], expected: bool) -> None:
    session = customer("s1", locale=locale)
    assert matches(agent("a", languages=languages), session) is expected
    assert plan_rings([session], [agent("a", languages=languages)]) == (
        [("s1", "a")] if expected else []
    )


@pytest.mark.parametrize(
    ("topic", "skills", "expected"),
    [
        ("kindle", ["kindle"], True),
        ("kindle", ["printer", "kindle"], True),
        ("kindle", ["printer"], False),
        ("kindle", [], True),
    ],
)
def test_skill_matches_the_topic(topic: str, skills: list[str], expected: bool) -> None:
    session = customer("s1", topic=topic)
    assert matches(agent("a", skills=skills), session) is expected


def test_language_and_skill_must_both_match() -> None:
    session = customer("s1", topic="kindle", locale="de-DE")
    assert not matches(agent("a", languages=["de"], skills=["printer"]), session)
    assert not matches(agent("a", languages=["en"], skills=["kindle"]), session)
    assert matches(agent("a", languages=["de"], skills=["kindle"]), session)
    assert matches(agent("a"), session)  # no languages, no skills: takes anything


def test_a_matching_agent_is_found_past_longer_idle_ones() -> None:
    agents = [
        agent("en-only", idle_since=1.0, languages=["en"]),
        agent("de-speaker", idle_since=2.0, languages=["de"]),
    ]
    waiting = [customer("s1", locale="de-DE"), customer("s2", locale="en-GB")]
    assert plan_rings(waiting, agents) == [("s1", "de-speaker"), ("s2", "en-only")]


def test_unmatched_customer_does_not_block_the_queue() -> None:
    waiting = [customer("s1", topic="printer"), customer("s2", topic="kindle")]
    agents = [agent("a", skills=["kindle"])]
    assert plan_rings(waiting, agents) == [("s2", "a")]


def test_a_decline_holds_for_the_hold_then_the_agent_may_be_rung_again() -> None:
    """With only the agents who declined left, the customer is not stranded forever."""
    session = customer("s1", declined_by=["a"], declined_at=NOW)
    assert plan_rings([session], [agent("a")], now=NOW + HOLD_S - 0.1) == []
    assert plan_rings([session], [agent("a")], now=NOW + HOLD_S) == [("s1", "a")]


def test_declined_agent_is_skipped() -> None:
    session = customer("s1", declined_by=["a"])
    assert not matches(agent("a"), session)
    assert plan_rings([session], [agent("a")]) == []
    agents = [agent("a", idle_since=1.0), agent("b", idle_since=2.0)]
    assert plan_rings([session, customer("s2")], agents) == [("s1", "b"), ("s2", "a")]


def test_customer_with_a_lost_device_is_skipped() -> None:
    waiting = [customer("s1", lost=True), customer("s2")]
    assert plan_rings(waiting, [agent("a")]) == [("s2", "a")]
    assert plan_rings(waiting[:1], [agent("a")]) == []


@pytest.mark.parametrize(
    "state",
    [SessionState.RINGING, SessionState.CONNECTING, SessionState.ACTIVE, SessionState.ENDED],
)
def test_only_queued_customers_are_rung(state: SessionState) -> None:
    waiting = [customer("s1", state=state), customer("s2")]
    assert plan_rings(waiting, [agent("a"), agent("b")]) == [("s2", "a")]


@pytest.mark.parametrize(
    "unavailable",
    [
        agent("x", away=True),
        agent("x", connected=False),
        agent("x", lost=True),
        agent("x", ringing=True),
        agent("x", busy=True),
        agent("x", wrapping_up=True),
    ],
    ids=["away", "disconnected", "connection-lost", "ringing", "in-session", "wrapping-up"],
)
def test_non_routable_agents_are_skipped(unavailable: AgentPresence) -> None:
    assert not unavailable.routable
    unavailable.idle_since = -1.0  # idle longest, yet not rung
    assert plan_rings([customer("s1")], [unavailable]) == []
    assert plan_rings([customer("s1")], [unavailable, agent("a", idle_since=5.0)]) == [("s1", "a")]


def test_plan_does_not_touch_its_inputs() -> None:
    waiting = [customer("s1"), customer("s2", declined_by=["a"])]
    agents = [agent("a"), agent("b", away=True)]
    before = [s.model_dump() for s in waiting], [a.model_dump() for a in agents]
    plan_rings(waiting, agents)
    assert ([s.model_dump() for s in waiting], [a.model_dump() for a in agents]) == before


# --- overflow (docs/protocol.md §20.1) -----------------------------------------------------------


def test_nobody_matches_routing_widens_after_the_overflow_time_language_first() -> None:
    dutch = customer("nl1", locale="nl-NL", topic="kindle")  # pressed at 3.0 (its created_at)
    english_idle_longest = agent("a-en", idle_since=0.0, languages=["en"], skills=["printer"])
    dutch_no_topic = agent("a-nl", idle_since=5.0, languages=["nl"], skills=["printer"])
    agents = [english_idle_longest, dutch_no_topic]
    early = _plan_rings(
        WaitingLine.of([dutch]), agents, now=3.0 + 29.0, decline_hold_s=HOLD_S, overflow_s=30.0
    )
    assert early == []
    late = _plan_rings(
        WaitingLine.of([dutch]), agents, now=3.0 + 30.0, decline_hold_s=HOLD_S, overflow_s=30.0
    )
    assert late == [("nl1", "a-nl")]
    # Without a Dutch speaker, whoever has been idle longest.
    alone = _plan_rings(
        WaitingLine.of([dutch]),
        [english_idle_longest],
        now=NOW,
        decline_hold_s=HOLD_S,
        overflow_s=30.0,
    )
    assert alone == [("nl1", "a-en")]


def test_a_customer_someone_signed_in_can_serve_is_never_widened() -> None:
    german = customer("de1", locale="de")
    busy_german = agent("a-de", languages=["de"], busy=True)
    free_english = agent("a-en", languages=["en"])
    plan = _plan_rings(
        WaitingLine.of([german]),
        [busy_german, free_english],
        now=NOW,
        decline_hold_s=HOLD_S,
        overflow_s=0.0,
    )
    assert plan == []


def test_widened_routing_still_respects_declines() -> None:
    dutch = customer("nl1", locale="nl", declined_by=["a-en"])
    english = agent("a-en", languages=["en"])
    plan = _plan_rings(
        WaitingLine.of([dutch]), [english], now=NOW, decline_hold_s=HOLD_S, overflow_s=0.0
    )
    assert plan == []


class CountingLine(WaitingLine):
    """A line that counts the customers a routing pass looks at."""

    looked_at = 0

    def in_line(self, keys: Iterable[LineKey]) -> Iterator[LiveSession]:
        for session in super().in_line(keys):
            self.looked_at += 1
            yield session


def test_a_pass_stops_looking_once_no_free_agent_serves_the_rest() -> None:
    """The one free agent who serves a long group is rung; agents who serve nobody waiting stay
    free: the pass must not walk the rest of the group (it used to, at every pass)."""
    line = CountingLine()
    for i in range(1000):
        line.put(f"s{i:04}", customer(f"s{i:04}").model_copy(update={"queue_score": float(i)}))
    agents = [agent("en"), *(agent(f"sv{i}", languages=["sv"]) for i in range(3))]
    plan = _plan_rings(line, agents, now=NOW, decline_hold_s=HOLD_S)
    assert plan == [("s0000", "en")]
    assert line.looked_at == 1


def test_a_pass_with_many_free_agents_looks_at_each_customer_once() -> None:
    """The start of a day: 200 agents sign in to 200 customers waiting, half of them in one
    language, half in languages of their own; the pass rings them all and looks at each customer
    once (looking again from the front after each ring looked at over 5,000)."""
    line = CountingLine()
    locales = ["en"] * 100 + [f"l{i:03}" for i in range(100)]
    for i, locale in enumerate(locales):
        session = customer(f"s{i:03}", locale=locale)
        line.put(session.id, session.model_copy(update={"queue_score": float(i)}))
    agents = [agent(f"a{i:03}", languages=[locale]) for i, locale in enumerate(locales)]
    plan = _plan_rings(line, agents, now=NOW, decline_hold_s=HOLD_S)
    assert sorted(plan) == [(f"s{i:03}", f"a{i:03}") for i in range(200)]
    assert line.looked_at == 200
