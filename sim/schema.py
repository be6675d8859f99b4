"""The published JSON Schema of scenario files (``scenarios/schema.json``).

It is generated from the same pydantic models that validate scenarios, so editors check what
``mayday sim --check`` checks: each step may be written as its name (when every field has a
default), as ``name: value`` for its ``primary`` field, or as ``name: {fields}``. Regenerate the
file with ``mayday sim --print-schema > scenarios/schema.json``; a test holds it current.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, create_model

from .scenario import GroupExpect, Header, Language, TabletSetup
from .steps import STEP_TYPES

__all__ = ["json_schema"]


def json_schema() -> dict[str, Any]:
    """The published schema of a scenario file (``scenarios/schema.json``)."""
    items: list[Any] = []
    bare = []
    for kind, cls in STEP_TYPES.items():
        if cls.bare():
            bare.append(kind)
        body: Any = cls | None
        if cls.primary is not None:
            primary_type = cls.model_fields[cls.primary].annotation
            body = cls | primary_type | None
        wrapper = create_model(  # type: ignore[call-overload]
            f"{cls.__name__}Step",
            __config__=ConfigDict(extra="forbid", title=kind),
            __doc__=cls.summary,
            **{kind: (body, ...)},
        )
        items.append(wrapper)
    step_union: Any = Literal[tuple(bare)]
    for wrapper in items:
        step_union = step_union | wrapper
    document = create_model(
        "Scenario",
        __config__=ConfigDict(extra="forbid", title="mayday sim scenario"),
        __doc__="A support session to run with `mayday sim`; see docs/scenarios.md.",
        name=(str | None, None),
        description=(str, ""),
        customers=(
            int | str,
            Field(default=1, description=Header.model_fields["customers"].description),
        ),
        tablet=(TabletSetup, Field(default_factory=lambda: TabletSetup())),
        expect=(GroupExpect, Field(default_factory=lambda: GroupExpect())),
        agent_languages=(
            list[Language] | None,
            Field(default=None, description=Header.model_fields["agent_languages"].description),
        ),
        steps=(list[step_union], Field(min_length=1)),
    )
    schema: dict[str, Any] = document.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mayday.example/schemas/scenario.json"
    definitions = schema.get("$defs", {})
    for cls in STEP_TYPES.values():
        if cls.__name__ in definitions:
            cls.adjust_schema(definitions[cls.__name__])
    return schema
