"""The socket handler table and the protocol's event table cannot drift apart."""

from __future__ import annotations

import pytest

from server.handlers import HANDLERS, Handler, _check_against_protocol
from signaling import Event


def test_the_shipped_table_covers_the_protocol() -> None:
    _check_against_protocol(HANDLERS)


def test_a_missing_handler_stops_the_server_at_start() -> None:
    partial: dict[Event, Handler] = {
        event: row for event, row in HANDLERS.items() if event is not Event.CHAT_SEND
    }
    with pytest.raises(RuntimeError, match="no handler"):
        _check_against_protocol(partial)


def test_a_row_with_the_wrong_model_stops_the_server_at_start() -> None:
    swapped = dict(HANDLERS)
    swapped[Event.CHAT_SEND] = HANDLERS[Event.SESSION_NOTE]
    with pytest.raises(RuntimeError, match="handled as"):
        _check_against_protocol(swapped)
