"""One round trip per decision for the Redis store, and records parsed once.

An operation (:meth:`~server.live.redis.RedisStore.atomically`) decides in Python on the records
it names and sends its writes in one script call (:data:`APPLY`) that first checks, atomically,
that every record it decided on is still the same (by its SHA-1, computed here and by Redis); if
one changed, nothing is written, the script answers with the records as they are now, and the
operation runs again on those. So a check and its write cannot be split by another process.

The records it decides on come from :class:`KnownValues`, the JSON this process last read or
wrote for each key, when it knows them all: then a decision costs one round trip, and a stale
value costs one more (the failed script's answer is the fresh read). Otherwise they are read
first with one ``MGET``: two round trips (``WATCH``, ``MGET``, ``MULTI``/``EXEC`` took three,
with a reply per queued command).

:class:`ParseMemo` keeps the records that bulk reads (all agents, every live session) parsed last
time with their JSON: an unchanged record is not parsed again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

from pydantic import BaseModel

__all__ = ["APPLY", "KnownValues", "ParseMemo", "Writes", "digest"]

M = TypeVar("M", bound=BaseModel)

APPLY = """
local n = tonumber(ARGV[1])
local current = {}
local stale = false
for i = 1, n do
  local value = redis.call('GET', KEYS[i])
  current[i] = value
  local seen = ''
  if value then seen = redis.sha1hex(value) end
  if seen ~= ARGV[i + 1] then stale = true end
end
if stale then return current end
local i = n + 2
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  if ARGV[i + 1] == 'DELIFEQ' then
    if redis.call('GET', ARGV[i + 2]) == ARGV[i + 3] then redis.call('DEL', ARGV[i + 2]) end
  elseif ARGV[i + 1] == 'BUMP' then
    redis.call('ZADD', ARGV[i + 3], redis.call('INCR', ARGV[i + 2]), ARGV[i + 4])
  else
    redis.call(unpack(ARGV, i + 1, i + count))
  end
  i = i + count + 1
end
return 1
"""
"""KEYS: the records decided on. ARGV: their number, each one's SHA-1 as this process knew it
(empty: it did not exist), then the writes, each as its length and the command (``DELIFEQ key
value`` deletes the key only if it holds the value; ``BUMP counter zset member`` counts the
counter up and scores the member with the new count). Returns 1 if applied; if a record had
changed, writes nothing and returns every record as it is now (nil where absent), in KEYS order.
With no writes it only checks: the records known here are still current."""


def digest(raw: str | None) -> str:
    """What :data:`APPLY` compares a record with: the SHA-1 of its JSON, empty if it is absent."""
    return "" if raw is None else hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


class Writes:
    """The writes of one operation, as :data:`APPLY` takes them."""

    def __init__(self) -> None:
        self.args: list[str | int | float] = []
        self.records: dict[str, str | None] = {}
        """Each record written, as it will be once applied (``None``: deleted)."""

    def add(self, *command: str | int | float) -> None:
        self.args.append(len(command))
        self.args.extend(command)

    def set_record(self, key: str, raw: str) -> None:
        self.add("SET", key, raw)
        self.records[key] = raw

    def delete_record(self, key: str) -> None:
        self.add("DEL", key)
        self.records[key] = None

    def __bool__(self) -> bool:
        return bool(self.args)


class ParseMemo(Generic[M]):
    """Records by id with the JSON they were parsed from, for bulk reads of unchanged records.

    Hands out shallow copies: bulk reads are read-only (``LiveStore.waiting``/``agents``)."""

    def __init__(self, model: type[M], size: int) -> None:
        self._model = model
        self._size = size
        self._parsed: OrderedDict[str, tuple[str, M]] = OrderedDict()

    def parse(self, key: str, raw: str | None) -> M | None:
        if raw is None:
            self._parsed.pop(key, None)
            return None
        known = self._parsed.get(key)
        if known is not None and known[0] == raw:
            return known[1].model_copy()
        record = self._model.model_validate_json(raw)
        self._parsed[key] = (raw, record)
        self._parsed.move_to_end(key)
        if len(self._parsed) > self._size:
            self._parsed.popitem(last=False)
        return record.model_copy()


class KnownValues:
    """Each record's JSON as this process last read or wrote it (``None``: it did not exist).

    Possibly stale (another process may have written since), which is why it is only ever used
    for a decision that :data:`APPLY` checks before it writes. On one process, or while a record
    is handled on the process that last wrote it, it is current, and a decision costs one round
    trip. The most recently used ``size`` keys are kept.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[str, str | None] = OrderedDict()

    def recall(self, keys: list[str]) -> list[str | None] | None:
        """The values of all ``keys``, or ``None`` if one of them is not known here."""
        values: list[str | None] = []
        for key in keys:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            values.append(self._values[key])
        return values

    def learn(self, key: str, raw: str | None) -> None:
        self._values[key] = raw
        self._values.move_to_end(key)
        if len(self._values) > self._size:
            self._values.popitem(last=False)
