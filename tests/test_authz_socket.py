"""Every socket event authorizes its sender for the session it names: a table, built from the
protocol's own registries, sends each inbound event as each wrong party and expects the documented
refusal, with nothing reaching the session's parties.

The world of every test: a live session S between device D and agent A with remote control
granted (so that a forgotten check would relay input or change consent), a live ring offered to
agent R for device G, and the wrong parties: an idle agent, an agent and a device in their own
session, an idle device, a web visitor in its own session. Parties whose credentials are not (or no
longer) good cannot even join the namespace: they send every event anyway, on the raw connection,
and get no answer. "Nothing reached" is proved with a marker chat line from D after each attempt:
once D and A have it, anything the attempt caused would have arrived before it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from server.appkeys import ORIGINS, RECORDS, SIGNER
from server.auth import TokenSigner, hash_device_secret, hash_password, new_device_secret
from server.handlers import HANDLERS
from signaling import INBOUND, Event, Role

from .conftest import AGENT_PASSWORD, Desk, DeskFactory
from .services import flush
from .support import DEFAULT_TIMEOUT, Client, agent_auth, device_auth

SHOP = "https://shop.example"
PASSWORD_HASH = hash_password(AGENT_PASSWORD)
"""One argon2 hash for every agent of the module: the world is built many times."""
SENDABLE = sorted({event for events in INBOUND.values() for event in events})
BACKGROUND = {"queue.update", "ticket.update"}
"""Broadcasts every party gets whoever changes the queue: no sign of a session leaking."""


@pytest.fixture
def live_store(request: pytest.FixtureRequest) -> str | None:
    """In memory (the checks are the desk's, the same for both stores); Redis only where a test
    asks for it (the restart, which only a shared store survives)."""
    if getattr(request, "param", "memory") == "memory":
        return None
    url: str = request.getfixturevalue("redis_server")
    flush(url)
    return url


# --- the table: every inbound event, its payload and its documented refusal -----------------------

Expect = str | dict[str, str]
REFUSALS: dict[Event, Expect] = {
    # Not about a session: the sender's own ticket or presence (allowed), or no second ticket.
    Event.HELP_REQUEST: {"device-idle": "ok", "device-busy": "conflict", "web-busy": "conflict"},
    Event.PRESENCE_SET: "ok",
    # A ring offered to another agent (§6.2).
    Event.RING_ACCEPT: "forbidden",
    Event.RING_DECLINE: "forbidden",
    # S is being served: no longer in the queue for anyone to take (§6.2).
    Event.QUEUE_TAKE: "conflict",
    # Another device's session: `not_found`, never `conflict`, which would tell it is live (§6.1).
    Event.SESSION_RATE: "not_found",
    # Everything naming a session the sender is not a party of (§6.3, §10).
    Event.HELP_CANCEL: "not_party",
    Event.SESSION_END: "not_party",
    Event.RTC_OFFER: "not_party",
    Event.RTC_ANSWER: "not_party",
    Event.RTC_ICE: "not_party",
    Event.RTC_STATE: "not_party",
    Event.CHAT_SEND: "not_party",
    Event.SESSION_NOTE: "not_party",
    Event.SESSION_TRANSFER: "not_party",
    Event.CONTROL_REQUEST: "not_party",
    Event.CONTROL_RELEASE: "not_party",
    Event.CONTROL_INPUT: "not_party",
    Event.CONTROL_GRANT: "not_party",
    Event.CONTROL_DENY: "not_party",
    Event.CONTROL_REVOKE: "not_party",
    Event.CONTROL_DROPPED: "not_party",
    Event.CALLBACK_REQUEST: "not_party",
    # A callback rings only its own customer; any other ring is over for them (§20.3).
    Event.CALLBACK_ANSWER: "not_found",
    # Supervisors' events (signaling.EVENT_ROLES): an agent account is refused.
    Event.WALLBOARD_SUBSCRIBE: "forbidden",
    Event.WALLBOARD_UNSUBSCRIBE: "forbidden",
    Event.SESSION_WATCH: "forbidden",
    Event.SESSION_LEAVE: "forbidden",
}
"""The documented answer to a wrong party, per event; a role that may not send the event at all
gets `forbidden` (§6), whatever this says."""

EXAMPLES: dict[str, Callable[[World], Any]] = {
    "session_id": lambda w: w.session_id,
    "ticket_id": lambda w: w.session_id,
    "ring_id": lambda w: w.ring_id or "rng_thisringisover",
    "request_id": lambda w: w.request_id,
    "sdp": lambda _w: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=intruder\r\nt=0 0\r\n",
    "candidate": lambda _w: {
        "candidate": "candidate:1 1 udp 2130706431 192.0.2.9 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    },
    "state": lambda _w: "connected",
    "text": lambda _w: "intruder was here",
    "status": lambda _w: "away",
    "seq": lambda _w: 7,
    "events": lambda _w: [{"type": "tap", "x": 0.5, "y": 0.5}],
    "count": lambda _w: 1,
    "reason": lambda _w: "no_consent",
    "rating": lambda _w: 1,
    "to": lambda _w: "queue",
    "accept": lambda _w: True,
}
"""A value for each field an inbound payload model has, by field name."""


def payload(event: Event, world: World) -> dict[str, Any]:
    """A minimal valid payload of ``event`` about the world's session S, from its model."""
    model = HANDLERS[event].model
    body: dict[str, Any] = {}
    for name, spec in model.model_fields.items():
        if name in EXAMPLES:
            body[name] = EXAMPLES[name](world)
        elif spec.is_required():
            pytest.fail(f"{event}: add an example for {model.__name__}.{name} to EXAMPLES")
    model.model_validate(body)  # valid-looking: only the sender is wrong
    return body


def expected(event: Event, role: Role, kind: str) -> str:
    if event not in INBOUND[role]:
        return "forbidden"
    row = REFUSALS[event]
    return row if isinstance(row, str) else row[kind]


def test_the_table_has_a_row_for_every_inbound_event() -> None:
    assert set(REFUSALS) == set(SENDABLE) == set(HANDLERS)


# --- the world ------------------------------------------------------------------------------------


@dataclass
class Party:
    name: str
    kind: str
    client: Client
    id: str
    auth: dict[str, Any]

    @property
    def role(self) -> Role:
        return "agent" if self.client.role == "agent" else "device"


@dataclass
class World:
    desk: Desk
    device: Client
    agent: Client
    device_creds: dict[str, str]
    agent_id: str
    agent_token: str
    session_id: str
    request_id: str
    witness: dict[str, Any]
    """Connect auth of a device no test looks at: it proves a raw connection was served."""
    ring_id: str | None = None
    ringee: Client | None = None
    rung: Client | None = None
    intruders: list[Party] = field(default_factory=list)
    baseline: dict[int, int] = field(default_factory=dict)
    markers: int = 0

    def settle(self) -> None:
        """From here on, D and A must receive nothing but markers and broadcasts."""
        for client in (self.device, self.agent, *(p.client for p in self.intruders)):
            self.baseline[id(client)] = len(client.received)

    def since(self, client: Client) -> list[tuple[str, Any]]:
        return client.received[self.baseline[id(client)] :]

    async def untouched(self, attempt: str) -> None:
        """D's marker chat line reaches D and A; before it, nothing came from ``attempt``."""
        self.markers += 1
        text = f"marker {self.markers}"
        ack = await self.device.call("chat.send", {"session_id": self.session_id, "text": text})
        assert ack.get("ok"), (attempt, "the session's own parties lost their chat", ack)
        for client in (self.device, self.agent):
            await client.next_matching("chat.message", lambda m: m["text"] == text)
            leaked = [
                (event, data)
                for event, data in self.since(client)
                if event not in BACKGROUND
                and not (event == "chat.message" and data["text"].startswith("marker "))
            ]
            assert leaked == [], f"{attempt}: reached the session's {client.role}: {leaked}"
        for party in self.intruders:
            about_s = [e for e, d in self.since(party.client) if self.session_id in json.dumps(d)]
            assert about_s == [], f"{attempt}: {party.name} heard of session S: {about_s}"


async def add_agent(desk: Desk, name: str) -> tuple[str, str]:
    """A new agent's (id, token), without argon2 on the way (the token as login signs it)."""
    row = await desk.app[RECORDS].add_agent(name, PASSWORD_HASH, ["en"], [])
    token, _ = desk.app[SIGNER].issue(row.id, row.name, generation=row.token_generation)
    return row.id, token


async def connect_agent(desk: Desk, token: str, *, available: bool = False) -> Client:
    client = await desk.client("agent").connect(agent_auth(token))
    await client.next("presence.update")
    if available:
        assert (await client.call("presence.set", {"status": "available"}))["ok"]
    return client


async def web_visitor(desk: Desk) -> tuple[Client, str]:
    records = desk.app[RECORDS]
    site = await records.add_site("shop", [SHOP])
    await desk.app[ORIGINS].refresh(lambda: _origins(desk))
    secret = new_device_secret()
    row = await records.add_device("visitor", hash_device_secret(secret), site_id=site.id)
    client = desk.client("device")
    await client.sio.connect(
        desk.url,
        namespaces=["/device"],
        auth=device_auth({"device_id": row.id, "device_secret": secret}),
        transports=["websocket"],
        headers={"Origin": SHOP},
        wait_timeout=DEFAULT_TIMEOUT,
    )
    return client, row.id


async def _origins(desk: Desk) -> set[str]:
    return {origin for site in await desk.app[RECORDS].list_sites() for origin in site.origins}


async def pair(desk: Desk, agent_name: str, device: Client) -> tuple[Client, str, str, str]:
    """A new agent accepts ``device``'s help request: (agent, agent id, token, session id).
    Every other agent is away, so the ring can go nowhere else."""
    agent_id, token = await add_agent(desk, agent_name)
    agent = await connect_agent(desk, token, available=True)
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    assert (await agent.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]
    await device.next("session.started")
    await agent.next("session.started")
    assert (await agent.call("presence.set", {"status": "away"}))["ok"]
    return agent, agent_id, token, ticket["id"]


async def build_world(desk: Desk, *, full: bool = True) -> World:
    device, creds = await desk.device("D")
    agent, agent_id, token, session_id = await pair(desk, "alice", device)
    control = (await agent.call("control.request", {"session_id": session_id}))["control"]
    request_id = control["request_id"]
    ack = await device.call("control.grant", {"session_id": session_id, "request_id": request_id})
    assert ack["control"]["state"] == "granted"
    _, witness = await desk.device("witness")
    world = World(
        desk, device, agent, creds, agent_id, token, session_id, request_id, device_auth(witness)
    )
    bob_id, bob_token = await add_agent(desk, "bob")
    bob = await connect_agent(desk, bob_token)
    world.intruders.append(Party("idle agent", "agent-idle", bob, bob_id, agent_auth(bob_token)))
    fred, fred_creds = await desk.device("F")
    fred_id, fred_auth = fred_creds["device_id"], device_auth(fred_creds)
    world.intruders.append(Party("idle device", "device-idle", fred, fred_id, fred_auth))
    if full:
        erin, erin_creds = await desk.device("E")
        carol, carol_id, carol_token, _ = await pair(desk, "carol", erin)
        carol_auth, erin_id = agent_auth(carol_token), erin_creds["device_id"]
        world.intruders += [
            Party("agent in its own session", "agent-busy", carol, carol_id, carol_auth),
            Party(
                "device in its own session", "device-busy", erin, erin_id, device_auth(erin_creds)
            ),
        ]
        wendy, wendy_id = await web_visitor(desk)
        await pair(desk, "walt", wendy)
        world.intruders.append(
            Party("web visitor of another session", "web-busy", wendy, wendy_id, {})
        )
        _, rita_token = await add_agent(desk, "rita")
        world.ringee = await connect_agent(desk, rita_token, available=True)
        world.rung, _ = await desk.device("G")
        await world.rung.call("help.request", {})
        world.ring_id = (await world.ringee.next("ring"))["ring_id"]
    world.settle()
    return world


async def the_ring_is_still_rita_s(world: World) -> None:
    """Nobody took or dropped the ring: its own agent accepts it now, and G gets her."""
    assert world.ringee is not None
    assert world.rung is not None
    ack = await world.ringee.call("ring.accept", {"ring_id": world.ring_id})
    assert ack.get("ok"), ack
    started = await world.rung.next("session.started")
    assert started["agent"]["name"] == "rita"


async def timeline_actors(world: World) -> set[str | None]:
    status, body = await world.desk.get(
        f"/api/sessions/{world.session_id}/events", world.agent_token
    )
    assert status == 200, body
    return {entry["actor"]["id"] for entry in body["events"]}


# --- connected wrong parties: each event, as each of them -------------------------------------------


@pytest.mark.parametrize("event", SENDABLE, ids=str)
async def test_an_event_from_a_wrong_party_is_refused(make_desk: DeskFactory, event: Event) -> None:
    world = await build_world(await make_desk(ring_timeout_s=120))
    failures = []
    for party in world.intruders:
        want = expected(event, party.role, party.kind)
        ack = await party.client.call(event.value, payload(event, world))
        got = "ok" if ack.get("ok") is True else ack["error"]["code"]
        if got != "ok":
            assert list(ack) == ["error"], ack
            assert sorted(ack["error"]) == ["code", "message"], ack
            assert ack["error"]["message"], ack
        if got != want:
            failures.append(f"{event} by the {party.name}: {want} expected, got {ack}")
        await world.untouched(f"{event} by the {party.name}")
    assert failures == []
    assert not {p.id for p in world.intruders} & await timeline_actors(world)
    await the_ring_is_still_rita_s(world)


# --- parties that cannot sign in: refused at connect, and deaf on the raw connection ----------------


async def _frames(ws: aiohttp.ClientWebSocketResponse, until: str) -> list[str]:
    """Frames up to and including the first that starts with ``until`` (pings answered)."""
    frames = []
    while True:
        frame = await ws.receive_str(timeout=DEFAULT_TIMEOUT)
        if frame == "2":
            await ws.send_str("3")
            continue
        frames.append(frame)
        if frame.startswith(until):
            return frames


async def raw_attempt(
    world: World, role: Role, auth: dict[str, Any], *, origin: str | None = None
) -> dict[str, Any]:
    """Connect as ``role`` with ``auth`` (refused), send every event anyway, then sign the witness
    in on the same connection: its answer comes after any ack the events could have had."""
    namespace = f"/{role}"
    url = f"{world.desk.url}/socket.io/?EIO=4&transport=websocket"
    headers = {"Origin": origin} if origin else {}
    async with world.desk.http.ws_connect(url, headers=headers) as ws:
        assert (await ws.receive_str(timeout=DEFAULT_TIMEOUT)).startswith("0{")
        await ws.send_str(f"40{namespace},{json.dumps(auth)}")
        refused = (await _frames(ws, f"44{namespace},"))[-1]
        for ack_id, event in enumerate(INBOUND[role], 1):
            frame = json.dumps([event.value, payload(event, world)])
            await ws.send_str(f"42{namespace},{ack_id}{frame}")
        await ws.send_str(f"40/device,{json.dumps(world.witness)}")
        answered = await _frames(ws, "40/device,")
    acks = [frame for frame in answered if frame.startswith("43")]
    assert acks == [], f"a socket that never signed in was answered: {acks}"
    error: dict[str, Any] = json.loads(refused.partition(",")[2])["data"]["error"]
    return error


async def _expired(world: World) -> tuple[Role, dict[str, Any]]:
    signer: TokenSigner = world.desk.app[SIGNER]
    token, _ = signer.issue(world.agent_id, "alice", now=time.time() - 2 * signer.ttl_s)
    return "agent", agent_auth(token)


async def _forged(world: World) -> tuple[Role, dict[str, Any]]:
    token, _ = TokenSigner("not-the-server-key-" + "y" * 32, 3600).issue(world.agent_id, "alice")
    return "agent", agent_auth(token)


async def _ghost(world: World) -> tuple[Role, dict[str, Any]]:
    token, _ = world.desk.app[SIGNER].issue("agt_nobodyhere0000", "ghost")
    return "agent", agent_auth(token)


async def _removed_agent(world: World) -> tuple[Role, dict[str, Any]]:
    _, token = await add_agent(world.desk, "zed")
    assert await world.desk.app[RECORDS].remove_agent("zed")  # `mayday agents remove zed`
    return "agent", agent_auth(token)


async def _signed_out(world: World) -> tuple[Role, dict[str, Any]]:
    _, token = await add_agent(world.desk, "sam")
    headers = {"Authorization": f"Bearer {token}"}
    async with world.desk.http.post(f"{world.desk.url}/api/agents/logout", headers=headers) as r:
        assert r.status == 200, await r.text()
    return "agent", agent_auth(token)


async def _removed_visitor(world: World) -> tuple[Role, dict[str, Any]]:
    records = world.desk.app[RECORDS]
    site = await records.add_site("gone", ["https://gone.example"])
    secret = new_device_secret()
    row = await records.add_device("visitor", hash_device_secret(secret), site_id=site.id)
    assert await records.remove_site("gone")  # `mayday sites remove gone`: its visitors go too
    return "device", device_auth({"device_id": row.id, "device_secret": secret})


async def _stolen_device_id(world: World) -> tuple[Role, dict[str, Any]]:
    return "device", device_auth(world.device_creds) | {"device_secret": "guessed-" + "z" * 30}


Credentials = Callable[[World], Awaitable[tuple[Role, dict[str, Any]]]]
CANNOT_SIGN_IN: dict[str, tuple[Credentials, str]] = {
    "expired-token": (_expired, "token_expired"),
    "forged-token": (_forged, "unauthorized"),
    "token-of-no-agent": (_ghost, "unauthorized"),
    "removed-agent": (_removed_agent, "unauthorized"),
    "signed-out-agent": (_signed_out, "unauthorized"),
    "removed-web-visitor": (_removed_visitor, "unauthorized"),
    "device-id-without-its-secret": (_stolen_device_id, "unauthorized"),
}


@pytest.mark.parametrize("who", list(CANNOT_SIGN_IN))
async def test_a_party_that_cannot_sign_in_reaches_nothing(
    make_desk: DeskFactory, who: str
) -> None:
    world = await build_world(await make_desk(ring_timeout_s=120))
    make, code = CANNOT_SIGN_IN[who]
    role, auth = await make(world)
    # A web visitor's socket comes from its site's page; the shop's origin passes Engine.IO.
    error = await raw_attempt(world, role, auth, origin=SHOP if role == "device" else None)
    assert error["code"] == code, error
    await world.untouched(f"every {role} event by the {who}")
    await the_ring_is_still_rita_s(world)


# --- after a restart: the same parties, the same answers ----------------------------------------------


@pytest.mark.parametrize("live_store", ["redis"], indirect=True)
async def test_after_a_restart_the_session_is_still_only_its_parties(
    make_desk: DeskFactory,
) -> None:
    first = await make_desk()
    world = await build_world(first, full=False)
    await first.server.close()  # every socket drops; the live state stays in Redis

    desk = await make_desk()
    world.desk = desk
    world.device = await desk.client("device").connect(device_auth(world.device_creds))
    world.agent = await desk.client("agent").connect(agent_auth(world.agent_token))
    for client in (world.device, world.agent):
        started = await client.next("session.started")
        assert (started["session_id"], started["resumed"]) == (world.session_id, True)
    for party in world.intruders:
        party.client = await desk.client(party.role).connect(party.auth)
    world.settle()
    await world.untouched("the restart")
    for event in SENDABLE:
        for party in world.intruders:
            want = expected(event, party.role, party.kind)
            if event in (Event.RING_ACCEPT, Event.RING_DECLINE) and party.role == "agent":
                want = "not_found"  # no ring lives in this world: S's ring is long over
            ack = await party.client.call(event.value, payload(event, world))
            got = "ok" if ack.get("ok") is True else ack["error"]["code"]
            assert got == want, f"{event} by the {party.name} after the restart: {ack}"
            await world.untouched(f"{event} by the {party.name} after the restart")
    for who in (
        "expired-token",
        "forged-token",
        "token-of-no-agent",
        "device-id-without-its-secret",
    ):
        make, code = CANNOT_SIGN_IN[who]
        role, auth = await make(world)
        assert (await raw_attempt(world, role, auth))["code"] == code, who
    await world.untouched("the refused sign-ins after the restart")
    assert (await desk.get("/api/queue", world.agent_token))[0] == 200, "A's token died"
    for who in ("expired-token", "forged-token", "token-of-no-agent"):
        make, code = CANNOT_SIGN_IN[who]
        status, answer = await desk.get("/api/queue", (await make(world))[1]["token"])
        assert (status, answer["error"]["code"]) == (401, code), who


async def test_only_its_own_device_rates_an_ended_session(make_desk: DeskFactory) -> None:
    world = await build_world(await make_desk(), full=False)
    ack = await world.agent.call("session.end", {"session_id": world.session_id})
    assert ack == {"ok": True}
    await world.device.next("session.ended")
    fred = world.intruders[1]
    rate = {"session_id": world.session_id, "rating": 1}
    ack = await fred.client.call("session.rate", rate)
    assert ack["error"]["code"] == "not_found", ack  # "no ended session … of yours" (§6.1)
    assert await world.device.call("session.rate", rate | {"rating": 5}) == {"ok": True}
    status, body = await world.desk.get(f"/api/sessions/{world.session_id}", world.agent_token)
    assert (status, body["rating"]) == (200, 5)
    assert fred.id not in await timeline_actors(world)
