"""Load worker of the big-queue benchmark: many devices and agents in one process, on the wire.

Run by :mod:`bench.bigqueue` as ``python -m bench._queueload CLIENTS.json THINK_S``, one command per line on
stdin, one JSON answer per line on stdout. Each client of the list is a device or an agent of a
``kind``:

* devices ``waiting``: press help and wait; when a session of theirs ends they press again at
  once, so the queue keeps its length while agents serve it;
* devices ``busy``: the customers the busy agents hold in a session for the whole run;
* devices ``probe``: press help for the press → ring measurement (:meth:`Worker.probe`);
* agents ``busy``: accept their first ring and stay in that session (a desk's agents at work);
* agents ``work``: accept every ring after ``THINK_S`` (0.5-1.5 of it: a person reading the
  ring) and end the session at once; the time from sending ``ring.accept`` to their next
  ``ring`` is the accept → next ring figure;
* agents ``probe``: speak the probe devices' language only; accept and end at once.

Commands: ``connect ROLE KIND CONCURRENCY``, ``press KIND COUNT CONCURRENCY``, ``available KIND``,
``status``, ``take`` (the accept → next ring samples since the last take, in ms; cycles whose
accept was sent before that take do not count), ``probe COUNT
GAP_MS`` (press → ring samples, in ms), ``quit``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench._queuewire import WireClient, event_data

CONNECT_TIMEOUT_S = 120.0


@dataclass
class Party:
    """What the worker keeps with each client."""

    spec: dict[str, Any]
    pressed: bool = False
    accept_sent: float | None = None
    """A ``work`` agent: when it last sent ``ring.accept`` (the start of its next sample)."""
    in_session: bool = False
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def kind(self) -> str:
        return str(self.spec["kind"])


class Worker:
    def __init__(self, specs: list[dict[str, Any]], think_s: float) -> None:
        self.specs = specs
        self.think_s = think_s
        self.clients: dict[tuple[str, str], list[WireClient]] = collections.defaultdict(list)
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True))
        self.counts: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.work_ms: list[float] = []
        self.measuring_since = 0.0
        """``take`` starts a measurement: a cycle whose accept was sent before is not a sample
        (it began while the desk was still settling)."""
        self.probe_rings: asyncio.Queue[tuple[float, WireClient, dict[str, Any]]] = asyncio.Queue()
        self.probe_ended: dict[int, asyncio.Event] = {}

    # --- connecting and pressing ----------------------------------------------------------------

    async def connect(self, role: str, kind: str, concurrency: int) -> dict[str, Any]:
        specs = [s for s in self.specs if s["role"] == role and s["kind"] == kind]
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(spec: dict[str, Any]) -> None:
            async with gate:
                client = WireClient(role, self._on_event, Party(spec))
                try:
                    await asyncio.wait_for(
                        client.connect(self.http, spec["url"], spec["auth"]), CONNECT_TIMEOUT_S
                    )
                except Exception as exc:
                    self.errors[f"connect: {type(exc).__name__}: {str(exc)[:80]}"] += 1
                    return
                self.clients[(role, kind)].append(client)

        await asyncio.gather(*(one(s) for s in specs))
        return {
            "connected": len(self.clients[(role, kind)]),
            "seconds": round(time.monotonic() - started, 2),
            "errors": dict(self.errors),
        }

    async def press(self, kind: str, count: int, concurrency: int) -> dict[str, Any]:
        todo = [c for c in self.clients[("device", kind)] if not _party(c).pressed][:count]
        gate = asyncio.Semaphore(concurrency)

        async def one(client: WireClient) -> None:
            async with gate:
                await self._press(client)

        await asyncio.gather(*(one(c) for c in todo))
        return {"pressed": len(todo), "errors": dict(self.errors)}

    async def _press(self, client: WireClient) -> None:
        party = _party(client)
        party.pressed = True
        spec = party.spec
        try:
            ack = await client.call(
                "help.request", {"topic": spec["topic"], "locale": spec["locale"]}
            )
        except Exception as exc:
            self.errors[f"help.request: {type(exc).__name__}"] += 1
            return
        if isinstance(ack, dict) and "error" in ack:
            self.errors[f"help.request: {ack['error'].get('code')}"] += 1

    async def available(self, kind: str) -> dict[str, Any]:
        agents = self.clients[("agent", kind)]
        answers = await asyncio.gather(
            *(a.call("presence.set", {"status": "available"}) for a in agents),
            return_exceptions=True,
        )
        failed = sum(1 for a in answers if not isinstance(a, dict) or "error" in a)
        return {"available": len(agents) - failed, "failed": failed}

    # --- what the server sends ------------------------------------------------------------------

    def _on_event(self, client: WireClient, name: str, raw: str) -> None:
        self.counts[f"{client.namespace}:{name}"] += 1
        party = _party(client)
        if client.namespace == "device":
            if name == "session.ended":
                party.in_session = False
                if party.kind == "waiting":
                    self._spawn(party, self._press(client))
                elif party.kind == "probe":
                    self.probe_ended.setdefault(id(client), asyncio.Event()).set()
            return
        if name != "ring":
            return
        now = time.monotonic()
        ring = event_data(raw)
        if party.kind == "busy":
            self._spawn(party, self._accept(client, ring["ring_id"], end=False))
        elif party.kind == "work":
            if party.accept_sent is not None:
                if party.accept_sent >= self.measuring_since:
                    self.work_ms.append((now - party.accept_sent) * 1000)
                party.accept_sent = None
            self._spawn(party, self._work(client, ring["ring_id"]))
        elif party.kind == "probe":
            self.probe_rings.put_nowait((now, client, ring))

    def _spawn(self, party: Party, coro: Any) -> None:
        task = asyncio.create_task(coro)
        party.tasks.add(task)
        task.add_done_callback(party.tasks.discard)

    async def _work(self, client: WireClient, ring_id: str) -> None:
        """A working agent: reads the ring a moment (``think_s``, 0.5-1.5 of it), accepts, ends
        the session at once; the accept → next ring sample starts as the accept is sent."""
        await asyncio.sleep(self.think_s * random.uniform(0.5, 1.5))
        _party(client).accept_sent = time.monotonic()
        await self._accept(client, ring_id, end=True)

    async def _accept(self, client: WireClient, ring_id: str, *, end: bool) -> None:
        party = _party(client)
        try:
            ack = await client.call("ring.accept", {"ring_id": ring_id})
        except Exception as exc:
            self.errors[f"ring.accept: {type(exc).__name__}"] += 1
            party.accept_sent = None
            return
        if not isinstance(ack, dict) or not ack.get("ok"):
            self.errors["ring.accept refused"] += 1
            party.accept_sent = None
            return
        party.in_session = True
        if end:
            try:
                await client.call(
                    "session.end", {"session_id": ack["session_id"], "reason": "resolved"}
                )
            except Exception as exc:
                self.errors[f"session.end: {type(exc).__name__}"] += 1
            party.in_session = False

    # --- measurements ---------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "busy_in_session": sum(
                1 for c in self.clients[("agent", "busy")] if _party(c).in_session
            ),
            "counts": dict(self.counts),
            "errors": dict(self.errors),
        }

    def take(self) -> dict[str, Any]:
        samples, self.work_ms = self.work_ms, []
        self.measuring_since = time.monotonic()
        return {"work_ms": [round(v, 3) for v in samples]}

    async def probe(self, count: int, gap_ms: float) -> dict[str, Any]:
        """Press help on the probe devices in turn; each press's ring is accepted and ended at once."""
        devices = self.clients[("device", "probe")]
        if not devices:
            return {"probe_ms": [], "missed": 0}
        samples: list[float] = []
        missed = 0
        for index in range(count):
            device = devices[index % len(devices)]
            spec = _party(device).spec
            ended = self.probe_ended[id(device)] = asyncio.Event()
            pressed = time.monotonic()
            press = asyncio.create_task(
                device.call("help.request", {"topic": spec["topic"], "locale": spec["locale"]})
            )
            try:
                rung_at, agent, ring = await asyncio.wait_for(self.probe_rings.get(), 30)
            except TimeoutError:
                missed += 1
                press.cancel()
                continue
            samples.append((rung_at - pressed) * 1000)
            try:
                await press
                ack = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
                if isinstance(ack, dict) and ack.get("ok"):
                    await agent.call(
                        "session.end", {"session_id": ack["session_id"], "reason": "resolved"}
                    )
                    await asyncio.wait_for(ended.wait(), 30)
            except (ConnectionError, TimeoutError) as exc:
                # A dropped socket (the server fell behind its pings): counted, the probe goes on.
                self.errors[f"probe: {type(exc).__name__}"] += 1
            await asyncio.sleep(gap_ms / 1000 * random.uniform(0.5, 1.5))
        return {"probe_ms": [round(v, 3) for v in samples], "missed": missed}

    async def close(self) -> None:
        for clients in self.clients.values():
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        await self.http.close()


def _party(client: WireClient) -> Party:
    party = client.tag
    assert isinstance(party, Party)
    return party


async def serve(specs: list[dict[str, Any]], think_s: float) -> None:
    worker = Worker(specs, think_s)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    answer({"ready": len(specs)})
    try:
        while line := (await reader.readline()).decode().split():
            command, *rest = line
            if command == "connect":
                answer(await worker.connect(rest[0], rest[1], int(rest[2])))
            elif command == "press":
                answer(await worker.press(rest[0], int(rest[1]), int(rest[2])))
            elif command == "available":
                answer(await worker.available(rest[0]))
            elif command == "status":
                answer(worker.status())
            elif command == "take":
                answer(worker.take())
            elif command == "probe":
                answer(await worker.probe(int(rest[0]), float(rest[1])))
            elif command == "quit":
                break
            else:
                answer({"error": f"unknown command {command!r}"})
    finally:
        await worker.close()


if __name__ == "__main__":
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text()), float(sys.argv[2])))
