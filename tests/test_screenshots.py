"""Screenshots: the session's agent keeps a still image of the picture with the session's record
(``POST /api/sessions/{id}/screenshots``); bad bodies and wrong callers are refused with the one
error body."""

from __future__ import annotations

from typing import Any

from server.appkeys import WRITER
from server.rest_customer import SCREENSHOT_MAX_BYTES

from .conftest import Desk

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


async def _post(desk: Desk, session_id: str, token: str | None, body: bytes, kind: str) -> Any:
    headers = {"Content-Type": kind}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{desk.url}/api/sessions/{session_id}/screenshots"
    async with desk.http.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_the_agent_keeps_screenshots_with_the_session(desk: Desk) -> None:
    device, agent, _registered, session_id = await desk.session("alice")
    token = await desk.token("alice")
    status, png = await _post(desk, session_id, token, PNG, "image/png")
    assert status == 201, png
    assert (png["session_id"], png["content_type"], png["size"]) == (
        session_id,
        "image/png",
        len(PNG),
    )
    status, jpeg = await _post(desk, session_id, token, JPEG, "image/jpeg")
    assert status == 201, jpeg

    refusals = [
        (PNG, "image/jpeg", 400, "bad_request"),  # says JPEG, is a PNG
        (b"GIF89a" + bytes(10), "image/png", 400, "bad_request"),
        (PNG, "application/json", 400, "bad_request"),
        (b"", "image/png", 400, "bad_request"),
        (PNG + bytes(SCREENSHOT_MAX_BYTES), "image/png", 413, "payload_too_large"),
    ]
    for body, kind, want_status, code in refusals:
        status, answer = await _post(desk, session_id, token, body, kind)
        assert (status, answer["error"]["code"]) == (want_status, code), (kind, len(body))
        assert answer["error"]["message"]
    await desk.add_agent("bob")
    bob = await desk.token("bob")
    status, answer = await _post(desk, session_id, bob, PNG, "image/png")
    assert (status, answer["error"]["code"]) == (403, "not_party")
    status, answer = await _post(desk, session_id, None, PNG, "image/png")
    assert status == 401
    status, answer = await _post(desk, "ses_nope", token, PNG, "image/png")
    assert (status, answer["error"]["code"]) == (404, "not_found")

    # The image comes back as it was sent, to whoever reads the session: its agent and a
    # supervisor, not another agent (§19).
    url = f"{desk.url}/api/sessions/{session_id}/screenshots/{png['id']}"
    await desk.add_agent("sue", role="supervisor")
    for reader in (token, await desk.token("sue")):
        async with desk.http.get(url, headers={"Authorization": f"Bearer {reader}"}) as response:
            assert response.status == 200
            assert response.content_type == "image/png"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert await response.read() == PNG
    status, answer = await desk.get(f"/api/sessions/{session_id}/screenshots/{png['id']}", bob)
    assert (status, answer["error"]["code"]) == (404, "not_found")
    status, answer = await desk.get(f"/api/sessions/{session_id}/screenshots/shot_nope", token)
    assert (status, answer["error"]["code"]) == (404, "not_found")

    # Listed with the session, live and recorded, and in its timeline.
    status, live = await desk.get(f"/api/sessions/{session_id}", token)
    assert [shot["id"] for shot in live["screenshots"]] == [png["id"], jpeg["id"]]
    ack = await agent.call("session.end", {"session_id": session_id, "reason": "resolved"})
    assert ack.get("ok") is True, ack
    await desk.app[WRITER].flush()
    status, events = await desk.get(f"/api/sessions/{session_id}/events", token)
    shots = [e["detail"]["screenshot_id"] for e in events["events"] if e["kind"] == "screenshot"]
    assert shots == [png["id"], jpeg["id"]]
    status, answer = await _post(desk, session_id, token, PNG, "image/png")
    assert (status, answer["error"]["code"]) == (409, "conflict")
    del device
