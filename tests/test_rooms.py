"""Each socket's rooms indexed (``server/rooms.py``): after any sequence of joins, leaves, closed
rooms and disconnects, the rooms hold exactly what python-socketio's own manager holds."""

from __future__ import annotations

from typing import Any

import socketio
from hypothesis import given
from hypothesis import strategies as st

from server.rooms import LocalManager

SIDS = [f"sid{i}" for i in range(4)]
ROOMS = ["device:a", "device:b", "agent:x"]
NAMESPACES = ["/device", "/agent"]

operation = st.one_of(
    st.tuples(
        st.just("enter"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)
    ),
    st.tuples(
        st.just("leave"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)
    ),
    st.tuples(st.just("close"), st.just(""), st.sampled_from(NAMESPACES), st.sampled_from(ROOMS)),
    st.tuples(
        st.just("disconnect"), st.sampled_from(SIDS), st.sampled_from(NAMESPACES), st.just("")
    ),
)


def connect(manager: Any, sid: str, namespace: str) -> None:
    """As ``pre_connect`` does: the room of every socket, then the socket's own."""
    manager.basic_enter_room(sid, namespace, None, eio_sid=f"eio-{sid}")
    manager.basic_enter_room(sid, namespace, sid, eio_sid=f"eio-{sid}")
    manager.pending_connect.setdefault(namespace, []).append(sid)


def apply(manager: Any, step: tuple[str, str, str, str]) -> None:
    kind, sid, namespace, room = step
    connected = sid in manager.rooms.get(namespace, {}).get(None, {})
    if kind == "enter":
        if not connected:
            connect(manager, sid, namespace)
        manager.basic_enter_room(sid, namespace, room)
    elif kind == "leave":
        manager.basic_leave_room(sid, namespace, room)
    elif kind == "close":
        manager.basic_close_room(room, namespace)
    elif connected:
        manager.pre_disconnect(sid, namespace)
        manager.basic_disconnect(sid, namespace)


def snapshot(manager: Any) -> tuple[dict[str, dict[Any, dict[str, str]]], dict[str, list[str]]]:
    rooms = {
        ns: {room: dict(members) for room, members in by_room.items()}
        for ns, by_room in manager.rooms.items()
    }
    return rooms, {ns: list(sids) for ns, sids in manager.pending_disconnect.items()}


@given(st.lists(operation, max_size=40))
def test_the_rooms_are_the_stock_managers(steps: list[tuple[str, str, str, str]]) -> None:
    stock, indexed = socketio.AsyncManager(), LocalManager()
    for step in steps:
        apply(stock, step)
        apply(indexed, step)
        assert snapshot(indexed) == snapshot(stock), step
        for namespace in NAMESPACES:
            for sid in SIDS:
                assert sorted(map(str, indexed.get_rooms(sid, namespace))) == sorted(
                    stock.get_rooms(sid, namespace)
                )


def test_a_disconnect_leaves_every_room_of_the_socket_and_only_those() -> None:
    manager = LocalManager()
    for sid in SIDS:
        connect(manager, sid, "/device")
        manager.basic_enter_room(sid, "/device", f"device:{sid}")
    manager.pre_disconnect("sid1", "/device")
    manager.basic_disconnect("sid1", "/device")
    rooms = manager.rooms["/device"]
    assert "sid1" not in rooms[None]
    assert "sid1" not in rooms
    assert "device:sid1" not in rooms
    assert sorted(rooms[None]) == ["sid0", "sid2", "sid3"]
    assert manager.get_rooms("sid1", "/device") == []
    assert sorted(map(str, manager.get_rooms("sid2", "/device"))) == ["device:sid2", "sid2"]
    assert manager.pending_disconnect == {}
