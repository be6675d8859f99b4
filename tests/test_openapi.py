"""The REST API's OpenAPI document: committed as generated, served, and in step with the routes.

A route added to the server without an operation in ``signaling/openapi.py`` fails here, and so
does an operation whose route is gone. ``tests/test_fuzz_rest.py`` then holds the server's answers
to the document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.rest import _STATUS as SERVER_STATUS
from server.settings import Settings
from signaling import ErrorCode
from signaling.openapi import HTTP_STATUS, build_openapi
from signaling.schema import DEFAULT_OPENAPI_PATH, dump

ROOT = Path(__file__).resolve().parent.parent
NOT_REST = ("/socket.io/", "/vendor/", "/widget.js")
"""Route prefixes that are no REST operation: socket.io's own, the files (also ``/`` and the
console's files, the catch-all ``/{path}``)."""
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
"""HEAD and OPTIONS are left out: aiohttp adds a HEAD to every GET, and OPTIONS is CORS."""


def rest_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        resource = route.resource
        path = resource.canonical if resource is not None else ""
        if route.method not in METHODS or path in {"/", "/{path}"}:
            continue
        if path.startswith(NOT_REST):
            continue
        found.add((route.method, path))
    return found


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }


def test_committed_openapi_is_current() -> None:
    path = ROOT / DEFAULT_OPENAPI_PATH
    assert path.is_file(), f"{DEFAULT_OPENAPI_PATH} is missing: run python -m signaling.schema"
    assert path.read_text() == dump(build_openapi()), (
        f"{DEFAULT_OPENAPI_PATH} is stale: run python -m signaling.schema and commit it"
    )


def test_every_route_is_documented_and_every_operation_is_a_route(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key="k" * 40))
    routes = rest_routes(app)
    assert ("POST", "/api/devices") in routes  # the filter keeps the REST routes
    document = build_openapi()
    assert documented(document) == routes, (
        f"undocumented routes: {sorted(routes - documented(document))}; "
        f"documented, but no route: {sorted(documented(document) - routes)}"
    )


def test_the_statuses_are_the_servers() -> None:
    assert HTTP_STATUS == SERVER_STATUS
    assert set(HTTP_STATUS) == set(ErrorCode)


def test_every_reference_resolves_and_every_error_is_the_one_body() -> None:
    document = build_openapi()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for ref in refs:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = {int(status) for status in operation["responses"]}
            assert 500 in statuses, (method, path)
            if operation["security"]:
                assert 401 in statuses, (method, path)
            errors = {s for s in statuses if s >= 400 and s != 503}
            for status in errors:
                ref = operation["responses"][str(status)]["$ref"]
                assert ref == f"#/components/responses/Error{status}"
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert bearer == {**bearer, "type": "http", "scheme": "bearer"}


async def test_the_server_publishes_the_document(
    aiohttp_server: Callable[..., Any], tmp_path: Path
) -> None:
    server: TestServer = await aiohttp_server(
        create_app(Settings(data_dir=tmp_path, secret_key="k" * 40)), host="127.0.0.1"
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.make_url("/openapi.json")) as response,
    ):
        assert response.status == 200
        assert json.loads(await response.text()) == build_openapi()
