"""What every step is: a pydantic model of its YAML fields that also says where it may come in a
scenario and how it runs.

A step is declared once, as a subclass of :class:`Step` with a ``kind`` (its YAML name): its fields
are the model's fields, its place in a scenario is its :class:`Flow`, and its executor is its
:meth:`Step.execute`. Defining the class registers it in :data:`REGISTRY`, and everything else reads
it from there: the loader (:mod:`sim.scenario`), the JSON Schema (:mod:`sim.schema`), the runner
and the test that holds ``docs/scenarios.md`` to every field. The registry lives here, not in the
package's ``__init__``, so that the step modules import only this module and never the package
that imports them.

The checks that are the same for every step are driven by the field types, not written per step:
a field typed :data:`ElementName` is checked against the tablet's elements, a :data:`Color` refuses
an unquoted ``#`` with a hint. What only one step knows (``give either element or from/to``) is its
:meth:`Step.extra_problems`.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = [
    "ANYWHERE",
    "IN_SESSION",
    "REGISTRY",
    "Actor",
    "Color",
    "ElementName",
    "Expect",
    "Flow",
    "Json",
    "Phase",
    "Point",
    "Seconds",
    "Step",
    "StepSpec",
    "Strict",
]

Json = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Field types


class _NamesElement:
    """Marks a field type as the name of a tablet element (see :meth:`Step.elements`)."""

    def __repr__(self) -> str:
        return "ElementName"


_ELEMENT = _NamesElement()


def _colour(value: object) -> object:
    if value is None:
        raise ValueError(
            'a colour is required; quote it, e.g. color: "#ff00ff" (an unquoted # starts a '
            "YAML comment)"
        )
    return value


Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
ElementName = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", description="A named UI element."),
    _ELEMENT,
]
Seconds = Annotated[float, Field(gt=0, le=3600)]
Actor = Literal["agent", "customer"]
Expect = Literal["applied", "refused"]
Color = Annotated[
    str,
    Field(pattern=r"^#[0-9a-fA-F]{6}$", description='e.g. "#ff00ff"'),
    BeforeValidator(_colour),
]


def _names_element(info: FieldInfo) -> bool:
    def mentions(annotation: Any) -> bool:
        if typing.get_origin(annotation) is Annotated and _ELEMENT in annotation.__metadata__:
            return True
        return any(mentions(arg) for arg in typing.get_args(annotation))

    return _ELEMENT in info.metadata or mentions(info.annotation)


class Strict(BaseModel):
    """A model of YAML fields: a misspelt field is an error with a suggestion, never ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------------------------
# Where a step may come

Phase = Literal["idle", "waiting", "session", "ended"]
"""Where the customer is: before Help, waiting for an agent, in a session, after it."""


@dataclass(frozen=True)
class Flow:
    """Where a step may come in a scenario, and where it leaves the customer.

    ``allowed`` is the phases it may come in (``None``: any); ``refusal`` says why not (empty: the
    usual "needs a running session" with where it comes instead); ``then`` is the phase after it
    (``None``: unchanged)."""

    allowed: frozenset[Phase] | None = None
    refusal: str = ""
    then: Phase | None = None


ANYWHERE = Flow()
IN_SESSION = Flow(frozenset({"session"}))


# --------------------------------------------------------------------------------------------
# Steps

REGISTRY: dict[str, type[Step]] = {}
"""Every step by its YAML name, in the order the step modules define them (see the package)."""


class Step(Strict):
    """A step; a subclass with a ``kind`` (its YAML name) is a step type and registers itself.

    ``primary`` is the field the shorthand ``- kind: value`` sets, ``summary`` the schema's one-line
    description, ``flow`` where it may come, ``waits`` how often it may wait out its ``timeout``
    (for the bound on a whole run)."""

    kind: ClassVar[str] = ""
    primary: ClassVar[str | None] = None
    summary: ClassVar[str] = ""
    flow: ClassVar[Flow] = ANYWHERE
    waits: ClassVar[int] = 1
    element_fields: ClassVar[tuple[str, ...]] = ()
    """Found from the field types when the class is defined: fields typed ElementName."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.element_fields = tuple(
            name for name, info in cls.model_fields.items() if _names_element(info)
        )
        kind = cls.__dict__.get("kind")  # a base without its own kind is not a step type
        if not kind:
            return
        if kind in REGISTRY:
            raise TypeError(
                f"two steps are called {kind!r}: {REGISTRY[kind].__qualname__} "
                f"and {cls.__qualname__}"
            )
        if cls.execute is Step.execute:
            raise TypeError(f"the step {kind!r} ({cls.__qualname__}) has no execute")
        REGISTRY[kind] = cls

    @classmethod
    def bare(cls) -> bool:
        """Whether the step may be written as just its name (every field has a default)."""
        return not any(info.is_required() for info in cls.model_fields.values())

    @classmethod
    def adjust_schema(cls, definition: Json) -> None:
        """Change the step's JSON Schema definition where the model cannot say it all."""

    def placement(self) -> Flow:
        """Where this step, with these fields, may come (usually the class's ``flow``)."""
        return self.flow

    def elements(self) -> Iterator[tuple[str, str]]:
        """``(field, element name)`` for every element the step names, for the element check."""
        for name in self.element_fields:
            value = getattr(self, name)
            if value is not None:
                yield type(self).model_fields[name].alias or name, value

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Problems of this step that its field types cannot see: ``(location, message)``."""
        return []

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        """Do the step for ``customer``; raise :class:`~sim.errors.StepFailed` with the reason.

        ``detail`` collects what the step found, for the JSON output."""
        raise NotImplementedError(f"the step {self.kind!r} cannot run")


@dataclass(frozen=True)
class StepSpec:
    """A step as a scenario file has it: its place, its line, its kind and its fields."""

    index: int
    """1-based position in the scenario."""
    line: int
    kind: str
    step: Step

    def where(self, file: str) -> str:
        return f"step {self.index} {self.kind} ({file}:{self.line})"
