"""Export the protocol as JSON Schema for the browser console and third-party devices.

``python -m signaling.schema [PATH [OPENAPI_PATH]]`` writes one document whose ``$defs`` hold every
payload model and whose ``events`` table maps each event name, per role and direction, to its model;
and beside it (or at ``OPENAPI_PATH``) the REST API's OpenAPI document (:mod:`signaling.openapi`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .annotations import ANNOTATION_CHANNEL, Clear, DeviceStatus, Laser, Pin, Stroke, Undo
from .events import INBOUND, OUTBOUND
from .models import PROTOCOL_VERSION, AgentAuth, DeviceAuth
from .openapi import DEFAULT_PATH as OPENAPI_NAME
from .openapi import build_openapi

__all__ = ["DEFAULT_OPENAPI_PATH", "DEFAULT_PATH", "build_schema", "dump", "main"]

DEFAULT_PATH = Path("agent_web/protocol.schema.json")
DEFAULT_OPENAPI_PATH = DEFAULT_PATH.with_name(OPENAPI_NAME)


def build_schema() -> dict[str, Any]:
    channel_in: list[type[BaseModel]] = [Stroke, Laser, Undo, Clear, Pin]
    models: set[type[BaseModel]] = {DeviceAuth, AgentAuth, DeviceStatus, *channel_in}
    for table in (*INBOUND.values(), *OUTBOUND.values()):
        models.update(table.values())
    ordered = sorted(models, key=lambda model: model.__name__)
    _, top = models_json_schema(
        [(model, "validation") for model in ordered], ref_template="#/$defs/{model}"
    )

    def ref(model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": f"#/$defs/{model.__name__}"}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mayday signaling protocol",
        "protocol": PROTOCOL_VERSION,
        "auth": {"device": ref(DeviceAuth), "agent": ref(AgentAuth)},
        "events": {
            "client_to_server": {
                role: {event.value: ref(model) for event, model in table.items()}
                for role, table in INBOUND.items()
            },
            "server_to_client": {
                role: {event.value: ref(model) for event, model in table.items()}
                for role, table in OUTBOUND.items()
            },
        },
        "data_channels": {
            ANNOTATION_CHANNEL: {
                "agent_to_device": {"oneOf": [ref(model) for model in channel_in]},
                "device_to_agent": {"oneOf": [ref(DeviceStatus)]},
            }
        },
        "$defs": top.get("$defs", {}),
    }


def dump(document: dict[str, Any]) -> str:
    """The text of a written document: what the tests compare the committed files with."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    openapi_path = Path(args[1]) if len(args) > 1 else path.with_name(OPENAPI_NAME)
    for target, document in ((path, build_schema()), (openapi_path, build_openapi())):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(document))
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
