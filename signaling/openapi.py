"""The REST API (docs/protocol.md §14) as an OpenAPI 3.1 document, built from the signaling models.

``python -m signaling.schema`` writes it to ``agent_web/openapi.json``, which the server serves, as
every file of ``agent_web/``, at ``/openapi.json``. Request and response bodies are the models'
JSON Schema (pydantic, validation mode: a field the server leaves out while it has its default, as
``kind`` of a device or the STUN entries' ``username``, is optional). Every error has the one body
``{"error": {"code", "message"}}`` with the HTTP status of its code (:data:`HTTP_STATUS`).

The REST bodies that have no socket event (the session read-outs, ``/readyz``, a password
change, ``{"ok": true}``) are described by the models of this module: the documentation's own,
held equal to the server's answers by ``tests/test_fuzz_rest.py`` and by
``tests/test_openapi.py``, which also holds the document's paths equal to the server's routes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from . import models as m
from .errors import ErrorCode
from .models import PROTOCOL_VERSION, Id
from .models.rest import CannedReplies, Colleagues, DeviceHistory, ScreenshotInfo
from .openapi_admin import ADMIN_OPERATIONS
from .openapi_bodies import (
    ErrorBody,
    IceServers,
    Ok,
    Readiness,
    SessionTimeline,
    SessionView,
)
from .openapi_desk import DESK_OPERATIONS
from .operations import IMAGES, PROMETHEUS, Operation

__all__ = ["DEFAULT_PATH", "HTTP_STATUS", "OPERATIONS", "Operation", "build_openapi"]

DEFAULT_PATH = "openapi.json"
"""Its file name, beside the protocol's JSON Schema (``agent_web/``)."""

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNKNOWN_EVENT: 400,
    ErrorCode.PROTOCOL_MISMATCH: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_PARTY: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
}
"""The HTTP status of each error code (§5.2), as the server's error middleware answers it."""

# --- the operations ----------------------------------------------------------------------------

VISITORS = "/api/web/visitors"
SESSION_ID = "session_id"
SCREENSHOTS = "/api/sessions/{session_id}/screenshots"
IMAGE_TYPES = ("image/png", "image/jpeg")
LIMIT: dict[str, Any] = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "How many sessions at most (default 20).",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
}
PATH_IDS = {
    "session_id": "The session's (and its ticket's) id; any other answers 404.",
    "device_id": "The device's (or web visitor's) id; any other answers 404.",
    "screenshot_id": "The screenshot's id, as the session lists it; any other answers 404.",
}

CORE_OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/healthz", "healthz", "The process is alive", False, 200, Ok),
    Operation(
        "get",
        "/readyz",
        "readyz",
        "The process can take new work",
        False,
        200,
        Readiness,
        also=(503,),
    ),
    Operation(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics (with MAYDAY_METRICS_TOKEN set, only with it as the bearer token)",
        False,
        200,
        "prometheus",
        errors=(ErrorCode.UNAUTHORIZED,),
    ),
    Operation(
        "post",
        "/api/devices",
        "registerDevice",
        "Register a device (§3.1)",
        False,
        201,
        m.DeviceRegistrationResponse,
        body=m.DeviceRegistration,
        errors=(ErrorCode.FORBIDDEN,),
    ),
    Operation(
        "post",
        "/api/agents/login",
        "login",
        "Sign an agent in (§3.2)",
        False,
        200,
        m.AgentLoginResponse,
        body=m.AgentLoginRequest,
        errors=(ErrorCode.UNAUTHORIZED, ErrorCode.RATE_LIMITED),
    ),
    Operation(
        "post",
        "/api/agents/refresh",
        "refresh",
        "A fresh token for the same agent",
        True,
        200,
        m.AgentLoginResponse,
    ),
    Operation(
        "post",
        "/api/agents/logout",
        "logout",
        "Sign the agent out everywhere: every token dies, its socket is closed",
        True,
        200,
        Ok,
    ),
    Operation(
        "post",
        "/api/agents/password",
        "changePassword",
        "Set a new password: every other token dies; the answer carries a fresh one",
        True,
        200,
        m.AgentLoginResponse,
        body=m.PasswordChange,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.RATE_LIMITED),
    ),
    Operation("get", "/api/queue", "queue", "The queue, as queue.update", True, 200, m.QueueUpdate),
    Operation(
        "get",
        "/api/ice-servers",
        "iceServers",
        "ICE servers for the calling agent (§13)",
        True,
        200,
        IceServers,
    ),
    Operation(
        "get",
        "/api/sessions/{session_id}",
        "session",
        "A live or recorded session",
        True,
        200,
        SessionView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        "get",
        "/api/sessions/{session_id}/events",
        "sessionEvents",
        "A session's audit timeline",
        True,
        200,
        SessionTimeline,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        "post",
        SCREENSHOTS,
        "addScreenshot",
        "Keep a still image of the customer's picture with the session (its agent, while live)",
        True,
        201,
        ScreenshotInfo,
        body=IMAGES,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.NOT_PARTY, ErrorCode.CONFLICT),
    ),
    Operation(
        "get",
        SCREENSHOTS + "/{screenshot_id}",
        "screenshot",
        "One screenshot's image",
        True,
        200,
        IMAGES,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        "get",
        "/api/devices/{device_id}/sessions",
        "deviceSessions",
        "What the server knows of a customer's device, and its sessions, newest first",
        True,
        200,
        DeviceHistory,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.BAD_REQUEST),
        query=(LIMIT,),
    ),
    Operation(
        "get",
        "/api/colleagues",
        "colleagues",
        "Who else is signed in, and who takes a transfer now (§19.4)",
        True,
        200,
        Colleagues,
    ),
    Operation(
        "get",
        "/api/canned-replies",
        "cannedReplies",
        "The desk's canned replies, for the chat",
        True,
        200,
        CannedReplies,
    ),
    Operation(
        "post",
        VISITORS,
        "createWebVisitor",
        "A web visitor from a site's page (§18.3)",
        False,
        201,
        m.WebVisitorResponse,
        body=m.WebVisitorRequest,
        origin=True,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.RATE_LIMITED),
    ),
    Operation(
        "options",
        VISITORS,
        "preflightWebVisitor",
        "The browser's CORS preflight: the origin must be some site's",
        False,
        204,
        None,
        origin=True,
        errors=(ErrorCode.FORBIDDEN,),
    ),
)
"""The core REST operations, in §14's order."""

OPERATIONS: tuple[Operation, ...] = CORE_OPERATIONS + DESK_OPERATIONS + ADMIN_OPERATIONS
"""Every REST operation the server answers: the core ones, the desk's (§19), the admin's (§19)."""

_MODELS: tuple[type[BaseModel], ...] = (ErrorBody,)


def _error_statuses(operation: Operation) -> list[int]:
    """Every error status the operation may answer: its own refusals, and the ones of its kind.

    A body can be malformed (400) or too large (413); a bearer route refuses a missing, invalid
    or expired token (401); and any operation can fail on the server (500)."""
    codes = set(operation.errors) | {ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE}
    if operation.body is not None:
        codes |= {ErrorCode.BAD_REQUEST, ErrorCode.PAYLOAD_TOO_LARGE}
    if operation.bearer:
        codes.add(ErrorCode.UNAUTHORIZED)
    if operation.needs not in (None, "agent"):
        codes.add(ErrorCode.FORBIDDEN)
    return sorted({HTTP_STATUS[code] for code in codes})


def _error_response(status: int) -> dict[str, Any]:
    codes = sorted(code.value for code, code_status in HTTP_STATUS.items() if code_status == status)
    headers: dict[str, Any] = {}
    if status == 401:
        headers["WWW-Authenticate"] = {
            "description": "Always `Bearer`.",
            "schema": {"type": "string", "const": "Bearer"},
        }
    if status == 429:
        headers["Retry-After"] = {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    schema = {
        "allOf": [{"$ref": "#/components/schemas/ErrorBody"}],
        "properties": {"error": {"properties": {"code": {"enum": codes}}}},
    }
    response: dict[str, Any] = {
        "description": f"Refused with {' or '.join(codes)}; nothing was changed.",
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _success(operation: Operation) -> dict[str, Any]:
    description = operation.summary
    if operation.response is None:
        return {"description": description}
    if operation.response == "prometheus":
        return {
            "description": description,
            "content": {PROMETHEUS: {"schema": {"type": "string"}}},
        }
    if operation.response == IMAGES:
        return {"description": description, "content": _images()}
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(operation.response)}},
    }


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name, description in PATH_IDS.items():
        if f"{{{name}}}" in operation.path:
            parameters.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": TypeAdapter(Id).json_schema(),
                }
            )
    parameters.extend(operation.query)
    if operation.origin:
        parameters.append(
            {
                "name": "Origin",
                "in": "header",
                "required": False,
                "description": "The page's origin, which the browser sends; it must be allowed "
                "for the site (without it: 403).",
                "schema": {"type": "string"},
            }
        )
    return parameters


def _images() -> dict[str, Any]:
    return {
        kind: {"schema": {"type": "string", "format": "binary", "contentMediaType": kind}}
        for kind in IMAGE_TYPES
    }


def _operation(operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {str(operation.status): _success(operation)}
    for status in operation.also:
        responses[str(status)] = _success(operation)
    for status in _error_statuses(operation):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "security": [{"bearer": []}] if operation.bearer else [],
        "responses": responses,
    }
    if operation.needs is not None:
        document["x-mayday-role"] = operation.needs
    parameters = _parameters(operation)
    if parameters:
        document["parameters"] = parameters
    if operation.body == IMAGES:
        document["requestBody"] = {"required": True, "content": _images()}
    elif operation.body is not None:
        document["requestBody"] = {
            # An empty body counts as {} (every field left to its default).
            "required": False,
            "content": {"application/json": {"schema": _ref(operation.body)}},
        }
    return document


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST API."""
    models: set[type[BaseModel]] = set(_MODELS)
    for operation in OPERATIONS:
        for model in (operation.body, operation.response):
            if isinstance(model, type):
                models.add(model)
    _, top = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda model: model.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation)
    statuses = sorted({status for op in OPERATIONS for status in _error_statuses(op)})
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "mayday REST API",
            "version": str(PROTOCOL_VERSION),
            "description": (
                "Registration, sign-in and read-outs of the mayday server (docs/protocol.md §14). "
                'Every error answers {"error": {"code", "message"}} with the HTTP status of its '
                "code (§5.2). The socket events are in /protocol.schema.json."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "responses": {f"Error{status}": _error_response(status) for status in statuses},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An agent token from POST /api/agents/login.",
                }
            },
        },
    }
