"""Who is sent ``queue.update`` when (``server/desk/queue.py``): every agent each version of the
queue once, an agent in a session at most every ``QUEUE_IN_SESSION_REFRESH_S`` and then the
latest; agents connected to another process are that process's to tell.
"""

from __future__ import annotations

import asyncio

from server.desk.queue import QUEUE_IN_SESSION_REFRESH_S, _Sent, queue_recipients
from server.live.records import AgentPresence

from .conftest import Desk

NODE = "node-a"


def presence(agent_id: str, *, session: bool = False, node: str = NODE) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id,
        name=agent_id,
        languages=["en"],
        skills=[],
        status="available",
        sid=f"sock-{agent_id}",
        node=node,
        idle_since=0.0,
        session_id="ses-1" if session else None,
    )


def test_each_agent_is_sent_each_version_once() -> None:
    agents = [presence("free"), presence("busy", session=True)]
    sent: dict[str, _Sent[int]] = {}
    assert queue_recipients(agents, sent, version=1, node=NODE, now=0.0) == (["free", "busy"], None)
    assert queue_recipients(agents, sent, version=1, node=NODE, now=5.0) == ([], None)


def test_an_agent_in_a_session_gets_the_latest_queue_when_due() -> None:
    agents = [presence("free"), presence("busy", session=True)]
    sent: dict[str, _Sent[int]] = {}
    queue_recipients(agents, sent, version=1, node=NODE, now=10.0)
    # Two more changes within the pause: the free agent gets both, the busy one neither...
    assert queue_recipients(agents, sent, version=2, node=NODE, now=10.5) == (
        ["free"],
        10.0 + QUEUE_IN_SESSION_REFRESH_S,
    )
    assert queue_recipients(agents, sent, version=3, node=NODE, now=11.0)[0] == ["free"]
    # ... and when due, the latest.
    due = 10.0 + QUEUE_IN_SESSION_REFRESH_S
    assert queue_recipients(agents, sent, version=3, node=NODE, now=due) == (["busy"], None)
    assert sent["busy"].key == 3


def test_a_session_ended_gets_the_queue_at_once() -> None:
    sent: dict[str, _Sent[int]] = {}
    queue_recipients([presence("alice", session=True)], sent, version=1, node=NODE, now=0.0)
    assert queue_recipients([presence("alice")], sent, version=2, node=NODE, now=0.1)[0] == [
        "alice"
    ]


def test_agents_elsewhere_or_lost_are_not_sent_and_forgotten() -> None:
    lost = presence("lost")
    lost.lost_at = 1.0
    sent: dict[str, _Sent[int]] = {"lost": _Sent(1, 0.0), "gone": _Sent(1, 0.0)}
    recipients, _ = queue_recipients(
        [presence("other", node="node-b"), lost], sent, version=2, node=NODE, now=2.0
    )
    assert recipients == []
    assert sent == {}


async def test_an_agent_in_a_session_still_sees_the_latest_queue(desk: Desk) -> None:
    """Held back while in a session, the queue still reaches the agent, as it stands."""
    _, alice, _, _ = await desk.session("alice")
    # Bob speaks only German: he is sent the English customers' queue but never rung for them.
    bob = await desk.agent("bob", languages=("de",))
    presses = 5
    for index in range(presses):
        device, _ = await desk.device(f"tablet-{index}")
        ack = await device.call("help.request", {})
        assert ack["ticket"]["position"] == index + 1
        await asyncio.sleep(0.1)
    for agent in (alice, bob):
        latest = await agent.next_matching(
            "queue.update",
            lambda q: q["length"] == presses,
            timeout=QUEUE_IN_SESSION_REFRESH_S + 10,
        )
        assert [e["position"] for e in latest["entries"]] == list(range(1, presses + 1))
