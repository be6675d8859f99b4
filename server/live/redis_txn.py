"""One round trip per decision for the Redis store, and records parsed once.

An operation (:meth:`~server.live.redis.RedisStore.atomically`) reads its records with one
``MGET``, decides in Python, and sends its writes in one script call (:data:`APPLY`) that first
checks, atomically, that every record it read is still the same (by its SHA-1, computed here and
by Redis); if one changed, nothing is written and the operation runs again on fresh records. So a
decision costs two round trips (``WATCH``, ``MGET``, ``MULTI``/``EXEC`` took three, with a reply
per queued command), and a check and its write still cannot be split by another process.

:class:`ParseMemo` keeps the records that bulk reads (all agents, every live session) parsed last
time with their JSON: an unchanged record is not parsed again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

from pydantic import BaseModel

__all__ = ["APPLY", "ParseMemo", "Writes", "digest"]

M = TypeVar("M", bound=BaseModel)

APPLY = """
local n = tonumber(ARGV[1])
for i = 1, n do
  local value = redis.call('GET', KEYS[i])
  local seen = ''
  if value then seen = redis.sha1hex(value) end
  if seen ~= ARGV[i + 1] then return 0 end
end
local i = n + 2
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  if ARGV[i + 1] == 'DELIFEQ' then
    if redis.call('GET', ARGV[i + 2]) == ARGV[i + 3] then redis.call('DEL', ARGV[i + 2]) end
  else
    redis.call(unpack(ARGV, i + 1, i + count))
  end
  i = i + count + 1
end
return 1
"""
"""KEYS: the records read. ARGV: their number, each one's SHA-1 as read (empty: it did not
exist), then the writes, each as its length and the command (``DELIFEQ key value`` deletes the
key only if it holds the value). Returns 1 if applied, 0 if a record had changed."""


def digest(raw: str | None) -> str:
    """What :data:`APPLY` compares a record with: the SHA-1 of its JSON, empty if it is absent."""
    return "" if raw is None else hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


class Writes:
    """The writes of one operation, as :data:`APPLY` takes them."""

    def __init__(self) -> None:
        self.args: list[str | int | float] = []

    def add(self, *command: str | int | float) -> None:
        self.args.append(len(command))
        self.args.extend(command)

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
