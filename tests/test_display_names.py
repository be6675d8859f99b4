"""Agents' display names: what customers see of the agent (session.started, chat, the record),
set with ``mayday agents add --display-name`` and ``mayday agents set``; the login name stays the
name to sign in with."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mayday.cli import main
from server.appkeys import RECORDS
from server.auth import hash_password

from .conftest import AGENT_PASSWORD, Desk
from .support import agent_auth


async def test_customers_see_the_display_name(desk: Desk) -> None:
    await desk.app[RECORDS].add_agent(
        "anna", hash_password(AGENT_PASSWORD), ["en"], [], display_name="Anna K."
    )
    token = await desk.token("anna")  # signs in with the login name
    status, me = await desk.get("/api/queue", token)
    assert status == 200, me
    agent = await desk.client("agent").connect(agent_auth(token))
    assert (await agent.call("presence.set", {"status": "available"}))["ok"] is True
    device, _ = await desk.device()
    ticket = (await device.call("help.request", {}))["ticket"]
    ring = await agent.next("ring")
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    started = await device.next("session.started")
    assert started["agent"]["name"] == "Anna K."
    ack = await agent.call("chat.send", {"session_id": ticket["id"], "text": "Hello"})
    assert ack.get("ok") is True, ack
    line = await device.next("chat.message")
    assert (line["sender"], line["name"]) == ("agent", "Anna K.")
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", token)
    assert session["agent"]["name"] == "Anna K."


def test_the_cli_sets_and_clears_display_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAYDAY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MAYDAY_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["agents", "add", "anna", "--display-name", " Anna  K. "]) == 0
    assert "display_name=Anna K." in _run(capsys, "agents", "list")
    assert main(["agents", "set", "anna", "--display-name", "Anna Karlsson"]) == 0
    assert "display_name=Anna Karlsson" in _run(capsys, "agents", "list")
    assert main(["agents", "set", "anna", "--no-display-name"]) == 0
    assert "display_name=anna" in _run(capsys, "agents", "list")
    assert main(["agents", "set", "nobody", "--display-name", "X"]) == 1
    with pytest.raises(SystemExit):
        main(["agents", "set", "anna", "--display-name", " "])
    assert "1 to 80 characters" in capsys.readouterr().err


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out
