"""The wire protocol without a server: decode() of every inbound event, its refusals, the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from signaling import INBOUND, OUTBOUND, ErrorCode, Event, ProtocolError, Role, decode
from signaling.schema import DEFAULT_PATH, build_schema

ROOT = Path(__file__).resolve().parent.parent
ROLES: tuple[Role, ...] = get_args(Role)

ICE = {"candidate": "candidate:1 1 udp 2130706431 10.0.0.2 54400 typ host", "sdpMid": "0"}
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"

VALID: dict[Event, dict[str, Any]] = {
    Event.HELP_REQUEST: {"topic": "kindle", "locale": "de-DE"},
    Event.HELP_CANCEL: {"ticket_id": "t_1"},
    Event.CALLBACK_REQUEST: {"ticket_id": "t_1"},
    Event.CALLBACK_ANSWER: {"ring_id": "r1", "accept": True},
    Event.SESSION_END: {"session_id": "s-1", "reason": "resolved"},
    Event.PRESENCE_SET: {"status": "available"},
    Event.RING_ACCEPT: {"ring_id": "r1"},
    Event.RING_DECLINE: {"ring_id": "r1"},
    Event.QUEUE_TAKE: {"ticket_id": "s1"},
    Event.RTC_OFFER: {"session_id": "s1", "sdp": SDP},
    Event.RTC_ANSWER: {"session_id": "s1", "sdp": SDP},
    Event.RTC_ICE: {"session_id": "s1", "candidate": ICE},
    Event.RTC_STATE: {"session_id": "s1", "state": "connected"},
    Event.CONTROL_REQUEST: {"session_id": "s1"},
    Event.CONTROL_RELEASE: {"session_id": "s1"},
    Event.CONTROL_GRANT: {"session_id": "s1", "request_id": "ctl_1"},
    Event.CONTROL_DENY: {"session_id": "s1", "request_id": "ctl_1"},
    Event.CONTROL_REVOKE: {"session_id": "s1"},
    Event.CONTROL_INPUT: {
        "session_id": "s1",
        "seq": 3,
        "events": [
            {"type": "tap", "x": 0.25, "y": 0.75},
            {"type": "drag", "x0": 0.1, "y0": 0.1, "x1": 0.9, "y1": 0.1},
            {"type": "scroll", "x": 0.5, "y": 0.5, "dy": 0.2},
            {"type": "key", "key": "Enter"},
            {"type": "text", "text": "hello"},
        ],
    },
    Event.CONTROL_DROPPED: {"session_id": "s1", "seq": 3, "count": 2, "reason": "no_consent"},
    Event.SESSION_RATE: {"session_id": "s1", "rating": 5},
    Event.CHAT_SEND: {"session_id": "s1", "text": "Tap the blue switch, please."},
    Event.SESSION_NOTE: {"session_id": "s1", "text": "Customer could not pair the speaker."},
    Event.WALLBOARD_SUBSCRIBE: {},
    Event.WALLBOARD_UNSUBSCRIBE: {},
    Event.SESSION_TRANSFER: {
        "session_id": "s1",
        "to": "queue",
        "locale": "de-DE",
        "topic": "printers",
        "note": "Speaks German.",
    },
    Event.SESSION_WATCH: {"session_id": "s1", "mode": "join"},
    Event.SESSION_LEAVE: {"session_id": "s1"},
}
"""One valid payload per inbound event (every field given, so the round trip can be checked)."""

ALLOWED_PAIRS = [(role, event) for role in ROLES for event in INBOUND[role]]
FORBIDDEN_PAIRS = [(role, event) for role in ROLES for event in Event if event not in INBOUND[role]]


def refusal(role: Role, event: str, data: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode(role, event, data)
    return caught.value


def test_roles_cover_both_namespaces() -> None:
    assert set(ROLES) == {"device", "agent"}
    assert set(INBOUND) == set(OUTBOUND) == set(ROLES)


def test_every_inbound_event_has_a_valid_sample() -> None:
    inbound = {event for table in INBOUND.values() for event in table}
    assert inbound == set(VALID)


@pytest.mark.parametrize(("role", "event"), ALLOWED_PAIRS)
def test_decode_accepts_a_valid_payload(role: Role, event: Event) -> None:
    name, message = decode(role, event.value, VALID[event])
    assert name is event
    assert type(message) is INBOUND[role][event]
    assert message.model_dump(exclude_unset=True) == VALID[event]


@pytest.mark.parametrize(
    ("role", "event", "data", "expected"),
    [
        ("device", Event.HELP_REQUEST, None, {"topic": "general", "locale": "en"}),
        ("device", Event.HELP_REQUEST, {}, {"topic": "general", "locale": "en"}),
        (
            "device",
            Event.HELP_REQUEST,
            {"locale": "pt_BR"},
            {"topic": "general", "locale": "pt_BR"},
        ),
        (
            "device",
            Event.SESSION_END,
            {"session_id": "s1"},
            {"session_id": "s1", "reason": "ended"},
        ),
        (
            "agent",
            Event.RTC_ICE,
            {"session_id": "s1"},
            {"session_id": "s1", "candidate": None, "watcher_id": None},
        ),
        (
            "agent",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": None},
            {"session_id": "s1", "candidate": None, "watcher_id": None},
        ),
    ],
)
def test_decode_fills_defaults(
    role: Role, event: Event, data: Any, expected: dict[str, Any]
) -> None:
    _, message = decode(role, event.value, data)
    assert message.model_dump() == expected


@pytest.mark.parametrize(
    "event", ["help.requst", "", "HELP.REQUEST", "help", "ring.accept ", "connect", "x" * 500]
)
@pytest.mark.parametrize("role", ROLES)
def test_unknown_event(role: Role, event: str) -> None:
    error = refusal(role, event, {})
    assert error.code is ErrorCode.UNKNOWN_EVENT
    assert repr(event[:64]) in error.message
    assert len(error.message) < 150  # a long name is cut, not echoed whole


@pytest.mark.parametrize(("role", "event"), FORBIDDEN_PAIRS)
def test_event_the_role_may_not_send_is_forbidden(role: Role, event: Event) -> None:
    error = refusal(role, event.value, {})
    assert error.code is ErrorCode.FORBIDDEN
    assert role in error.message
    assert event.value in error.message


@pytest.mark.parametrize(
    ("role", "event"),
    [
        ("device", Event.RING_ACCEPT),
        ("device", Event.PRESENCE_SET),
        ("agent", Event.HELP_REQUEST),
        ("agent", Event.HELP_CANCEL),
    ],
)
def test_permission_is_checked_before_the_payload(role: Role, event: Event) -> None:
    # Even a payload that would be valid for the event, or none at all, is refused as forbidden.
    for data in (VALID[event], None, ["junk"]):
        assert refusal(role, event.value, data).code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    ("role", "event", "data", "field"),
    [
        # missing field
        ("device", Event.HELP_CANCEL, {}, "ticket_id"),
        ("agent", Event.RING_ACCEPT, {}, "ring_id"),
        ("agent", Event.PRESENCE_SET, {}, "status"),
        ("device", Event.RTC_OFFER, {"session_id": "s1"}, "sdp"),
        ("agent", Event.RTC_STATE, {"state": "connected"}, "session_id"),
        ("device", Event.HELP_CANCEL, None, "ticket_id"),
        # extra field
        ("device", Event.HELP_REQUEST, {"topic": "kindle", "priority": 1}, "priority"),
        ("agent", Event.RING_DECLINE, {"ring_id": "r1", "why": "busy"}, "why"),
        (
            "agent",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": {**ICE, "foundation": "1"}},
            "candidate.foundation",
        ),
        # wrong type
        ("device", Event.HELP_CANCEL, {"ticket_id": 5}, "ticket_id"),
        ("agent", Event.RING_ACCEPT, {"ring_id": None}, "ring_id"),
        ("agent", Event.RING_ACCEPT, {"ring_id": ["r1"]}, "ring_id"),
        ("device", Event.RTC_ICE, {"session_id": "s1", "candidate": "a=candidate"}, "candidate"),
        (
            "device",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": {**ICE, "sdpMLineIndex": "zero"}},
            "candidate.sdpMLineIndex",
        ),
        ("agent", Event.SESSION_END, {"session_id": {"id": "s1"}}, "session_id"),
        # a value outside the allowed set or pattern
        ("agent", Event.PRESENCE_SET, {"status": "busy"}, "status"),
        ("device", Event.RTC_STATE, {"session_id": "s1", "state": "new"}, "state"),
        ("device", Event.HELP_REQUEST, {"topic": "Kindle Fire"}, "topic"),
        ("device", Event.HELP_REQUEST, {"locale": "deutsch!"}, "locale"),
        ("device", Event.HELP_CANCEL, {"ticket_id": "t/1"}, "ticket_id"),
        ("device", Event.HELP_CANCEL, {"ticket_id": ""}, "ticket_id"),
        ("device", Event.RTC_OFFER, {"session_id": "s1", "sdp": ""}, "sdp"),
        (
            "device",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": {**ICE, "sdpMLineIndex": 65}},
            "candidate.sdpMLineIndex",
        ),
        # over-long strings
        ("device", Event.HELP_CANCEL, {"ticket_id": "t" * 65}, "ticket_id"),
        ("agent", Event.SESSION_END, {"session_id": "s1", "reason": "r" * 65}, "reason"),
        ("device", Event.HELP_REQUEST, {"topic": "k" * 65}, "topic"),
        ("agent", Event.RTC_ANSWER, {"session_id": "s1", "sdp": "v" * 32_001}, "sdp"),
        (
            "agent",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": {"candidate": "c" * 1025}},
            "candidate.candidate",
        ),
        (
            "agent",
            Event.RTC_ICE,
            {"session_id": "s1", "candidate": {"candidate": "", "sdpMid": "m" * 65}},
            "candidate.sdpMid",
        ),
    ],
)
def test_bad_payload_names_the_field(role: Role, event: Event, data: Any, field: str) -> None:
    error = refusal(role, event.value, data)
    assert error.code is ErrorCode.BAD_REQUEST
    assert error.message.startswith(f"{event.value}: ")
    assert f"{field}: " in error.message
    assert error.body() == {"error": {"code": "bad_request", "message": error.message}}


def test_longest_accepted_strings() -> None:
    # The bounds are inclusive: exactly at the limit is fine, one more is refused above.
    decode("device", "help.cancel", {"ticket_id": "t" * 64})
    decode("agent", "rtc.answer", {"session_id": "s1", "sdp": "v" * 32_000})
    decode("agent", "rtc.ice", {"session_id": "s1", "candidate": {"candidate": "c" * 1024}})


@pytest.mark.parametrize("data", [[], ["ring_id", "r1"], "r1", 1, 1.5, True, b"{}", ("r1",)])
@pytest.mark.parametrize("role", ROLES)
def test_non_object_payload_is_refused(role: Role, data: Any) -> None:
    error = refusal(role, "session.end", data)
    assert error.code is ErrorCode.BAD_REQUEST
    assert error.message == "session.end: the payload must be an object"


def test_many_errors_are_summarised() -> None:
    data = {f"extra{i}": i for i in range(20)}
    error = refusal("agent", "ring.accept", data)
    assert error.code is ErrorCode.BAD_REQUEST
    assert error.message.count("; ") == 4  # at most five problems are listed
    assert len(error.message) < 500


# --- property: decode never fails with anything but a ProtocolError ----------------------------

FIELD_NAMES = sorted(
    {name for table in INBOUND.values() for model in table.values() for name in model.model_fields}
    | {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
)
SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
TEXT = st.lists(st.characters() | SURROGATES, max_size=40).map("".join)
"""Any text, lone surrogates included: ``json.loads`` produces them from ``"\\ud800"``."""
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | TEXT
    | st.sampled_from(["s1", "available", "connected", "general", "en-US", "", "x" * 70])
)
KEYS = st.sampled_from(FIELD_NAMES) | TEXT
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=12,
)
EVENT_NAMES = st.sampled_from([event.value for event in Event]) | TEXT


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(ROLES), event=EVENT_NAMES, data=JSON_LIKE)
def test_decode_returns_a_model_or_raises_protocol_error(role: Role, event: str, data: Any) -> None:
    try:
        result: tuple[Event, BaseModel] | ProtocolError = decode(role, event, data)
    except ProtocolError as error:
        result = error
    if isinstance(result, ProtocolError):
        assert result.code in {ErrorCode.UNKNOWN_EVENT, ErrorCode.FORBIDDEN, ErrorCode.BAD_REQUEST}
        assert result.message
        return
    name, message = result
    assert isinstance(message, BaseModel)
    assert type(message) is INBOUND[role][name]
    assert name.value == event


@settings(max_examples=150, deadline=None)
@given(role=st.sampled_from(ROLES), data=st.data())
def test_accepted_messages_round_trip(role: Role, data: st.DataObject) -> None:
    event = data.draw(st.sampled_from(sorted(INBOUND[role])))
    model = INBOUND[role][event]
    changes = data.draw(
        st.fixed_dictionaries({}, optional=dict.fromkeys(model.model_fields, JSON_LIKE))
    )
    try:
        result: tuple[Event, BaseModel] | ProtocolError = decode(
            role, event.value, {**VALID[event], **changes}
        )
    except ProtocolError as error:
        result = error
    if isinstance(result, ProtocolError):
        assert result.code is ErrorCode.BAD_REQUEST
        return
    # Whatever is accepted decodes again to the same message (what the server relays is valid).
    dumped = result[1].model_dump()
    assert decode(role, event.value, dumped) == (event, model.model_validate(dumped))


# --- JSON Schema ------------------------------------------------------------------------------


def test_schema_covers_every_event() -> None:
    schema = build_schema()
    defs = schema["$defs"]
    for direction, tables in (("client_to_server", INBOUND), ("server_to_client", OUTBOUND)):
        exported = schema["events"][direction]
        assert set(exported) == set(tables)
        for role, table in tables.items():
            assert set(exported[role]) == {event.value for event in table}
            for event, model in table.items():
                assert exported[role][event.value] == {"$ref": f"#/$defs/{model.__name__}"}
                assert model.__name__ in defs
    assert schema["auth"] == {
        "device": {"$ref": "#/$defs/DeviceAuth"},
        "agent": {"$ref": "#/$defs/AgentAuth"},
    }


def test_every_schema_ref_resolves() -> None:
    schema = build_schema()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in schema["$defs"], ref


def test_inbound_schemas_forbid_unknown_fields() -> None:
    defs = build_schema()["$defs"]
    for table in INBOUND.values():
        for model in table.values():
            assert defs[model.__name__].get("additionalProperties") is False, model.__name__


def test_committed_schema_is_current() -> None:
    path = ROOT / DEFAULT_PATH
    assert path.is_file(), f"{DEFAULT_PATH} is missing: run python -m signaling.schema"
    fresh = json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"
    assert path.read_text() == fresh, (
        f"{DEFAULT_PATH} is stale: run python -m signaling.schema and commit it"
    )
