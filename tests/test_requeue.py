"""The agent is lost mid-session: the customer is told and goes back to the head of the queue.

When an agent's grace period runs out during a session, the session ends ``agent_lost`` and, in the
same store transaction, its customer gets a new ticket ahead of everyone not yet served
(docs/protocol.md §6.4 ``session.ended``, §7.2, §9). Ends by a party, and a lost device, stay as
they were.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from device_agent import i18n
from device_agent.customer import CustomerView
from device_agent.screens.tablet import SimulatedTablet

from .browser_flows import conftest as browser_flows
from .browser_flows.widget import ROOT, Customer, Shop, add_site
from .conftest import Desk, DeskFactory
from .devices import registered_device
from .support import Client, agent_auth, assert_eventually, device_auth
from .test_x11 import x_display as x_display

GRACE_S = 0.3

# The browser's fixtures, for the one widget check here (they live with the browser flows).
chromium = browser_flows.chromium
browser = browser_flows.browser
built_widget = browser_flows.built_widget
make_shop = browser_flows.make_shop
open_customer = browser_flows.open_customer


async def _events(desk: Desk, session_id: str, token: str) -> list[dict[str, Any]]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", token)
    assert status == 200, body
    events: list[dict[str, Any]] = body["events"]
    return events


def _customer_events(client: Client) -> list[tuple[str, Any]]:
    return [(e, d) for e, d in client.received if e in ("session.ended", "ticket.update")]


async def test_a_lost_agent_sends_the_customer_to_the_head_of_the_queue(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(grace_period_s=GRACE_S)
    # Another customer asked first, in a language alice does not speak: they have waited
    # longest of all when alice is lost, and still the requeued customer goes ahead of them.
    other, _ = await desk.device("other")
    other_ticket = (await other.call("help.request", {"locale": "de"}))["ticket"]
    assert other_ticket["position"] == 1
    device, agent_a, _, session_id = await desk.session("alice")
    first = await device.call("rtc.state", {"session_id": session_id, "state": "connected"})
    assert first == {"ok": True}
    bob = await desk.agent("bob", languages=("en", "de"), available=False)
    device.received.clear()

    await agent_a.close()
    lost = await device.next("session.peer")
    assert (lost["peer"], lost["connected"]) == ("agent", False)
    ended = await device.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "agent_lost", "ended_by": "system"}
    # A push about the first ticket (its ring) may still be on its way under load: not this one.
    update = await device.next_matching("ticket.update", lambda u: u["ticket"]["id"] != session_id)
    ticket = update["ticket"]
    assert (ticket["state"], ticket["position"]) == ("queued", 1), ticket
    # In that order, and nothing else about the new ticket in between.
    news = [e for e, d in _customer_events(device) if d.get("ticket", {}).get("id") != session_id]
    assert news[:2] == ["session.ended", "ticket.update"]

    waiting = [s.id for s in await desk.desk.context.store.waiting()]
    assert waiting == [ticket["id"], other_ticket["id"]]
    other_update = await other.next_matching(
        "ticket.update", lambda u: u["ticket"]["position"] == 2
    )
    assert other_update["ticket"]["id"] == other_ticket["id"]

    # bob comes to his desk: the requeued customer is rung first, with their topic and locale,
    # and the time they first pressed the button.
    assert await bob.call("presence.set", {"status": "available"}) == {
        "ok": True,
        "status": "available",
    }
    ring = await bob.next("ring")
    entry = ring["ticket"]
    assert entry["ticket_id"] == ticket["id"]
    assert (entry["topic"], entry["locale"], entry["position"]) == ("general", "en", 1)
    await desk.add_agent("sue", role="supervisor")  # bob reads it once he helps the customer
    token = await desk.token("sue")
    pressed = (await _events(desk, session_id, token))[0]
    assert pressed["kind"] == "help.requested"
    assert entry["waiting_since"] == pressed["at"]

    accepted = await bob.call("ring.accept", {"ring_id": ring["ring_id"]})
    assert accepted["session_id"] == ticket["id"]
    started = await device.next("session.started")
    assert (started["session_id"], started["agent"]["name"]) == (ticket["id"], "bob")

    # The records tell the story: the ended session keeps its own, the new one says whence.
    async def told() -> bool:
        status, body = await desk.get(f"/api/sessions/{session_id}", token)
        return status == 200 and body["end_reason"] == "agent_lost" and body["state"] == "ended"

    await assert_eventually(told)
    old_events = await _events(desk, session_id, token)
    kinds = [(e["kind"], e.get("to_state"), e["reason"]) for e in old_events]
    lost_at = kinds.index(("peer.lost", None, "agent disconnected"))
    end_at = kinds.index(("transition", "ended", "agent_lost"))
    assert lost_at < end_at
    assert old_events[end_at]["actor"]["kind"] == "system"
    assert kinds[end_at + 1][0] == "requeued"
    assert old_events[end_at + 1]["detail"] == {"next_session_id": ticket["id"]}

    new_events = await _events(desk, ticket["id"], token)
    assert new_events[0]["kind"] == "requeued"
    assert new_events[0]["reason"] == "agent_lost"
    assert new_events[0]["detail"]["previous_session_id"] == session_id
    assert new_events[0]["detail"]["waiting_since"] == pressed["at"]
    states = [e["to_state"] for e in new_events if e["kind"] == "transition"]
    assert states == ["ringing", "connecting"]
    # The other customer kept their place behind.
    assert [s.id for s in await desk.desk.context.store.waiting()] == [other_ticket["id"]]


async def test_an_agent_who_ends_the_session_does_not_requeue(make_desk: DeskFactory) -> None:
    desk = await make_desk(grace_period_s=GRACE_S)
    device, agent, _, session_id = await desk.session("alice")
    agent_id = _started(device)["agent"]["id"]
    await agent.call("session.end", {"session_id": session_id, "reason": "resolved"})
    ended = await device.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "resolved", "ended_by": "agent"}
    await agent.close()

    async def signed_out() -> bool:
        return await desk.desk.context.store.get_agent(agent_id) is None

    await assert_eventually(signed_out)
    assert (
        await desk.desk.context.store.session_for_device(_started(device)["device"]["id"]) is None
    )
    assert [e for e, _ in _customer_events(device)] == ["session.ended"]


async def test_an_agent_back_within_the_grace_period_keeps_the_session(desk: Desk) -> None:
    device, agent, _, session_id = await desk.session("alice")
    await agent.close()
    assert (await device.next("session.peer"))["connected"] is False
    again = await desk.client("agent").connect(agent_auth(await desk.token("alice")))
    assert (await again.next("session.started"))["session_id"] == session_id
    assert (await device.next("session.peer"))["connected"] is True
    # The grace period's end, run now (as the sweeper would), finds the agent back.
    await desk.desk.agent_grace_over(_started(device)["agent"]["id"])
    live = await desk.desk.session(session_id)
    assert live is not None
    assert live.state.value == "connecting"
    assert await desk.desk.context.store.waiting() == []


async def test_a_device_away_when_its_agent_was_lost_learns_it_on_return(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(grace_period_s=1.2)
    device, agent, registered, session_id = await desk.session("alice")
    device_id = _started(device)["device"]["id"]
    await agent.close()
    assert (await device.next("session.peer"))["connected"] is False
    # The device drops too, well after the agent: the agent's grace period runs out first.
    await asyncio.sleep(0.6)
    await device.close()

    async def requeued() -> bool:
        ticket = await desk.desk.context.store.session_for_device(device_id)
        return ticket is not None and ticket.requeued_from == session_id

    await assert_eventually(requeued)
    ticket = await desk.desk.context.store.session_for_device(device_id)
    assert ticket is not None
    assert not ticket.device_connected, "not rung while away"
    back = await desk.client("device").connect(device_auth(registered))
    ended = await back.next("session.ended")
    assert ended == {"session_id": session_id, "reason": "agent_lost", "ended_by": "system"}
    update = await back.next("ticket.update")
    assert (update["ticket"]["id"], update["ticket"]["position"]) == (ticket.id, 1)
    assert [e for e, _ in _customer_events(back)][:2] == ["session.ended", "ticket.update"]


def _started(client: Client) -> dict[str, Any]:
    return next(d for e, d in client.received if e == "session.started")


async def test_the_tablet_says_so_and_waits_first_in_line(make_desk: DeskFactory) -> None:
    desk = await make_desk(grace_period_s=GRACE_S)
    agent = await desk.agent("alice", languages=("de",))
    tablet = SimulatedTablet()
    device = await registered_device(desk.http, desk.url, tablet, locale="de-DE")
    try:
        await device.start()
        tablet.tap("customer.help", origin="customer")
        ring = await agent.next("ring")
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        await asyncio.wait_for(device.started.wait(), 10)
        await agent.close()

        def waiting_first() -> bool:
            view = tablet.customer_view
            return view.phase == "queued" and view.position == 1

        await assert_eventually(waiting_first)
        view = tablet.customer_view
        assert view.requeued, view
        assert not view.rating_requested, "no rating for a session the agent lost"
        assert device.ticket is not None
        assert device.ticket["id"] != ring["ticket"]["ticket_id"]
        elements = tablet.elements()
        assert "customer.cancel" in elements
        assert not any(name.startswith("customer.rate") for name in elements)
        assert i18n.text(view.locale, "agent_lost") == (
            "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen."
        )
        assert i18n.requeued_status(view.locale, 1, 60) == "Sie sind als Nächstes an der Reihe."
        assert i18n.text("en", "agent_lost") + " " + i18n.requeued_status("en", 1, None) == (
            "Your agent lost their connection. You are first in line for the next agent."
        )
        # Cancelling the new ticket is an ordinary cancel: back to the Help button.
        tablet.tap("customer.cancel", origin="customer")
        await assert_eventually(lambda: tablet.customer_view.phase == "idle")
        assert not tablet.customer_view.requeued
    finally:
        await device.close()


# --- the web widget -------------------------------------------------------------------------------


@pytest.mark.parametrize("live_store", ["memory"], indirect=True)
@pytest.mark.timeout(120)
async def test_the_widget_says_so_and_waits_first_in_line(
    make_desk: DeskFactory,
    built_widget: Path,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
) -> None:
    del built_widget  # built (or rebuilt) before the page loads it
    desk = await make_desk(sites_refresh_s=0.1, grace_period_s=GRACE_S)
    shop: Shop = await make_shop(desk)
    await add_site(desk, shop)
    agent = await desk.agent("alice")
    customer: Customer = await open_customer(shop)
    await customer.press(".help")
    ring = await agent.next("ring", timeout=15)
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    await customer.phase("connecting", "active")

    await agent.close()
    await customer.phase("queued")
    assert await customer.status() == (
        "Your agent lost their connection. You are first in line for the next agent."
    )
    panel = customer.page.locator("mayday-help")
    assert await panel.locator(".rating").is_hidden(), "no rating for a session the agent lost"
    assert await panel.locator(".actions button").all_inner_texts() == ["Cancel"]
    await customer.shot("requeued-1-first-in-line")

    # The next agent takes the customer as any other.
    bob = await desk.agent("bob")
    again = await bob.next("ring", timeout=15)
    assert again["ticket"]["ticket_id"] != ring["ticket"]["ticket_id"]
    assert again["ticket"]["kind"] == "web"
    await bob.call("ring.accept", {"ring_id": again["ring_id"]})
    await customer.phase("connecting", "active")
    assert "bob" in await customer.status()
    customer.assert_clean()


def test_the_widget_says_it_in_english_and_german() -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js builds the widget and runs this check"
    script = (
        'import { translator } from "./customer_web/strings.js";'
        "const out = {};"
        'for (const lang of ["en", "de-DE"]) {'
        "  const t = translator(lang);"
        '  out[lang] = [t("agentLost"), t("agentLostBehind", { position: 3 })];'
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
    assert said["en"] == [
        "Your agent lost their connection. You are first in line for the next agent.",
        "Your agent lost their connection. You're number 3 in line.",
    ]
    assert said["de-DE"] == [
        "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen. Sie sind als Nächstes an der Reihe.",
        "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen. "
        "Sie sind Nummer 3 in der Warteschlange.",
    ]


# --- the Tk window next to an X desktop ---------------------------------------------------------


def test_the_tk_window_says_so_and_offers_cancel_only(x_display: str) -> None:
    import tkinter

    from device_agent.ui_tk.content import build

    root = tkinter.Tk(screenName=x_display)
    try:
        shown: dict[str, tuple[list[str], list[str]]] = {}
        for locale in ("en", "de"):
            frame = tkinter.Frame(root)
            view = CustomerView(locale=locale, phase="queued", position=1, requeued=True)
            buttons = build(frame, view, None, lambda _action, _value: None)
            texts = [
                str(child.cget("text"))
                for child in _descendants(frame)
                if isinstance(child, tkinter.Label)
            ]
            shown[locale] = (texts, sorted(buttons))
            frame.destroy()
    finally:
        root.destroy()
    assert shown["en"] == (
        ["Your agent lost their connection.", "You are first in line for the next agent."],
        ["cancel"],
    )
    assert shown["de"][0] == [
        "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen.",
        "Sie sind als Nächstes an der Reihe.",
    ]


def _descendants(widget: Any) -> list[Any]:
    found = []
    for child in widget.winfo_children():
        found.append(child)
        found.extend(_descendants(child))
    return found
