"""Canned replies: the desk's list, edited with ``mayday canned add|list|remove`` and read by
agents with ``GET /api/canned-replies`` (the console's picker beside the chat input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mayday.cli import main
from server.appkeys import RECORDS

from .conftest import Desk


async def test_agents_read_the_desks_replies_in_order(desk: Desk) -> None:
    await desk.add_agent("alice")
    token = await desk.token("alice")
    assert await desk.get("/api/canned-replies", token) == (200, {"replies": []})
    records = desk.app[RECORDS]
    first = await records.add_canned_reply("One moment, I am looking into it.")
    second = await records.add_canned_reply("Could you restart the tablet, please?")
    status, body = await desk.get("/api/canned-replies", token)
    assert status == 200
    assert body["replies"] == [
        {"id": first.id, "text": first.text},
        {"id": second.id, "text": second.text},
    ]
    assert (await desk.get("/api/canned-replies"))[0] == 401


def test_the_cli_adds_lists_and_removes_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAYDAY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MAYDAY_DATABASE_URL", raising=False)
    assert main(["canned", "add", "  Thanks for waiting!  "]) == 0
    reply_id = capsys.readouterr().out.splitlines()[-1]
    assert main(["canned", "add", "Bye"]) == 0
    capsys.readouterr()
    assert main(["canned", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [reply["text"] for reply in listed] == ["Thanks for waiting!", "Bye"]
    assert listed[0]["id"] == reply_id
    assert main(["canned", "add", "  "]) == 1
    assert "1 to 2000 characters" in capsys.readouterr().err
    assert main(["canned", "remove", reply_id]) == 0
    assert main(["canned", "remove", reply_id]) == 1
    capsys.readouterr()
    assert main(["canned", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[1] == "Bye\n"
