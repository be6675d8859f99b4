"""The customer's web widget (customer_web/, served as /widget.js) on a real page in Chromium.

The shop page, the customer and the agent peer come from tests/browser_flows/widget.py. The flows
are slow (a browser, WebRTC), so they run once, with the live state in memory, like the console's
tests (the fixtures are in tests/browser_flows/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from server.appkeys import RECORDS

from ..conftest import Desk, DeskFactory
from ..support import Client, assert_eventually
from .widget import (
    BIG_PAGE_JS,
    DESKTOP,
    HIDDEN_TEXTS,
    PHONE,
    SECRETS,
    UNMASKED,
    AgentPeer,
    Customer,
    Shop,
    add_site,
    snapshot_with,
    step,
    strings_in,
)

pytestmark = pytest.mark.timeout(180)


async def test_the_widget_is_served_as_a_classic_script(desk: Desk, built_widget: Path) -> None:
    async with desk.http.get(f"{desk.url}/widget.js") as response:
        body = await response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert body == await asyncio.to_thread(built_widget.read_bytes)
        etag = response.headers["ETag"]
    async with desk.http.get(f"{desk.url}/widget.js", headers={"If-None-Match": etag}) as response:
        assert response.status == 304  # every page load revalidates, cheaply
    async with desk.http.get(f"{desk.url}/widget.js.map") as response:
        assert response.status == 200
        assert "../help.js" in (await response.json())["sources"]


async def test_a_customer_gets_help_and_the_agent_sees_the_page(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    agent_peers: Callable[[Client], AgentPeer],
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk)
    await add_site(desk, shop)
    agent = await desk.agent("alice")
    customer: Customer = await open_customer(shop)
    page = customer.page
    await customer.shot("desktop-1-button")

    with step("Help is reached with the keyboard, focus visible, the page's CSS kept out"):
        for _ in range(20):
            await page.keyboard.press("Tab")
            if await page.evaluate("() => document.activeElement?.tagName === 'MAYDAY-HELP'"):
                break
        button = await page.evaluate(
            """() => {
                const b = document.querySelector('mayday-help').shadowRoot.activeElement;
                const r = b.getBoundingClientRect();
                const s = getComputedStyle(b);
                return {cls: b.className, focusVisible: b.matches(':focus-visible'),
                        outline: s.outlineStyle, width: r.width, height: r.height,
                        right: r.right, bottom: r.bottom, text: b.textContent,
                        background: s.backgroundColor, fontSize: s.fontSize};
            }"""
        )
        assert button["cls"] == "help", button
        assert button["text"].endswith("Help"), button
        assert button["focusVisible"], button
        assert button["outline"] == "solid", button
        assert button["width"] >= 44, button
        assert button["height"] >= 44, button
        assert button["right"] <= DESKTOP["width"]
        assert button["bottom"] <= DESKTOP["height"]
        assert button["background"] != "rgb(255, 105, 180)", "the page's CSS reached the widget"
        assert button["fontSize"] == "17px", button
        await customer.shot("desktop-2-focus")
        await page.keyboard.press("Enter")

    with step("the agent is rung for this visitor"):
        ring = await agent.next("ring", timeout=15)
        entry = ring["ticket"]
        assert entry["kind"] == "web", entry
        assert entry["device_name"] == f"Web visitor · {shop.origin.partition('://')[2]}"
        assert entry["locale"] == "en"
        await customer.phase("queued", "ringing")
        await customer.shot("desktop-3-waiting")

    with step("the page changes while the agent is rung: recorded ahead, sent after the accept"):
        await customer.phase("ringing")  # the widget records from here on, into its own memory
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Added while ringing';
                document.querySelector('#more').append(p);
            }"""
        )

    peer = agent_peers(agent)
    with step("accept: the widget offers data channels only, and the page arrives"):
        ack = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        session_id = ack["session_id"]
        assert session_id == entry["ticket_id"]
        offer = await agent.next("rtc.offer", timeout=15)
        assert offer["session_id"] == session_id
        assert "m=application" in offer["sdp"]
        assert "m=video" not in offer["sdp"]
        mirror = await peer.answer(offer)
        await assert_eventually(lambda: {"cobrowse", "annotations"} <= set(peer.labels))
        hello = await mirror.wait_message("hello")
        assert json.loads(mirror.frames[0])["type"] == "hello", "hello comes first"
        assert hello["v"] == 1, hello
        assert hello["url"] == shop.origin + "/", hello
        assert hello["title"] == "Kettle shop – step 1"
        assert hello["viewport"] == DESKTOP
        _, snapshot = await mirror.wait_event(snapshot_with("one blue kettle with a whistle"))
        # A change after the recording's snapshot, so a mutation: recorded at the ring, not later.
        await mirror.wait_event(lambda e, t: e["type"] == 3 and "Added while ringing" in t)
        await customer.phase("active")
        assert "alice" in await customer.status()
        await customer.shot("desktop-4-session")

    with step("a DOM change arrives as an incremental mutation"):
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Freshly added: a matching lid';
                document.querySelector('#more').append(p);
            }"""
        )
        await mirror.wait_event(
            lambda e, t: e["type"] == 3 and e["data"]["source"] == 0 and "matching lid" in t
        )

    with step("two-way chat in the panel: as text, never recorded, counted while collapsed"):
        question = "Which <b>colour</b> would you like? 🫖"
        await agent.call("chat.send", {"session_id": session_id, "text": question})
        assert (await agent.next("chat.message"))["sender"] == "agent"
        theirs = page.locator("mayday-help .chat-log .line.theirs .text")
        await theirs.first.wait_for()
        assert await theirs.last.inner_text() == question  # textContent: not markup
        assert await page.locator("mayday-help .chat-log b").count() == 0
        assert await page.locator("mayday-help .chat-log .line.theirs .who").inner_text() == "alice"
        field = page.locator("mayday-help .chat-input")
        assert await field.get_attribute("id") == await page.locator(
            "mayday-help .chat-label"
        ).get_attribute("for")
        reply = "The blue one, with the whistle"
        await field.press_sequentially(reply)
        await field.press("Enter")
        line = await agent.next_matching("chat.message", lambda m: m["sender"] == "device")
        assert (line["session_id"], line["text"]) == (session_id, reply), line
        mine = page.locator("mayday-help .chat-log .line.mine")
        await mine.wait_for()
        assert await mine.locator(".text").inner_text() == reply
        # Emptied once the server acknowledged the line, which may come after its push.
        await expect(field).to_have_value("")
        await customer.shot("desktop-4b-chat")
        # Collapsed: the agent's next line is counted on the Help button, opening reads it.
        await customer.press(".close")
        await agent.call("chat.send", {"session_id": session_id, "text": "Got it, one moment."})
        await page.wait_for_function(
            "() => document.querySelector('mayday-help').dataset.unread === '1'"
        )
        help_text = await page.locator("mayday-help .help").inner_text()
        assert "1" in help_text, help_text
        await customer.shot("desktop-4c-unread")
        await customer.press(".help")
        await page.wait_for_function(
            "() => document.querySelector('mayday-help').dataset.unread === '0'"
        )
        await page.locator("mayday-help .line.theirs >> nth=1").wait_for()
        # Nothing of the chat in the mirror: a page change after it arrives, the chat never did.
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'After the chat';
                document.querySelector('#more').append(p);
            }"""
        )
        await mirror.wait_event(lambda e, t: e["type"] == 3 and "After the chat" in t)
        mirrored = "\n".join(mirror.frames)
        for text in ["colour", reply, "Got it", "chat-log", "Chat with"]:
            assert text not in mirrored, f"the widget's chat ({text!r}) reached the replay"
        unknown = [e for e in mirror.events if e["type"] == 3 and e["data"].get("id") == -1]
        assert unknown == [], f"events about the widget's own nodes: {unknown[:3]}"

    with step("the page's title and viewport changes are reported"):
        await page.set_viewport_size({"width": 1200, "height": 700})
        await mirror.wait_message("page", lambda m: m["viewport"] == {"width": 1200, "height": 700})
        await page.evaluate("() => { document.title = 'Kettle shop – delivery'; }")
        await mirror.wait_message("page", lambda m: m["title"] == "Kettle shop – delivery")
        await page.set_viewport_size(DESKTOP)

    with step("an annotation message does not disturb the recording"):
        peer.channels["annotations"].send(json.dumps({"type": "laser", "x": 0.5, "y": 0.5}))

    with step("masked fields and texts never leave the page"):
        for selector, value in SECRETS.items():
            await page.locator(selector).press_sequentially(value)
        await page.locator(UNMASKED[0]).press_sequentially(UNMASKED[1])
        # The unmasked field was typed last: once its value is here, so is everything before it.
        await mirror.wait_event(
            lambda e, t: e["type"] == 3 and e["data"]["source"] == 5 and UNMASKED[1] in t
        )
        masked = [
            e["data"]["text"]
            for e in mirror.events
            if e["type"] == 3 and e["data"]["source"] == 5 and e["data"]["text"].startswith("*")
        ]
        assert masked, "the masked fields' input events were not sent at all"
        # Every byte the page sent: the cobrowse channel, the signaling socket, request bodies.
        sent = "\n".join(mirror.frames + mirror.texts + customer.sent)
        assert any("help.request" in frame for frame in customer.sent), "socket frames captured"
        # Pieces too ("4111 1111", not "4111": that is in every epoch-ms timestamp of 179…4111…).
        for value in [*SECRETS.values(), "4111 1111", "hunter2", "Mustermann", *HIDDEN_TEXTS]:
            assert value not in sent, f"{value!r} left the page"
        assert "forced-colors" not in sent, "the widget's own CSS went to the agent"
        socket = "\n".join(customer.sent)
        for value in ["one blue kettle", "Added while ringing"]:
            assert value not in socket, f"the page's {value!r} went through the server"
        assert "Loyalty" not in snapshot
        assert "Blocked promo" not in snapshot

    with step("a 3 MB page arrives whole, as a mutation and as a new full snapshot"):
        await page.evaluate(BIG_PAGE_JS)
        await mirror.wait_event(lambda e, t: e["type"] == 3 and "END-OF-BIG" in t, timeout=90)
        mirror.send({"type": "snapshot"})
        event, text = await mirror.wait_event(
            lambda e, t: e["type"] == 2 and "END-OF-BIG" in t, timeout=90
        )
        assert len(text.encode()) > 3_000_000
        line = 'Grüße "Kessel" \\ 🫖 <b>not markup</b> kettle'
        assert any(line in text for text in strings_in(event)), "the text came back changed"
        assert max(len(frame.encode()) for frame in mirror.frames) <= 16 * 1024
        assert max(mirror.parts.values()) > 150
        assert sorted(mirror.parts) == list(range(1, len(mirror.parts) + 1)), "a seq is missing"

    with step("a same-origin navigation resumes the session with a new offer and snapshot"):
        await page.locator("#next").click()
        await page.wait_for_url("**/?step=2")
        offer = await agent.next("rtc.offer", timeout=20)
        # `leaving` is best effort (the page is going away as it is sent): not asserted.
        mirror = await peer.answer(offer)
        hello = await mirror.wait_message("hello")
        assert hello["url"] == shop.origin + "/?step=2"
        assert hello["title"].endswith("step 2")
        await mirror.wait_event(snapshot_with("one blue kettle with a whistle"))
        await customer.phase("active")

    with step("a reload resumes it too: the same session, a new offer, a new snapshot"):
        await page.reload()
        lost = await agent.next("rtc.offer", timeout=20)
        assert lost["session_id"] == session_id
        # That offer is lost on its way (as across a server restart): unanswered, it is made again.
        offer = await agent.next("rtc.offer", timeout=30)
        assert offer["session_id"] == session_id
        assert offer["sdp"] != lost["sdp"], "a new connection's offer"
        mirror = await peer.answer(offer)
        hello = await mirror.wait_message("hello")
        assert hello["url"] == shop.origin + "/?step=2"
        await mirror.wait_event(snapshot_with("one blue kettle with a whistle"))
        await customer.phase("active")

    with step("the customer ends the session after confirming, and rates it"):
        await customer.press(".danger")
        assert "End the session?" in await customer.status()
        await customer.shot("desktop-5-confirm")
        await customer.press(".danger")
        ended = await agent.next("session.ended", timeout=10)
        assert (ended["ended_by"], ended["reason"]) == ("device", "customer_ended")
        await customer.phase("ended")
        await customer.shot("desktop-6-rating")
        await customer.press(".star:nth-child(4)")
        await customer.phase("rated")
        rated = await agent.next("session.rated", timeout=10)
        assert (rated["rating"], rated["comment"]) == (4, ""), rated
        token = await desk.token("alice")

        async def stored() -> bool:
            status, body = await desk.get(f"/api/sessions/{session_id}", token)
            return status == 200 and body.get("rating") == 4

        await assert_eventually(stored, timeout=15, message="the rating was never stored")

    with step("then 'Was your problem solved?': Yes goes with the rating and is kept"):
        solved = page.locator("mayday-help .solved")
        assert await solved.locator("legend").inner_text() == "Was your problem solved?"
        yes = solved.locator('[data-solved="yes"]')
        assert await yes.evaluate("(node) => node.getRootNode().activeElement === node"), (
            "focus moves from the star to the question"
        )
        await customer.shot("desktop-7-thanks")
        await customer.press('.solved [data-solved="yes"]')
        rated = await agent.next("session.rated", timeout=10)
        assert (rated["rating"], rated["solved"]) == (4, True), rated
        assert await yes.get_attribute("aria-pressed") == "true"
        box = await yes.bounding_box()
        assert box is not None
        assert box["height"] >= 48, "a big target"
        await customer.shot("desktop-7b-solved")

        async def solved_stored() -> bool:
            status, body = await desk.get(f"/api/sessions/{session_id}", token)
            return status == 200 and body.get("solved") is True

        await assert_eventually(solved_stored, timeout=15, message="the answer was never stored")

    with step("an optional comment goes with the rating, and the customer is thanked"):
        comment = "Patient & quick <i>thanks</i>"
        await page.locator("mayday-help .comment-input").fill(comment)
        await customer.press(".comment .send")
        rated = await agent.next("session.rated", timeout=10)
        assert (rated["rating"], rated["comment"], rated["solved"]) == (4, comment, True), rated
        await page.locator("mayday-help .comment").wait_for(state="hidden")
        assert await page.locator("mayday-help .solved").is_hidden()
        assert await solved_stored(), "the comment did not take the answer back"
        assert await page.locator("mayday-help .detail").inner_text() == "Your comment was sent."
        await customer.shot("desktop-8-comment")
    customer.assert_clean()


async def test_on_a_phone_in_german_waiting_cancelling_and_a_session(
    make_desk: DeskFactory, make_shop: Callable[..., Any], open_customer: Callable[..., Any]
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk, lang="de-DE")
    await add_site(desk, shop)
    await desk.add_agent("bob", languages=("de",))
    customer: Customer = await open_customer(shop, PHONE)
    await customer.shot("phone-1-button")

    with step("waiting with nobody staffed, then leaving the queue"):
        await customer.press(".help")
        await customer.phase("queued")
        assert "Nummer 1 in der Warteschlange" in await customer.status()
        detail = await customer.page.locator("mayday-help .detail").inner_text()
        assert "niemand erreichbar" in detail
        box = await customer.page.locator("mayday-help .panel").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        await customer.shot("phone-2-queued")
        await customer.press(".secondary")  # Abbrechen
        await customer.phase("over")
        assert await customer.status() == "Sie haben die Warteschlange verlassen."
        await customer.shot("phone-3-cancelled")
        await customer.press(".secondary")  # Schließen
        await customer.phase("idle")

    with step("Help again: the same visitor is rung to a German-speaking agent"):
        agent = await desk.agent("carla", languages=("de",))
        await customer.press(".help")
        ring = await agent.next("ring", timeout=15)
        assert ring["ticket"]["locale"] == "de-DE"
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        await customer.phase("connecting", "active")
        assert "carla" in await customer.status()
        await customer.shot("phone-4-session")
        session_id = ring["ticket"]["ticket_id"]
        await agent.call(
            "chat.send", {"session_id": session_id, "text": "Hallo! Wie kann ich helfen?"}
        )
        await customer.page.locator("mayday-help .line.theirs").wait_for()
        assert await customer.page.locator("mayday-help .chat-label").inner_text() == (
            "Nachricht an carla"
        )
        await customer.page.locator("mayday-help .chat-input").fill("Der Wasserkocher pfeift nicht")
        await customer.page.locator("mayday-help .chat-form .send").click()
        await customer.page.locator("mayday-help .line.mine").wait_for()
        box = await customer.page.locator("mayday-help .panel").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        await customer.shot("phone-4b-chat")

    with step("ending from the phone"):
        await customer.press(".danger")
        assert (await customer.status()).startswith("Sitzung beenden?")
        await customer.shot("phone-5-confirm")
        await customer.press(".danger")
        await customer.phase("ended")
        await customer.shot("phone-6-rating")
        await customer.press(".star:nth-child(5)")
        await customer.phase("rated")
        assert await customer.status() == "Danke für Ihre Rückmeldung!"
        solved = customer.page.locator("mayday-help .solved")
        assert await solved.locator("legend").inner_text() == "Wurde Ihr Problem gelöst?"
        assert await solved.locator(".answer").all_inner_texts() == ["Ja", "Nein"]
        box = await customer.page.locator("mayday-help .panel").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"]
        await customer.press('.solved [data-solved="no"]')
        no = solved.locator('[data-solved="no"]')
        assert await no.get_attribute("aria-pressed") == "true"
        await customer.shot("phone-7-solved")
    customer.assert_clean()


async def test_a_page_whose_origin_is_not_listed_is_told_clearly(
    make_desk: DeskFactory, make_shop: Callable[..., Any], open_customer: Callable[..., Any]
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk)
    row = await desk.app[RECORDS].add_site("elsewhere", ["https://shop.example"])
    shop.key = row.key  # a real key, used from a page the site did not list
    customer: Customer = await open_customer(shop)
    await customer.press(".help")
    await customer.phase("error")
    assert await customer.status() == "Help isn't available on this page."
    await customer.shot("desktop-refused")
    # Nothing to retry: the page is not allowed, trying again would not change that.
    assert await customer.page.locator("mayday-help .actions button").all_inner_texts() == ["Close"]
