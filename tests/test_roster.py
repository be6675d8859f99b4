"""The agents as routing reads them (``server/live/roster.py``): the free ones, those wrapping
up and the staffed ones follow every change, and what is worked out from the staffed ones is kept
exactly as long as nobody's staffing changes."""

from __future__ import annotations

from collections.abc import Mapping

from server.live.records import AgentPresence
from server.live.roster import AgentRoster
from server.routing import Coverage


def agent(agent_id: str, **changes: object) -> AgentPresence:
    fields: dict[str, object] = {
        "agent_id": agent_id,
        "name": agent_id,
        "languages": ["en"],
        "skills": [],
        "status": "available",
        "sid": f"sock-{agent_id}",
        "idle_since": 0.0,
    }
    return AgentPresence.model_validate({**fields, **changes})


def ids(agents: list[AgentPresence] | Mapping[str, AgentPresence]) -> list[str]:
    return sorted(a.agent_id for a in (agents.values() if isinstance(agents, Mapping) else agents))


def test_free_wrapping_and_staffed_agents_follow_each_change() -> None:
    roster = AgentRoster()
    for name in ("a", "b", "c"):
        roster.put(name, agent(name))
    assert (ids(roster.free()), ids(roster.staffed), len(roster)) == (["a", "b", "c"],) * 2 + (3,)

    roster.put("a", agent("a", ring_id="r1"))  # rung: staffed, not free
    roster.put("b", agent("b", session_id="s1", status="away"))  # in a session, then away
    roster.put("c", agent("c", wrapup_until=50.0))
    assert ids(roster.free()) == []
    assert ids(roster.wrapping()) == ["c"]
    assert ids(roster.staffed) == ["a", "b", "c"]

    roster.put("b", agent("b", status="away"))  # the session is over: away is not staffed
    roster.put("c", agent("c"))
    roster.put("a", agent("a", lost_at=5.0))  # its socket is lost
    assert (ids(roster.free()), ids(roster.wrapping()), ids(roster.staffed)) == (["c"], [], ["c"])
    assert roster.get("a") == agent("a", lost_at=5.0)

    roster.put("a", None)
    roster.put("c", None)
    assert (roster.get("a"), ids(roster.agents()), ids(roster.staffed)) == (None, ["b"], [])


def test_what_is_kept_lasts_until_someones_staffing_changes() -> None:
    roster = AgentRoster()
    roster.put("a", agent("a"))
    roster.put("b", agent("b", languages=["de"], skills=["billing"]))
    coverage = roster.kept(Coverage.of_roster)
    assert roster.kept(Coverage.of_roster) is coverage

    # Rings, sessions and wrap-ups change nothing of who could serve whom.
    roster.put("a", agent("a", ring_id="r1"))
    roster.put("a", agent("a", session_id="s1", status="away"))
    roster.put("b", agent("b", languages=["de"], skills=["billing"], wrapup_until=9.0))
    assert roster.kept(Coverage.of_roster) is coverage
    assert roster.staffed["a"].session_id == "s1", "the staffed agents as they are now"

    staffed_before = roster.staffed
    for change in (
        agent("a", status="away"),  # a's session ended while away: not staffed any more
        agent("a"),  # back
        agent("a", languages=["en", "fr"]),
        agent("a", languages=["en", "fr"], skills=["billing"]),
        agent("a", languages=["en", "fr"], skills=["billing"], lost_at=3.0),
    ):
        staffing = roster.staffing
        roster.put("a", change)
        assert roster.staffing == staffing + 1, change
        assert roster.kept(Coverage.of_roster) is not coverage, change
        coverage = roster.kept(Coverage.of_roster)
    assert ids(staffed_before) == ["a", "b"], "what was worked out from it stays consistent"
    assert ids(roster.staffed) == ["b"]
    assert [a.agent_id for a in coverage.staffed] == ["b"]

    roster.put("c", agent("c", status="away"))  # signs in away: nothing changes for routing
    assert roster.kept(Coverage.of_roster) is coverage
