"""The checks every step goes through, driven by what the step types declare.

Nothing here knows a particular step. A step's YAML is read the same way for all of them (a name,
``name: value`` for the ``primary`` field, or ``name: {fields}``), its fields are checked by its
pydantic model, the fields typed ``ElementName`` against the tablet's elements, and its place in
the scenario by its :class:`~sim.steps.base.Flow`. Every problem names its file and line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .elements import unknown_element
from .source import Problem, YamlMap, YamlSeq, line_of, suggest
from .steps import STEP_TYPES
from .steps.base import Phase, StepSpec

__all__ = ["element_problems", "flow_problems", "pydantic_problems", "read_step"]


def read_step(
    item: Any, line: int, index: int, file: str, problems: list[Problem]
) -> StepSpec | None:
    """The step at ``index`` of a scenario, or ``None`` with its problems added to ``problems``."""
    if isinstance(item, str):
        kind, body, body_line = item, None, line
    elif isinstance(item, YamlMap) and len(item) == 1:
        kind = next(iter(item))
        body, body_line = item[kind], item.key_lines[kind]
    else:
        problems.append(
            Problem(
                file,
                line,
                f"step {index}: a step is a name ('- press_help') or one name with its fields "
                "('- tap: {element: app.settings}')"
                + (
                    f"; this one has {len(item)} keys: {', '.join(item)}"
                    if isinstance(item, YamlMap)
                    else ""
                ),
            )
        )
        return None
    cls = STEP_TYPES.get(kind)
    if cls is None:
        problems.append(
            Problem(
                file,
                line,
                f"step {index}: unknown step '{kind}'{suggest(kind, tuple(STEP_TYPES))}; "
                "steps are: " + ", ".join(STEP_TYPES),
            )
        )
        return None
    label = f"step {index} {kind}"
    if body is None:
        body = YamlMap.at(body_line)
    elif not isinstance(body, YamlMap):
        if cls.primary is None:
            problems.append(
                Problem(
                    file,
                    body_line,
                    f"{label}: takes fields as a mapping (e.g. '{kind}: {{timeout: 10}}'), "
                    f"not {body!r}",
                )
            )
            return None
        body = YamlMap.at(body_line, {cls.primary: body})
    try:
        step = cls.model_validate(body)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, body, file, body_line, label, cls))
        return None
    for loc, message in step.extra_problems():
        problems.append(Problem(file, line_of(body, loc, body_line), f"{label}: {message}"))
    return StepSpec(index=index, line=line, kind=kind, step=step)


def pydantic_problems(
    exc: ValidationError,
    data: Any,
    file: str,
    default_line: int,
    label: str,
    cls: type[BaseModel] | None = None,
) -> list[Problem]:
    """pydantic's errors as problems at their lines; a misspelt field gets a suggestion."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = line_of(data, loc, default_line)
        name = ".".join(str(part) for part in loc)
        if error["type"] == "extra_forbidden":
            owner = cls if cls is not None and len(loc) == 1 else None
            fields = _field_names(owner) if owner is not None else []
            hint = suggest(str(loc[-1]), fields) if fields else ""
            known = f"; fields: {', '.join(fields)}" if fields else ""
            message = f"unknown field '{name}'{hint}{known}"
        elif error["type"] == "missing":
            message = f"'{name}' is required"
        else:
            message = f"'{name}': {_clean(error['msg'])}" if name else _clean(error["msg"])
            if "input" in error and error["type"] not in ("value_error",):
                message += f" (got {error['input']!r})"
        problems.append(Problem(file, line, f"{label}: {message}"))
    return problems


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


def _field_names(cls: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in cls.model_fields.items()]


def element_problems(specs: list[StepSpec], steps_data: YamlSeq, file: str) -> list[Problem]:
    """Every element a step names must be one the tablet can show."""
    problems = []
    for spec in specs:
        item = steps_data[spec.index - 1]
        body = item.get(spec.kind) if isinstance(item, YamlMap) else None
        for key, name in spec.step.elements():
            message = unknown_element(name)
            if message is None:
                continue
            line = body.key_lines.get(key, spec.line) if isinstance(body, YamlMap) else spec.line
            problems.append(Problem(file, line, f"step {spec.index} {spec.kind}: {message}"))
    return problems


_WHERE: dict[Phase, str] = {
    "idle": "before press_help",
    "waiting": "before wait_for_agent",
    "ended": "after the session ended",
    "session": "in the session",
}


def flow_problems(specs: list[StepSpec], file: str) -> list[Problem]:
    """Steps in an order that can make sense: the customer asks for help before an agent can
    answer, session steps come while a session runs. Whether consent is there when input is sent
    is not checked here: that is what a run finds out (and fails on, with the reason)."""
    problems: list[Problem] = []
    phase: Phase = "idle"
    for spec in specs:
        flow = spec.step.placement()
        if flow.allowed is not None and phase not in flow.allowed:
            message = flow.refusal or f"needs a running session, but comes {_WHERE[phase]}"
            problems.append(Problem(file, spec.line, f"step {spec.index} {spec.kind}: {message}"))
        if flow.then is not None:
            phase = flow.then
    return problems
