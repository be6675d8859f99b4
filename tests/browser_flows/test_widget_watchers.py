"""A supervisor watches a web customer's session, then joins it, then leaves (docs/cobrowse.md
§2.3, docs/protocol.md §19.3): the real widget on a shop page in Chromium, the real server, the
agent and the supervisor as python-socketio clients with aiortc peers (tests/browser_flows/widget.py).

The widget offers the supervisor a connection of its own, whose ``cobrowse`` channel joins the
page's one recording with a full snapshot of its own, masked as the agent's is; the agent's channel
goes on without a second snapshot. The panel names the supervisor for as long as they watch. A
mark from a supervisor who only watches is not drawn; once joined, it is. Leaving closes the
connection and the line goes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from server.appkeys import RECORDS

from ..conftest import DeskFactory
from ..support import Client, agent_auth, assert_eventually
from .test_cobrowse_annotations import by_id, marks
from .widget import (
    DESKTOP,
    HIDDEN_TEXTS,
    PHONE,
    ROOT,
    SECRETS,
    UNMASKED,
    AgentPeer,
    Customer,
    Mirror,
    Shop,
    add_site,
    snapshot_with,
    step,
    strings_in,
)

pytestmark = pytest.mark.timeout(180)

FULL_SNAPSHOT, INCREMENTAL, META = 2, 3, 4  # rrweb's event types
SUE = "Sue <b>Lee</b>"

WATCHERS_JS = """() => [...document.querySelector('mayday-help').shadowRoot
    .querySelectorAll('.watchers > li')].map(li => li.textContent)"""

WATCHERS_HTML_JS = """() => document.querySelector('mayday-help').shadowRoot
    .querySelector('.watchers').innerHTML"""


def stroke(mark_id: str, color: str) -> dict[str, Any]:
    """A pinned pen stroke (pinned: it does not fade while the test looks)."""
    return {
        "type": "stroke",
        "id": mark_id,
        "tool": "pen",
        "color": color,
        "points": [[0.1, 0.1], [0.3, 0.2]],
        "pinned": True,
    }


def snapshots(mirror: Mirror) -> int:
    return sum(1 for event in mirror.events if event["type"] == FULL_SNAPSHOT)


async def watcher_lines(customer: Customer) -> list[str]:
    lines: list[str] = await customer.page.evaluate(WATCHERS_JS)
    return lines


async def test_a_supervisor_watches_joins_and_leaves_a_web_session(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    agent_peers: Callable[[Client], AgentPeer],
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk)
    await add_site(desk, shop)
    alice = await desk.agent("alice")
    # A name with markup in it: the panel must show it as text.
    await desk.add_agent("sue", role="supervisor")
    await desk.app[RECORDS].set_display_name("sue", SUE)
    sue = await desk.client("agent").connect(agent_auth(await desk.token("sue")))
    row = await desk.app[RECORDS].agent_by_name("sue")
    assert row is not None
    sue_id = row.id
    customer: Customer = await open_customer(shop)
    page = customer.page

    with step("a session: the agent's channel carries the page"):
        for selector, value in (*SECRETS.items(), UNMASKED):
            await page.fill(selector, value)
        await customer.press(".help")
        ring = await alice.next("ring", timeout=15)
        agent_peer = agent_peers(alice)
        session_id = (await alice.call("ring.accept", {"ring_id": ring["ring_id"]}))["session_id"]
        agent = await agent_peer.answer(await alice.next("rtc.offer", timeout=15))
        await agent.wait_event(snapshot_with("one blue kettle with a whistle"))
        await customer.phase("active")
        assert await watcher_lines(customer) == []

    with step("the supervisor watches: the widget offers a connection of its own"):
        watched = await sue.call("session.watch", {"session_id": session_id})
        assert watched.get("ok") is True, watched
        offer = await sue.next("rtc.offer", timeout=15)
        assert (offer["session_id"], offer["watcher_id"]) == (session_id, sue_id)
        assert "m=application" in offer["sdp"]
        assert "m=video" not in offer["sdp"]
        assert not [d for e, d in alice.received if e == "rtc.offer" and d.get("watcher_id")]
        sue_peer = agent_peers(sue)
        watcher = await sue_peer.answer(offer)
        await assert_eventually(lambda: {"cobrowse", "annotations"} <= set(sue_peer.labels))

    with step("the watcher's channel starts with hello and a full snapshot of its own"):
        hello = await watcher.wait_message("hello")
        assert json.loads(watcher.frames[0])["type"] == "hello", "hello comes first"
        assert (hello["url"], hello["viewport"]) == (shop.origin + "/", DESKTOP)
        _, text = await watcher.wait_event(snapshot_with("one blue kettle with a whistle"))
        assert [e["type"] for e in watcher.events[:2]] == [META, FULL_SNAPSHOT]
        assert sorted(watcher.parts)[0] == 1, "the watcher's channel counts its own events"
        # Masked and blocked as for the agent: the same recording.
        strings = list(strings_in(json.loads(text)))
        for secret in (*SECRETS.values(), *HIDDEN_TEXTS):
            assert not any(secret in s for s in strings), f"{secret!r} reached the watcher"
        assert UNMASKED[1] in strings, "the unmasked coupon is shown, as to the agent"

    with step("the page shows who watches, as text"):
        await assert_eventually(
            lambda: _lines_are(customer, [f"{SUE} (supervisor) is watching"]),
            message="the panel never named the watcher",
        )
        html = await page.evaluate(WATCHERS_HTML_JS)
        assert "<b>" not in html, html
        assert "&lt;b&gt;" in html, html
        await customer.shot("watchers-1-desktop")
        await page.set_viewport_size(PHONE)
        await customer.shot("watchers-2-phone")
        await page.set_viewport_size(DESKTOP)

    with step("a change of the page reaches both; the agent got no second snapshot"):
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Added while the supervisor watches';
                document.querySelector('#more').append(p);
            }"""
        )
        for mirror in (watcher, agent):
            await mirror.wait_event(
                lambda e, t: e["type"] == INCREMENTAL and "Added while the supervisor" in t
            )
        assert snapshots(agent) == 1, "the watcher's snapshot went to the agent too"

    with step("a mark from a supervisor who only watches is not drawn"):
        sue_peer.channels["annotations"].send(json.dumps(stroke("sue-watching", "#8000ff")))
        # The watcher asks for a snapshot after its mark: when it arrives, the mark came first.
        before = snapshots(watcher)
        watcher.send({"type": "snapshot"})
        await assert_eventually(lambda: snapshots(watcher) > before)
        assert snapshots(agent) == 1, "a watcher's snapshot request reached the agent"
        agent_peer.channels["annotations"].send(json.dumps(stroke("alice-mark", "#ff0000")))
        await assert_eventually(lambda: marks_shown(customer, "alice-mark"))
        assert set(by_id(await marks(customer))) == {"alice-mark"}

    with step("joined, the supervisor's marks are drawn"):
        joined = await sue.call("session.watch", {"session_id": session_id, "mode": "join"})
        assert joined.get("ok") is True, joined
        await assert_eventually(
            lambda: _lines_are(customer, [f"{SUE} (supervisor) has joined"]),
            message="the panel never said the supervisor joined",
        )
        sue_peer.channels["annotations"].send(json.dumps(stroke("sue-joined", "#8000ff")))
        await assert_eventually(lambda: marks_shown(customer, "sue-joined"))
        assert set(by_id(await marks(customer))) == {"alice-mark", "sue-joined"}
        await customer.shot("watchers-3-joined")

    with step("the supervisor leaves: the line goes, the connection closes"):
        assert await sue.call("session.leave", {"session_id": session_id}) == {"ok": True}
        await assert_eventually(lambda: _lines_are(customer, []), message="the line stayed")
        channel = sue_peer.channels["cobrowse"]
        await assert_eventually(
            lambda: channel.readyState == "closed",
            message="the watcher's connection stayed open",
        )
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Added after the supervisor left';
                document.querySelector('#more').append(p);
            }"""
        )
        await agent.wait_event(
            lambda e, t: e["type"] == INCREMENTAL and "after the supervisor left" in t
        )
        assert not any("after the supervisor left" in t for t in watcher.texts)
        assert snapshots(agent) == 1
    customer.assert_clean()


async def marks_shown(customer: Customer, mark_id: str) -> bool:
    return mark_id in by_id(await marks(customer))


async def _lines_are(customer: Customer, expected: list[str]) -> bool:
    return await watcher_lines(customer) == expected


def test_the_panel_names_watchers_in_english_and_german() -> None:
    """present.js and strings.js as the widget runs them (Node.js): one line per watcher, in the
    page's language, with the name as it came."""
    node = shutil.which("node")
    assert node is not None, "Node.js builds the widget and runs this check"
    script = (
        'import { present } from "./customer_web/present.js";'
        'import { translator } from "./customer_web/strings.js";'
        "const out = {};"
        'for (const lang of ["en", "de-DE"]) {'
        "  const state = {phase: 'active', open: true, session: {agent: {name: 'alice'}},"
        "    watchers: [{name: 'Sue {agent}', mode: 'watch'}, {name: 'Max', mode: 'join'}]};"
        "  out[lang] = present(state, translator(lang)).watchers;"
        "  out[lang + ' ended'] = present({...state, phase: 'ended'}, translator(lang)).watchers;"
        "}"
        "console.log(JSON.stringify(out));"
    )
    result = subprocess.run(
        [node, "--no-warnings", "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    said = json.loads(result.stdout)
    assert said["en"] == ["Sue {agent} (supervisor) is watching", "Max (supervisor) has joined"]
    assert said["de-DE"] == [
        "Sue {agent} (Teamleitung) sieht zu",
        "Max (Teamleitung) ist dazugekommen",
    ]
    assert said["en ended"] == said["de-DE ended"] == []
