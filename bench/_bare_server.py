"""The floor for idle connections: python-socketio in aiohttp, one namespace that takes everyone.

No authentication, no database, no rooms of our own, no desk: what a socket.io connection costs
by itself. Same transport and heartbeat as the mayday server (websocket only, ping every 10 s).

Run: ``python -m bench._bare_server --port 8080``
"""

from __future__ import annotations

import argparse
from typing import Any

import socketio
from aiohttp import web


class AcceptAll(socketio.AsyncNamespace):  # type: ignore[misc]
    async def on_connect(self, _sid: str, _environ: dict[str, Any], _auth: Any = None) -> bool:
        return True


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        transports=["websocket"],
        ping_interval=10,
        ping_timeout=10,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(AcceptAll("/device"))
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
