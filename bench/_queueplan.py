"""The big-queue benchmark's desk: who is who, seeded into the records, and the load workers.

Agents and devices are inserted straight into the server's SQLite file before it starts, as
:mod:`bench.connections` does (registering 11,000 devices and 1,000 agents through the API would
take minutes of argon2 and single-row transactions, which is not what is measured); agents'
tokens are signed with the server's key, as ``POST /api/login`` signs them.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench._lineworker import LineWorker
from server.auth import TokenSigner, hash_device_secret, hash_password, new_device_secret
from server.ids import new_id
from server.records import Records
from server.tables import AgentRow, DeviceRow

__all__ = ["Desk", "LoadWorker", "plan_desk", "seed"]

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "tr")
TOPICS = ("billing", "network", "printer", "email", "account", "hardware")
PROBE_LANGUAGE = "sv"
"""Spoken by the probe agents and customers only: a probe press is rung at once, whatever the
queue holds."""
PROBE_AGENTS = 4
PROBE_DEVICES = 4


@dataclass
class Person:
    role: str
    """``agent`` or ``device``."""
    kind: str
    """``busy``, ``work``, ``probe`` or ``waiting`` (see :mod:`bench._queueload`)."""
    languages: list[str]
    topics: list[str]
    auth: dict[str, Any] = field(default_factory=dict)


@dataclass
class Desk:
    busy_agents: list[Person]
    people: list[Person]


def plan_desk(*, waiting: int, agents: int, working: int, seed_value: int) -> Desk:
    """Who is who: busy agents (one language, one topic each) with a customer each; working agents
    (one language, three topics, together every combination); probe agents and customers; and
    ``waiting`` customers of every language and topic the working agents serve."""
    rng = random.Random(seed_value)
    busy_count = agents - working - PROBE_AGENTS
    if busy_count < 0 or working < 1:
        raise SystemExit(f"--agents must be at least --working + {PROBE_AGENTS}")
    people: list[Person] = []
    busy = []
    for _ in range(busy_count):
        language, topic = rng.choice(LANGUAGES), rng.choice(TOPICS)
        busy.append(Person("agent", "busy", [language], [topic]))
        # The busy agent's customer: the same language and topic, so each busy agent has one.
        people.append(Person("device", "busy", [language], [topic]))
    people.extend(busy)
    served: set[tuple[str, str]] = set()
    for index in range(working):
        language = LANGUAGES[index % len(LANGUAGES)]
        first = (index // len(LANGUAGES)) * 3
        topics = [TOPICS[(first + k) % len(TOPICS)] for k in range(3)]
        people.append(Person("agent", "work", [language], topics))
        served.update((language, topic) for topic in topics)
    combinations = sorted(served)
    for _ in range(waiting):
        language, topic = rng.choice(combinations)
        people.append(Person("device", "waiting", [language], [topic]))
    people.extend(Person("agent", "probe", [PROBE_LANGUAGE], []) for _ in range(PROBE_AGENTS))
    people.extend(
        Person("device", "probe", [PROBE_LANGUAGE], [rng.choice(TOPICS)])
        for _ in range(PROBE_DEVICES)
    )
    return Desk(busy, people)


async def seed(data_dir: Path, desk: Desk, secret_key: str) -> None:
    """Insert every agent and device of ``desk`` into the SQLite file of a server in ``data_dir``;
    fill in each person's socket auth."""
    records = Records(f"sqlite+aiosqlite:///{data_dir / 'mayday.db'}")
    signer = TokenSigner(secret_key, ttl_s=24 * 3600)
    password_hash = hash_password("queue-bench-password")
    now = time.time()
    agents, devices = [], []
    for index, person in enumerate(desk.people):
        if person.role == "agent":
            agent_id, name = new_id("agt"), f"qagent{index}"
            agents.append(
                {
                    "id": agent_id,
                    "name": name,
                    "password_hash": password_hash,
                    "languages": person.languages,
                    "skills": person.topics,
                    "created_at": now,
                }
            )
            person.auth = {"protocol": 1, "token": signer.issue(agent_id, name)[0]}
        else:
            device_id, secret = new_id("dev"), new_device_secret()
            devices.append(
                {
                    "id": device_id,
                    "name": f"queue device {index}",
                    "secret_hash": hash_device_secret(secret),
                    "created_at": now,
                }
            )
            person.auth = {"protocol": 1, "device_id": device_id, "device_secret": secret}
    try:
        await records.create_schema()
        async with records.engine.begin() as connection:
            await connection.execute(insert(AgentRow), agents)
            await connection.execute(insert(DeviceRow), devices)
    finally:
        await records.close()


class LoadWorker(LineWorker):
    """One :mod:`bench._queueload` process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process, waiting: int) -> None:
        super().__init__(process)
        self.waiting = waiting
        """Waiting customers this worker holds."""

    @classmethod
    async def start_all(
        cls, desk: Desk, urls: list[str], workdir: Path, per_worker: int, think_s: float
    ) -> list[LoadWorker]:
        """Spread the people over workers of at most ``per_worker`` clients each; the probe and
        working agents and the probe devices share the first worker (the probe measures there)."""
        specs = []
        for index, person in enumerate(desk.people):
            specs.append(
                {
                    "role": person.role,
                    "kind": person.kind,
                    "url": urls[index % len(urls)],
                    "auth": person.auth,
                    "locale": person.languages[0],
                    "topic": person.topics[0] if person.topics else "general",
                }
            )
        # The measuring clients get a process of their own, and the busy agents (each gets
        # every queue update) one apart from the devices: a client process that falls behind
        # answers the server's pings late and its sockets are dropped.
        groups = [[s for s in specs if s["kind"] in ("probe", "work")]]
        for role in ("agent", "device"):
            rest = [s for s in specs if s["role"] == role and s["kind"] not in ("probe", "work")]
            groups.extend(rest[i : i + per_worker] for i in range(0, len(rest), per_worker))
        workers = []
        for index, group in enumerate(groups):
            path = workdir / f"clients-{index}.json"
            path.write_text(json.dumps(group))
            process = await cls.spawn("bench._queueload", str(path), str(think_s), workdir=workdir)
            worker = cls(process, sum(1 for s in group if s["kind"] == "waiting"))
            ready = await worker._read()
            assert ready["ready"] == len(group), ready
            workers.append(worker)
        return workers

    @staticmethod
    async def each(workers: list[LoadWorker], command: str) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(w.ask(command) for w in workers)))

    @staticmethod
    def share(workers: list[LoadWorker], count: int) -> list[tuple[LoadWorker, int]]:
        """``count`` more presses spread over the workers in proportion to their customers."""
        holding = [w for w in workers if w.waiting]
        total = sum(w.waiting for w in holding) or 1
        shares = [(w, count * w.waiting // total) for w in holding]
        short = count - sum(n for _, n in shares)
        return [(w, n + (1 if i < short else 0)) for i, (w, n) in enumerate(shares)]

    @staticmethod
    async def stop_all(workers: list[LoadWorker]) -> None:
        await asyncio.gather(*(worker.stop() for worker in workers))
