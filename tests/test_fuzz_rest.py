"""The REST API fuzzed from the OpenAPI document the server publishes (schemathesis).

A real server (the ``desk`` fixture, in both configurations) with a live session in it; the
document is read from its ``/openapi.json`` and every operation gets bounded numbers of positive
(valid by the document) and negative (invalid) requests, signed in with a valid agent token where
the route needs one. Each answer must be no server error and must conform to the document: a
documented status, its content type and its body schema, so every refusal is the one error body
with a code of its status. Afterwards the live session still works.

schemathesis speaks ``requests``, which blocks; it runs in a thread while the event loop serves.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.appkeys import RECORDS
from tests.support import assert_eventually

from .conftest import AGENT_PASSWORD, Desk
from .test_fuzz_events import said

EXAMPLES = 12
"""Requests per operation and generation mode; the whole run stays well under a minute."""
LIVE_EXAMPLES = 5
"""Positive requests of each session read-out naming a real session (live, and recorded)."""
FLEET_SHARE = 0.5
"""The run on Redis and PostgreSQL sends this share of the cases: what it adds is the stores
behind the same handlers, which the in-memory run fuzzes in full."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FRESH_TOKEN = {"logout"}
"""Operations that kill the token they are sent with: each case gets a fresh one of its own agent."""


@dataclass
class Fuzzer:
    base_url: str
    postgres: bool
    tokens: dict[str, str]
    """Agent name -> a valid token: ``fuzzer`` for most routes, ``leaver`` (signs out), ``changer``
    (tries password changes, counts as failed sign-ins of its name)."""
    counts: Counter[str] = field(default_factory=Counter)
    http: requests.Session = field(default_factory=requests.Session)
    schema: Any = None
    """The server's OpenAPI document, loaded once for the whole run."""

    def token(self, operation_id: str) -> str:
        if operation_id in FRESH_TOKEN:
            response = self.http.post(
                f"{self.base_url}/api/agents/login",
                json={"name": "leaver", "password": AGENT_PASSWORD},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            return str(response.json()["token"])
        name = "changer" if operation_id == "changePassword" else "fuzzer"
        return self.tokens[name]

    def run(self, strategy_for: Callable[[Any], Any], examples: int, label: str) -> None:
        """Send ``examples`` cases of each operation's strategy, checking every answer."""
        if self.schema is None:
            self.schema = schemathesis.openapi.from_url(f"{self.base_url}/openapi.json", timeout=10)
        for result in self.schema.get_all_operations():
            operation = result.ok()  # an Err raises here, as wanted
            strategy = strategy_for(operation)
            if strategy is not None:
                self.fuzz(operation, strategy, examples, label)

    def fuzz(self, operation: Any, strategy: Any, examples: int, label: str) -> None:
        operation_id = str(operation.definition.raw["operationId"])
        bearer = bool(operation.definition.raw["security"])

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def send(case: Case[Any]) -> None:
            headers = {"Authorization": f"Bearer {self.token(operation_id)}"} if bearer else {}
            response = case.call(
                base_url=self.base_url, session=self.http, headers=headers, timeout=10
            )
            self.counts[f"{label} {operation.label}"] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        send()


def negatable(operation: Any) -> bool:
    """Whether there is anything to send wrong: a body or a path parameter (the one header
    parameter, ``Origin``, takes any string)."""
    raw = operation.definition.raw
    return "requestBody" in raw or "{" in operation.path


def generated(mode: GenerationMode) -> Callable[[Any], Any]:
    def strategy(operation: Any) -> Any:
        if mode is GenerationMode.NEGATIVE and not negatable(operation):
            return None
        return operation.as_strategy(generation_mode=mode)

    return strategy


def session_ids(session_id: str) -> Callable[[Any], Any]:
    def strategy(operation: Any) -> Any:
        if "{session_id}" not in operation.path:
            return None
        return operation.as_strategy(path_parameters={"session_id": session_id})

    return strategy


def examples(fuzzer: Fuzzer) -> int:
    return round(EXAMPLES * FLEET_SHARE) if fuzzer.postgres else EXAMPLES


def fuzz(fuzzer: Fuzzer, live_id: str, ended_id: str) -> None:
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        fuzzer.run(generated(mode), examples(fuzzer), mode.value)
    fuzzer.run(session_ids(live_id), LIVE_EXAMPLES, "live session")
    fuzzer.run(session_ids(ended_id), LIVE_EXAMPLES, "recorded session")


async def test_the_rest_api_answers_every_request_as_documented(
    desk: Desk, live_store: str | None
) -> None:
    device, agent, _registered, live_id = await desk.session("alice")
    # A second session, ended and stored, for the read-outs of a recorded session.
    other_device, other_agent, _, ended_id = await desk.session("bob")
    ack = await other_agent.call("session.end", {"session_id": ended_id, "reason": "resolved"})
    assert ack.get("ok") is True, ack

    async def stored() -> bool:
        return await desk.app[RECORDS].session(ended_id) is not None

    await assert_eventually(stored, message="the ended session was never stored")
    tokens = {}
    # Admins: every route answers them past the role check, down to what it does with a body.
    for name in ("fuzzer", "leaver", "changer"):
        await desk.add_agent(name, role="admin")
        tokens[name] = await desk.token(name)

    fuzzer = Fuzzer(desk.url, live_store is not None, tokens)
    try:
        await asyncio.to_thread(fuzz, fuzzer, live_id, ended_id)
    finally:
        fuzzer.http.close()
        total = sum(fuzzer.counts.values())
        for label, count in sorted(fuzzer.counts.items()):
            print(f"{count:5d}  {label}")
        print(f"{total:5d}  REST cases in all")
    assert total >= examples(fuzzer) * 10

    # The live session kept working all along: chat both ways, and it reads as active.
    for sender, receiver, text in ((agent, device, "still there?"), (device, agent, "yes")):
        ack = await sender.call("chat.send", {"session_id": live_id, "text": text})
        assert ack.get("ok") is True, ack
        message = await receiver.next_matching("chat.message", said(text))
        assert message["session_id"] == live_id
    status, body = await desk.get(f"/api/sessions/{live_id}", tokens["fuzzer"])
    assert status == 200, body
    assert body["state"] in {"connecting", "active"}
    del other_device


DEEP = "[" * 20_000 + "]" * 20_000
"""Valid JSON, within the body cap, nested past Python's recursion limit."""


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/devices", DEEP),
        ("POST", "/api/agents/login", DEEP),
        ("GET", "/api/sessions/%00abc", None),
        ("GET", "/api/sessions/%00abc/events", None),
        ("POST", "/api/agents/login", '{"name": "a\\u0000b", "password": "x"}'),
        ("POST", "/api/devices", '{"name": "a\\u0000b"}'),
    ],
)
async def test_known_server_errors(
    desk: Desk,
    method: str,
    path: str,
    body: str | None,
) -> None:
    """Bodies and paths the fuzzing found answered 500 ``internal``: a body nested past the
    recursion limit (fixed: 400 since server/framing.py), and on PostgreSQL a NUL (fixed: ids in
    paths are checked before any query, and no inbound text may hold a NUL)."""
    await desk.add_agent("fuzzer")
    token = await desk.token("fuzzer")
    async with desk.http.request(
        method,
        f"{desk.url}{path}",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as response:
        answer = await response.json()
    assert response.status < 500, answer
    assert answer.get("error", {}).get("code") != "internal", answer
