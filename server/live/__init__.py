"""Live state: records, the session state machine, pure operations, and the stores behind them."""

from .memory import MemoryStore
from .records import Actor, AgentPresence, AuditEvent, LiveSession, RingRecord, SessionState, Stats
from .store import LiveStore, StaleRead, Txn

__all__ = [
    "Actor",
    "AgentPresence",
    "AuditEvent",
    "LiveSession",
    "LiveStore",
    "MemoryStore",
    "RingRecord",
    "SessionState",
    "StaleRead",
    "Stats",
    "Txn",
]
