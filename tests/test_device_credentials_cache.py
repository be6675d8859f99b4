"""A device's credentials kept by a process (``server/credentials.py``) never outlive their record.

Each test first has a process keep a device's credentials (it connected once, and a second
connect read no device record: the store answered), then takes them away elsewhere: on another
server process (the REST removal), in another process altogether (``mayday sites remove``, the
CLI), or with a new secret. The process that kept them must refuse the next connect at once,
with nothing in between: no wait, no periodic check (``credential_check_s`` an hour), in both
configurations (memory + SQLite, Redis + PostgreSQL). Plus the :class:`~server.batching.Coalescer`
the connects share their queries through.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
import socketio

from server.appkeys import ORIGINS, RECORDS, SIO
from server.auth import hash_device_secret, new_device_secret
from server.batching import Coalescer
from server.credentials import DeviceCredentials
from server.namespaces import DeviceNamespace
from server.settings import Settings

from .conftest import Desk, DeskFactory
from .support import Client, assert_eventually, device_auth, register_device

pytestmark = pytest.mark.timeout(90)

NEVER = 3600.0
"""A credential check period no test outlives: only the connect's own check can refuse."""
REFUSED = {
    "code": "unauthorized",
    "message": "unknown device or wrong secret; register again with POST /api/devices",
}
SHOP = "https://shop.example"


def kept(desk: Desk) -> DeviceCredentials:
    namespace = desk.app[SIO].namespace_handlers["/device"]
    assert isinstance(namespace, DeviceNamespace)
    return namespace.credentials


async def connect(desk: Desk, auth: dict[str, Any], origin: str | None = None) -> Client:
    client = desk.client("device")
    await connect_as(client, auth, origin)
    return client


async def refused(desk: Desk, auth: dict[str, Any], origin: str | None = None) -> Any:
    """The error a connect with ``auth`` is refused with."""
    client = desk.client("device")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_as(client, auth, origin)
    return client.connect_error["data"]["error"]


async def connect_as(client: Client, auth: dict[str, Any], origin: str | None) -> None:
    await client.sio.connect(
        client.base_url,
        namespaces=["/device"],
        auth=auth,
        transports=["websocket"],
        headers={"Origin": origin} if origin else {},
        wait_timeout=10,
    )


async def keep(desk: Desk, auth: dict[str, Any], origin: str | None = None) -> None:
    """Connect twice: the second connect is answered from the kept credentials (no read)."""
    await (await connect(desk, auth, origin)).close()
    reads = kept(desk).reads
    await (await connect(desk, auth, origin)).close()
    assert kept(desk).reads == reads, "the second connect read the device again"


async def admin_token(desk: Desk) -> str:
    await desk.add_agent("ada", role="admin")
    return await desk.token("ada")


# --- across processes ------------------------------------------------------------------------------


async def test_a_device_removed_on_another_process_is_refused_at_once(
    make_desk: DeskFactory,
) -> None:
    first = await make_desk(credential_check_s=NEVER)
    second = await make_desk(credential_check_s=NEVER)
    device = await register_device(first.http, first.url, "tablet")
    other = await register_device(first.http, first.url, "other tablet")
    await keep(first, device_auth(device))
    await keep(first, device_auth(other))

    token = await admin_token(second)
    async with second.http.delete(
        f"{second.url}/api/admin/devices/{device['device_id']}",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()

    assert await refused(first, device_auth(device)) == REFUSED
    await (await connect(first, device_auth(other))).close()  # the others still sign in
    # A device registered on the other process since is read, not refused: nothing is kept of
    # a device that was not found.
    late = await register_device(second.http, second.url, "late tablet")
    await (await connect(first, device_auth(late))).close()


async def test_a_new_secret_refuses_the_old_one_at_once(make_desk: DeskFactory) -> None:
    first = await make_desk(credential_check_s=NEVER)
    second = await make_desk(credential_check_s=NEVER)
    device = await register_device(first.http, first.url, "tablet")
    await keep(first, device_auth(device))

    secret = new_device_secret()
    records = second.app[RECORDS]  # another process's records, on the same database
    assert await records.set_device_secret(device["device_id"], hash_device_secret(secret))
    assert not await records.set_device_secret("dev_nobody", hash_device_secret(secret))

    assert await refused(first, device_auth(device)) == REFUSED
    renewed = device | {"device_secret": secret}
    await (await connect(first, device_auth(renewed))).close()
    await (await connect(second, device_auth(renewed))).close()


async def test_a_site_removed_by_the_cli_refuses_its_kept_visitors_at_once(
    make_desk: DeskFactory, settings: Settings
) -> None:
    desk = await make_desk(credential_check_s=NEVER, sites_refresh_s=0.1)
    records = desk.app[RECORDS]
    site = await records.add_site("shop", [SHOP])
    # Another site on the same origin keeps Engine.IO's door open once "shop" is gone: the
    # refusal must come from the visitor's own credentials.
    await records.add_site("shop-mirror", [SHOP])
    await assert_eventually(lambda: desk.app[ORIGINS].site_allows(SHOP))
    secret = new_device_secret()
    visitor = await records.add_device("visitor", hash_device_secret(secret), site_id=site.id)
    auth = device_auth({"device_id": visitor.id, "device_secret": secret})
    await keep(desk, auth, SHOP)

    env = {**os.environ, "MAYDAY_DATA_DIR": str(settings.data_dir)}
    env.pop("DATABASE_URL", None)
    if settings.database_url is not None:
        env["DATABASE_URL"] = settings.database_url
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mayday.cli", "sites", "remove", "shop"],
        check=True,
        env=env,
        capture_output=True,
    )

    assert await refused(desk, auth, SHOP) == REFUSED


async def test_an_open_socket_of_a_removed_device_is_closed(make_desk: DeskFactory) -> None:
    """The periodic check skips its query while the epoch stands, not after it moved."""
    desk = await make_desk(credential_check_s=0.1)
    device = await register_device(desk.http, desk.url, "tablet")
    stays = await register_device(desk.http, desk.url, "stays")
    client = await connect(desk, device_auth(device))
    other = await connect(desk, device_auth(stays))
    await asyncio.sleep(0.3)  # a few rounds with nothing changed: the checks skip
    assert client.sio.connected
    assert await desk.app[RECORDS].remove_device(device["device_id"])
    await assert_eventually(lambda: not client.sio.connected, message="the socket stayed open")
    assert other.sio.connected


# --- the coalescer -------------------------------------------------------------------------------


async def test_lookups_made_together_share_one_load() -> None:
    loads: list[list[int]] = []

    async def load(keys: Sequence[int]) -> dict[int, str]:
        loads.append(list(keys))
        return {key: f"v{key}" for key in keys if key % 2 == 0}

    lookups: Coalescer[int, str] = Coalescer(load)
    answers = await asyncio.gather(*(lookups.get(key % 40) for key in range(50)))
    assert answers == [f"v{key % 40}" if key % 2 == 0 else None for key in range(50)]
    assert loads == [list(range(40))]  # each key once, in one load
    assert await lookups.get(2) == "v2"
    assert loads[-1] == [2]


async def test_a_failed_load_fails_each_lookup_of_its_batch_and_no_other() -> None:
    calls = 0

    async def load(keys: Sequence[str]) -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database is away")
        return {key: key.upper() for key in keys}

    lookups: Coalescer[str, str] = Coalescer(load)
    answers = await asyncio.gather(lookups.get("a"), lookups.get("b"), return_exceptions=True)
    assert [type(answer) for answer in answers] == [ConnectionError, ConnectionError]
    assert await lookups.get("a") == "A"


async def test_a_cancelled_lookup_does_not_stop_the_others() -> None:
    release = asyncio.Event()

    async def load(keys: Sequence[str]) -> dict[str, str]:
        await release.wait()
        return {key: key for key in keys}

    lookups: Coalescer[str, str] = Coalescer(load)
    gone = asyncio.create_task(lookups.get("x"))
    stays = asyncio.create_task(lookups.get("y"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await stays == "y"
    assert gone.cancelled()
