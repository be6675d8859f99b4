"""The routes for operators and for media: ``/metrics`` behind its token when one is set, and
TURN credentials over REST only for an agent in a live session (docs/protocol.md §13, §14)."""

from __future__ import annotations

from typing import Any

from server.appkeys import RECORDS

from .conftest import DeskFactory

TURN = {"turn_urls": ["turn:turn.example.org:3478"], "turn_secret": "turn-secret-" + "x" * 20}


async def test_metrics_need_the_token_when_one_is_set(make_desk: DeskFactory) -> None:
    desk = await make_desk(metrics_token="scrape-me-" + "y" * 20)
    status, body = await desk.get("/metrics")
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    status, body = await desk.get("/metrics", "not-the-token")
    assert status == 401
    status, text = await desk.get("/metrics", "scrape-me-" + "y" * 20)
    assert status == 200
    assert "mayday_sessions" in text


async def test_metrics_are_open_without_a_token(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    status, text = await desk.get("/metrics")
    assert status == 200
    assert "mayday_sessions" in text


def turn_entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [server for server in body["ice_servers"] if "credential" in server]


async def test_turn_credentials_only_for_an_agent_in_a_live_session(make_desk: DeskFactory) -> None:
    desk = await make_desk(stun_urls=["stun:stun.example.org:3478"], **TURN)
    await desk.add_agent("idle")
    status, body = await desk.get("/api/ice-servers", await desk.token("idle"))
    assert status == 200
    assert body["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]
    assert turn_entries(body) == []

    _device, _agent, _registered, _session_id = await desk.session("busy")
    status, body = await desk.get("/api/ice-servers", await desk.token("busy"))
    assert status == 200
    [turn] = turn_entries(body)
    busy = await desk.app[RECORDS].agent_by_name("busy")
    assert busy is not None
    assert turn["username"].endswith(f":agent-{busy.id}")
