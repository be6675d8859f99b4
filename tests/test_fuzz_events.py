"""Every inbound socket event fuzzed against a live server, from both parties of a live session.

For each event of ``signaling.INBOUND``, per role (a new event is fuzzed as soon as it is in the
table), hypothesis sends payloads generated from the event's JSON Schema (hypothesis-jsonschema),
half of them naming the live session, and arbitrary JSON: nested, huge strings, wrong types,
nulls, NaN, binary attachments, the model's own fields with values of any type. Every ack must be
``{"ok": true, ...}`` or ``{"error": {"code", "message"}}`` with a documented code other than
``internal`` and a message; none may time out. Afterwards the session still works both ways (chat,
a remote-control request and its grant) and the server logged no error: no crashed handler
(``event.failed``), nothing else at level error.

hypothesis drives synchronous tests, so it runs in a thread and hands each frame to the event loop,
which serves the server and the two clients.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, get_args

import pytest
import structlog
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from server.appkeys import RECORDS
from signaling import INBOUND, ErrorCode, Event, Role

from .conftest import Desk, DeskFactory
from .support import Client

SCHEMA_EXAMPLES = 25
"""Schema-valid payloads per event and role (each also sent naming the live session)."""
ARBITRARY_EXAMPLES = 25
"""Arbitrary JSON payloads per event and role."""
FLEET_SHARE = 0.5
"""The run on Redis and PostgreSQL sends this share of the cases: what it adds is the stores
behind the same handlers, which the in-memory run fuzzes in full."""
ROLES: tuple[Role, ...] = get_args(Role)
CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL.value}
"""What a refusal may say: any documented code but ``internal``, which means a crashed handler."""
ENDS_THE_SESSION = {Event.SESSION_END, Event.SESSION_TRANSFER}
"""Events never sent naming the live session, which must outlive the run."""
ACK_TIMEOUT_S = 15.0
T = TypeVar("T")

# --- payloads ---------------------------------------------------------------------------------

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(),  # NaN and the infinities too: the client writes them as NaN/Infinity
    st.text(max_size=40),
    st.sampled_from(["", "\x00", "\ud7ff\ue000", "💥" * 40, "s1", "ses_", "a" * 65]),
    st.binary(max_size=32),  # a socket.io binary attachment
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def huge_strings() -> st.SearchStrategy[str]:
    """Strings around the payload cap (64 KiB by default) and over it, but below Engine.IO's
    frame cap (twice that), over which the connection is closed by design (§2.2)."""
    sizes = st.sampled_from([2_000, 32_000, 65_000, 65_600, 100_000])
    escaped = st.just("\n" * 33_000)  # 66 000 bytes as JSON
    return st.builds(lambda n, c: c * n, sizes, st.sampled_from(["x", "0"])) | escaped


def nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def arbitrary(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = list(model.model_fields)
    wrong_types = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSON))
    return st.one_of(
        JSON,
        wrong_types,
        huge_strings(),
        # A model with no fields ({}: wallboard.subscribe) gets a made-up one.
        st.builds(lambda name, big: {name: big}, st.sampled_from(fields or ["x"]), huge_strings()),
        st.integers(min_value=1, max_value=400).map(nested),
        st.builds(lambda inner: dict.fromkeys(fields, inner), JSON),
    )


def from_model(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    schema = model.model_json_schema()
    return from_schema(schema, schema.get("$defs", {}))


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid by ``schema``, for the keywords pydantic writes (hypothesis-jsonschema 0.23,
    the latest, no longer runs on current hypothesis: it uses a removed internal API)."""
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[schema["$ref"].split("/")[-1]], defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(option, defs) for option in schema[key]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in {"integer", "number"}:
        low, high = schema.get("minimum"), schema.get("maximum")
        if kind == "integer":
            return st.integers(min_value=low, max_value=high)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength"))
    if kind == "array":
        return st.lists(
            from_schema(schema["items"], defs),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    assert kind == "object", schema
    properties = {name: from_schema(sub, defs) for name, sub in schema["properties"].items()}
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: value for name, value in properties.items() if name in required},
        optional={name: value for name, value in properties.items() if name not in required},
    )


def naming(session_id: str) -> Callable[[Any], Any]:
    def put(payload: Any) -> Any:
        if isinstance(payload, dict) and "session_id" in payload:
            return {**payload, "session_id": session_id}
        return payload

    return put


def check_ack(ack: Any) -> str:
    """The ack's outcome (``ok`` or the error code); fails on anything else."""
    assert isinstance(ack, dict), f"the ack is not an object: {ack!r}"
    if "ok" in ack:
        assert ack["ok"] is True, ack
        return "ok"
    assert set(ack) == {"error"}, ack
    error = ack["error"]
    assert isinstance(error, dict), ack
    assert set(error) == {"code", "message"}, ack
    assert error["code"] in CODES, ack
    assert isinstance(error["message"], str), ack
    assert error["message"].strip(), ack
    return str(error["code"])


# --- the run ----------------------------------------------------------------------------------


class Fuzz:
    """Sends generated payloads from a thread through the event loop, and counts them."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        clients: dict[Role, Client],
        session_id: str,
        *,
        postgres: bool,
    ) -> None:
        self.loop = loop
        self.clients = clients
        self.session_id = session_id
        self.postgres = postgres
        self.counts: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(ACK_TIMEOUT_S + 5)

    def send(self, role: Role, event: str, payload: Any, label: str) -> None:
        client = self.clients[role]
        ack = self.on_loop(
            asyncio.wait_for(
                client.sio.call(event, payload, namespace=client.namespace, timeout=ACK_TIMEOUT_S),
                ACK_TIMEOUT_S + 1,
            )
        )
        self.counts[f"{role} {event} ({label})"] += 1
        self.outcomes[check_ack(ack)] += 1

    def fuzz(
        self, role: Role, event: str, strategy: st.SearchStrategy[Any], label: str, examples: int
    ) -> None:
        @settings(
            max_examples=round(examples * FLEET_SHARE) if self.postgres else examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(payload=strategy)
        def send(payload: Any) -> None:
            self.send(role, event, payload, label)

        send()

    def run(self) -> None:
        for role in ROLES:
            for event, model in INBOUND[role].items():
                schema = from_model(model)
                self.fuzz(role, event.value, schema, "schema", SCHEMA_EXAMPLES)
                if event not in ENDS_THE_SESSION:
                    live = schema.map(naming(self.session_id))
                    self.fuzz(role, event.value, live, "schema, live session", SCHEMA_EXAMPLES)
                self.fuzz(role, event.value, arbitrary(model), "arbitrary", ARBITRARY_EXAMPLES)
            names = st.text(max_size=70) | st.sampled_from(["connect", "disconnect", "message"])
            self.fuzz_names(role, names)

    def fuzz_names(self, role: Role, names: st.SearchStrategy[str]) -> None:
        """Unknown event names, and the other role's events: refused, never crashed."""
        others = [e.value for e in Event if e not in INBOUND[role]]
        strategy = st.tuples(names | st.sampled_from(others), JSON)

        @settings(
            max_examples=round(ARBITRARY_EXAMPLES * 2 * (FLEET_SHARE if self.postgres else 1)),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(frame=strategy)
        def send(frame: tuple[str, Any]) -> None:
            name, payload = frame
            assume(name not in {e.value for e in INBOUND[role]})
            self.send(role, name, payload, "unknown or forbidden event")

        send()


def fast_settings() -> dict[str, Any]:
    """The per-socket event rate limit, where the server has one, high enough for the run (the
    fuzzer sends as fast as the acks come back)."""
    from server.settings import Settings

    wanted = {"event_rate_per_s": 1_000_000.0, "event_burst": 1_000_000}
    return {key: value for key, value in wanted.items() if key in Settings.model_fields}


async def test_every_inbound_event_survives_fuzzing(
    make_desk: DeskFactory, live_store: str | None
) -> None:
    desk: Desk = await make_desk(**fast_settings())
    device, agent, _registered, session_id = await desk.session("alice")
    fuzz = Fuzz(
        asyncio.get_running_loop(),
        {"device": device, "agent": agent},
        session_id,
        postgres=live_store is not None,
    )
    with structlog.testing.capture_logs() as logs:
        try:
            await asyncio.to_thread(fuzz.run)
        finally:
            total = sum(fuzz.counts.values())
            for label, count in sorted(fuzz.counts.items()):
                print(f"{count:5d}  {label}")
            print(f"{total:5d}  socket cases in all; acks: {dict(fuzz.outcomes)}")
        await still_works(desk, device, agent, session_id)
    failures = [entry for entry in logs if entry.get("log_level") in {"error", "critical"}]
    assert not failures, f"the server logged errors: {failures[:5]}"
    assert total >= len(fuzz.counts) * 5
    assert "ok" in fuzz.outcomes  # the live-session payloads got through


def said(text: str) -> Callable[[Any], bool]:
    return lambda message: bool(message["text"] == text)


async def still_works(desk: Desk, device: Client, agent: Client, session_id: str) -> None:
    """Chat both ways, presence, and a remote-control request the customer grants."""
    ack = await agent.call("presence.set", {"status": "available"})
    assert ack == {"ok": True, "status": "available"}
    for sender, receiver, text in ((agent, device, "still there?"), (device, agent, "yes!")):
        ack = await sender.call("chat.send", {"session_id": session_id, "text": text})
        assert ack.get("ok") is True, ack
        line = await receiver.next_matching("chat.message", said(text))
        assert line["session_id"] == session_id
    # Whatever the fuzzing left of remote control, release it, then ask and grant afresh.
    await agent.call("control.release", {"session_id": session_id})
    device.drain("control.request")
    agent.drain("control.state")
    ack = await agent.call("control.request", {"session_id": session_id})
    assert ack.get("ok") is True, ack
    request = await device.next_matching("control.request", lambda r: r["session_id"] == session_id)
    ack = await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert ack.get("ok") is True, ack
    await agent.next_matching(
        "control.state",
        lambda s: s["session_id"] == session_id and s["state"] == "granted",
    )
    live = await desk.desk.session(session_id)
    assert live is not None
    assert live.state.value in {"connecting", "active"}


async def test_a_nul_character_is_refused_and_records_keep_being_written(desk: Desk) -> None:
    """Text with U+0000 is valid JSON, but PostgreSQL cannot store it: acked, it would fail every
    write of its session's record (and of the batch around it). So it is refused at the door."""
    device, agent, _registered, session_id = await desk.session("alice")
    with structlog.testing.capture_logs() as logs:
        ack = await agent.call("session.note", {"session_id": session_id, "text": "a\x00b"})
        assert check_ack(ack) == ErrorCode.BAD_REQUEST.value, ack
        assert "NUL" in ack["error"]["message"], ack
        ack = await agent.call("session.end", {"session_id": session_id, "reason": "resolved"})
        assert ack.get("ok") is True, ack
        row = await desk.app[RECORDS].session(session_id)
        assert row is not None
        assert row.ended_at is not None, "an acknowledged end is stored"
    assert not [entry for entry in logs if entry.get("log_level") == "error"]
    del device


@pytest.mark.parametrize("value", [math.nan, math.inf])
async def test_not_a_number_is_refused(desk: Desk, value: float) -> None:
    """JSON has no NaN: python-socketio reads the non-standard ``NaN``/``Infinity`` anyway."""
    device, _agent, _registered, session_id = await desk.session("alice")
    ack = await device.call("control.dropped", {"session_id": session_id, "seq": value})
    assert check_ack(ack) == ErrorCode.BAD_REQUEST.value
