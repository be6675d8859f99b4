"""Scenarios as data: YAML files of steps, validated before anything runs.

A scenario is a list of steps one customer and the agent who answers go through (see
``docs/scenarios.md``). Loading checks, in this order, and reports every problem with its file and
line:

1. YAML syntax (PyYAML's own message and position);
2. the scenario's own fields and each step's fields, with pydantic models (``extra="forbid"``:
   a misspelt field is an error with a suggestion, never silently ignored);
3. element names against every element the simulated tablet can show;
4. the flow: steps that need a session come after ``wait_for_agent``, ``customer_allows`` answers
   a ``request_control``, agent input that must be applied has control, and so on.

The models also give the published JSON Schema (``scenarios/schema.json``, from
:func:`json_schema`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

__all__ = [
    "STATE_KEYS",
    "STEP_TYPES",
    "CustomerCount",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Step",
    "StepSpec",
    "element_catalogue",
    "json_schema",
    "load_scenario",
    "load_scenarios",
]

# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One reason a scenario cannot run, where it is."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario file (or several) that cannot run; ``problems`` has every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --------------------------------------------------------------------------------------------
# YAML with line numbers


class _Map(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys are (1-based lines)."""

    line: int
    key_lines: dict[str, int]


class _Seq(list[Any]):
    line: int
    item_lines: list[int]


def _parse_yaml(text: str, file: str) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(node, loader, file)
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken construct starts (the line to fix); the problem
        # mark is where the parser gave up, often a line or more later.
        context, problem = exc.context_mark, exc.problem_mark
        mark = context or problem
        what = "; ".join(str(part) for part in (exc.context, exc.problem) if part)
        if context is not None and problem is not None and problem.line != context.line:
            what += f" (noticed at line {problem.line + 1}, column {problem.column + 1})"
        elif problem is not None:
            what += f" (column {problem.column + 1})"
        raise ScenarioError(
            [Problem(file, mark.line + 1 if mark else None, f"not valid YAML: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(file, None, f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _convert(node: yaml.Node, loader: yaml.SafeLoader, file: str) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # merge keys (<<)
        result = _Map()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                raise ScenarioError(
                    [
                        Problem(
                            file,
                            key_line,
                            f"'{key}' appears twice in one mapping (first on line "
                            f"{result.key_lines[key]})",
                        )
                    ]
                )
            result[key] = _convert(value_node, loader, file)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        seq = _Seq(_convert(item, loader, file) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)


def _line_of(data: Any, loc: tuple[int | str, ...], default: int | None) -> int | None:
    """The line of the deepest node along ``loc`` (a pydantic error location) that has one."""
    line = default
    current = data
    for part in loc:
        if isinstance(current, _Map) and isinstance(part, str) and part in current:
            line = current.key_lines.get(part, line)
            current = current[part]
        elif isinstance(current, _Seq) and isinstance(part, int) and 0 <= part < len(current):
            line = current.item_lines[part]
            current = current[part]
        else:
            break
    return line


def _suggest(word: str, choices: list[str] | frozenset[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------------------------
# Field types

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
ElementName = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", description="A named UI element.")
]
Seconds = Annotated[float, Field(gt=0, le=3600)]
Actor = Literal["agent", "customer"]
Expect = Literal["applied", "refused"]


def _colour(value: object) -> object:
    if value is None:
        raise ValueError(
            'a colour is required; quote it, e.g. color: "#ff00ff" (an unquoted # starts a '
            "YAML comment)"
        )
    return value


Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description='e.g. "#ff00ff"')]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------------------------
# Steps

Phase = Literal["idle", "waiting", "session", "ended"]


class Step(_Strict):
    """A step; subclasses set ``kind`` (its YAML name) and ``primary`` (the shorthand field)."""

    kind: ClassVar[str] = ""
    primary: ClassVar[str | None] = None
    summary: ClassVar[str] = ""

    def elements(self) -> Iterator[tuple[str, str]]:
        """``(field, element name)`` pairs, for the element check."""
        return iter(())

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Problems pydantic cannot see: ``(location, message)``."""
        return []


class PressHelp(Step):
    kind = "press_help"
    summary = "The customer taps the Help button; a ticket opens in the queue."
    topic: str | None = Field(
        default=None, description="help.request topic (default: the tablet's)"
    )
    locale: str | None = Field(
        default=None, description="help.request locale (default: the tablet's)"
    )
    timeout: Seconds = Field(default=10.0, description="for the ticket to open")


class WaitForAgent(Step):
    kind = "wait_for_agent"
    summary = "An agent is rung for this customer, accepts, and receives the first video frame."
    timeout: Seconds = Field(default=60.0, description="for the ring (includes time in the queue)")
    first_frame_timeout: Seconds = Field(
        default=20.0, description="accept to the first decoded frame"
    )


class AgentDeclines(Step):
    kind = "agent_declines"
    summary = "The agent who is rung for this customer declines; the customer keeps their place."
    timeout: Seconds = Field(default=60.0, description="for the ring")


class CustomerCancels(Step):
    kind = "customer_cancels"
    summary = "The customer taps Cancel while waiting; the ticket ends as cancelled."
    timeout: Seconds = Field(default=10.0, description="for the server to end the ticket")


Tool = Literal["arrow", "pen", "circle", "highlight", "laser"]


class Annotate(Step):
    kind = "annotate"
    primary = "tool"
    summary = "The agent draws a mark; it must come back in the agent's video."
    tool: Tool = Field(default="arrow", description="arrow, pen, circle, highlight or laser")
    color: Annotated[Color, Field(description="mark colour")] = "#ff00ff"
    width: Annotated[float, Field(gt=0, le=0.05)] = Field(
        default=0.008, description="line width, a fraction of the screen width"
    )
    element: ElementName | None = Field(
        default=None, description="point at (arrow) or ring this element"
    )
    from_: Point | None = Field(default=None, alias="from", description="start point, normalized")
    to: Point | None = Field(default=None, description="end point, normalized")
    pinned: bool = Field(default=False, description="pinned marks do not fade")
    tolerance: Annotated[float, Field(gt=0, le=255)] = Field(
        default=60.0, description="per-channel difference that still counts as the mark's colour"
    )
    timeout: Seconds = Field(default=5.0, description="for the mark to show in the video")

    _check_colour = field_validator("color", mode="before")(_colour)

    def elements(self) -> Iterator[tuple[str, str]]:
        if self.element is not None:
            yield "element", self.element

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if self.element is not None and (self.from_ is not None or self.to is not None):
            return [(("element",), "give either element or from/to, not both")]
        if self.tool == "laser" and self.to is not None:
            return [(("to",), "a laser is one point: give from (or element), not to")]
        return []


class ClearAnnotations(Step):
    kind = "clear_annotations"
    summary = "The agent clears every mark."


class RequestControl(Step):
    kind = "request_control"
    summary = "The agent asks for remote control; the consent dialog must appear on the tablet."
    timeout: Seconds = Field(default=10.0, description="for the dialog to show")


class CustomerAllows(Step):
    kind = "customer_allows"
    primary = "delay"
    summary = "The customer taps Allow in the consent dialog; the agent must see 'granted'."
    delay: Annotated[float, Field(ge=0, le=600)] = Field(
        default=0.0, description="think time first"
    )
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'granted'")


class CustomerDenies(Step):
    kind = "customer_denies"
    primary = "delay"
    summary = "The customer taps Deny; the agent must see control 'none' (denied)."
    delay: Annotated[float, Field(ge=0, le=600)] = Field(
        default=0.0, description="think time first"
    )
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'none'")


class CustomerStopsControl(Step):
    kind = "customer_stops_control"
    summary = "The customer taps Stop control; the agent must see control 'none' (revoked)."
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'none'")


class ReleaseControl(Step):
    kind = "release_control"
    summary = "The agent gives control back; both sides must see control 'none'."
    timeout: Seconds = Field(default=10.0, description="for both sides to see 'none'")


class InputStep(Step):
    by: Actor = Field(default="agent", description="who produces the input")
    expect: Expect = Field(
        default="applied", description="applied: the device changes; refused: it must not"
    )
    timeout: Seconds = Field(
        default=5.0, description="for the device to apply it and the agent to see it"
    )


class TapElement(InputStep):
    kind = "tap"
    primary = "element"
    summary = "Tap the centre of a named element (agent: through remote control)."
    element: ElementName

    def elements(self) -> Iterator[tuple[str, str]]:
        yield "element", self.element


class TypeText(InputStep):
    kind = "type_text"
    primary = "text"
    summary = "Type text, after tapping into an element if one is given."
    text: Annotated[str, Field(min_length=1, max_length=256, description="the text typed")]
    into: ElementName | None = Field(default=None, description="tap this element first")

    def elements(self) -> Iterator[tuple[str, str]]:
        if self.into is not None:
            yield "into", self.into


class PressKey(InputStep):
    kind = "key"
    primary = "key"
    summary = "Press a key (Enter, Tab, Backspace, Escape, Home, or one character)."
    key: Annotated[str, Field(min_length=1, max_length=16, description="the key's name")]


class ScrollElement(InputStep):
    kind = "scroll"
    primary = "element"
    summary = "Scroll inside a named element by dy (a fraction of the screen height)."
    element: ElementName
    dy: Annotated[float, Field(ge=-1, le=1)] = Field(
        default=0.25,
        description="how far, as a fraction of the screen height; positive shows more below",
    )

    def elements(self) -> Iterator[tuple[str, str]]:
        yield "element", self.element


StateKind = Literal["bool", "int", "str", "str?", "int?", "list"]
STATE_KEYS: dict[str, tuple[StateKind, str]] = {
    # the simulated tablet (SimulatedTablet.state())
    "current_app": ("str", "home, settings, books, mail, browser, photos, signin"),
    "wifi": ("bool", "Wi-Fi switch"),
    "bluetooth": ("bool", "Bluetooth switch"),
    "brightness": ("int", "0..100"),
    "focused_field": ("str?", "email, password or null"),
    "fields.email": ("str", "the sign-in form's email field"),
    "fields.password": ("str", "the sign-in form's password field"),
    "signed_in_as": ("str?", "the account signed in, or null"),
    "sign_in_error": ("str?", "the sign-in form's error, or null"),
    "paired_devices": ("list", "names of paired Bluetooth devices"),
    "scroll_offset": ("int", "Bluetooth list scroll, pixels"),
    "open_book": ("str?", "title of the open book, or null"),
    "selected_mail": ("int", "index of the selected mail"),
    "open_photo": ("int?", "index of the open photo, or null"),
    "customer_phase": ("str", "idle, queued, connecting, connected, ended"),
    # the device agent
    "consent": ("str", "the device's own consent: none, asked, granted, suspended"),
    "sharing_paused": ("bool", "the customer paused sharing"),
    "inputs_applied": ("int", "agent input events the device applied in this run"),
    "inputs_dropped": ("int", "agent input events the device refused in this run"),
    "annotations_visible": ("int", "marks on the customer's screen now"),
    "in_session": ("bool", "the device has a running session"),
    # the headless agent
    "control": ("str", "the agent's view of control: none, requested, granted, suspended"),
}
_COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def _state_value_problem(key: str, value: object) -> str | None:
    kind, _ = STATE_KEYS[key]
    if kind == "bool":
        return None if isinstance(value, bool) else f"{key} is true or false, not {value!r}"
    if kind in ("int", "int?"):
        if value is None and kind == "int?":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and _COMPARISON.match(value):
            return None
        return f'{key} takes a number or a comparison such as ">= 1", not {value!r}'
    if kind in ("str", "str?"):
        if value is None and kind == "str?":
            return None
        return None if isinstance(value, str) else f"{key} takes text, not {value!r}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return f"{key} takes a list of names, not {value!r}"


class ExpectState(Step):
    """Any key of :data:`STATE_KEYS` with the value it must have, plus ``timeout``."""

    model_config = ConfigDict(extra="allow")
    kind = "expect_state"
    summary = "Wait until the device (and agent) state has every given value."
    timeout: Seconds = Field(default=5.0, description="how long the state may take to get there")

    @property
    def expected(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if not self.expected:
            problems.append(((), "expect_state needs at least one key, e.g. bluetooth: true"))
        for key, value in self.expected.items():
            if key not in STATE_KEYS:
                problems.append(
                    (
                        (key,),
                        f"unknown state key '{key}'{_suggest(key, tuple(STATE_KEYS))}; known: "
                        + ", ".join(STATE_KEYS),
                    )
                )
                continue
            problem = _state_value_problem(key, value)
            if problem:
                problems.append(((key,), problem))
        return problems


class ExpectPixels(Step):
    kind = "expect_pixels"
    summary = "A named element (or point) has a colour in the agent's received video."
    element: ElementName | None = Field(default=None, description="the element to look at")
    point: Point | None = Field(default=None, description="instead of element: a 9×9 patch here")
    color: Annotated[Color, Field(description="expected colour")]
    tolerance: Annotated[float, Field(gt=0, le=255)] = Field(
        default=48.0, description="largest per-channel difference that counts as this colour"
    )
    min_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.25, description="share of the element's pixels that must have the colour"
    )
    timeout: Seconds = Field(default=5.0, description="for a frame with the colour to arrive")

    _check_colour = field_validator("color", mode="before")(_colour)

    def elements(self) -> Iterator[tuple[str, str]]:
        if self.element is not None:
            yield "element", self.element

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if (self.element is None) == (self.point is None):
            return [((), "give exactly one of element or point")]
        return []


class PauseSharing(Step):
    kind = "pause_sharing"
    summary = "The customer taps Pause; the agent's video must show the paused card."
    timeout: Seconds = Field(default=10.0, description="for the paused card in the video")


class ResumeSharing(Step):
    kind = "resume_sharing"
    summary = "The customer taps Resume; the agent's video must show the screen again."
    timeout: Seconds = Field(default=10.0, description="for the screen in the video")


class DropNetwork(Step):
    kind = "drop_network"
    primary = "seconds"
    summary = "The device loses its network for N seconds, then comes back by itself."
    seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        default=3.0, description="how long the network stays down"
    )
    media: bool = Field(
        default=True, description="the media connection drops too (restarted on return)"
    )
    control_after: Literal["resumed", "none", "any"] = Field(
        default="any", description="what control must be once the network is back"
    )
    timeout: Seconds = Field(default=30.0, description="from the network's return to video again")


class Wait(Step):
    kind = "wait"
    primary = "seconds"
    summary = "Do nothing for a while (the session stays open)."
    seconds: Annotated[float, Field(ge=0, le=3600, description="how long")]


class End(Step):
    kind = "end"
    primary = "by"
    summary = "End the session; optionally the customer rates it and the server must record it."
    by: Actor = Field(default="agent", description="who ends it: agent or customer")
    reason: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        default="resolved", description="session.end reason (agent only)"
    )
    rating: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="the customer then taps this many stars"
    )
    timeout: Seconds = Field(
        default=10.0, description="for each of: the end, the rating card, the recorded rating"
    )


STEP_TYPES: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        PressHelp,
        WaitForAgent,
        AgentDeclines,
        CustomerCancels,
        Annotate,
        ClearAnnotations,
        RequestControl,
        CustomerAllows,
        CustomerDenies,
        CustomerStopsControl,
        ReleaseControl,
        TapElement,
        TypeText,
        PressKey,
        ScrollElement,
        ExpectState,
        ExpectPixels,
        PauseSharing,
        ResumeSharing,
        DropNetwork,
        Wait,
        End,
    )
}


# --------------------------------------------------------------------------------------------
# The scenario


class TabletSetup(_Strict):
    """How each customer's simulated tablet starts."""

    bluetooth: bool = False
    wifi: bool = True
    brightness: Annotated[int, Field(ge=0, le=100)] = 90
    locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] = "en"
    topic: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = "general"


class GroupExpect(_Strict):
    """Expectations over all customers of one run (for ``customers`` > 1)."""

    min_waited: Annotated[int, Field(ge=0)] = Field(
        default=0, description="at least this many customers waited longer than waited_s for a ring"
    )
    waited_s: Annotated[float, Field(gt=0)] = 2.0


_COUNT = re.compile(r"^\s*agents\s*(?:([+*])\s*(\d+))?\s*$")


@dataclass(frozen=True)
class CustomerCount:
    """``customers``: a number, or relative to ``--agents`` (``agents+2``, ``agents*2``)."""

    fixed: int | None = 1
    op: str | None = None
    operand: int = 0

    @classmethod
    def parse(cls, value: object) -> CustomerCount:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= 500:
                raise ValueError("customers must be between 1 and 500")
            return cls(fixed=value)
        if isinstance(value, str):
            match = _COUNT.match(value)
            if match:
                return cls(fixed=None, op=match.group(1), operand=int(match.group(2) or 0))
        raise ValueError(
            f'customers is a number or "agents", "agents+N", "agents*N", not {value!r}'
        )

    def resolve(self, agents: int) -> int:
        if self.fixed is not None:
            return self.fixed
        if self.op == "*":
            return max(1, agents * self.operand)
        return max(1, agents + self.operand)

    def __str__(self) -> str:
        if self.fixed is not None:
            return str(self.fixed)
        return f"agents{self.op or ''}{self.operand if self.op else ''}"


class _Header(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")] | None = None
    description: str = ""
    customers: int | str = Field(default=1, description='a number, or "agents+N" / "agents*N"')
    tablet: TabletSetup = Field(default_factory=lambda: TabletSetup())
    expect: GroupExpect = Field(default_factory=lambda: GroupExpect())
    steps: Annotated[list[Any], Field(min_length=1)]

    @field_validator("customers")
    @classmethod
    def _customers(cls, value: int | str) -> int | str:
        CustomerCount.parse(value)
        return value


@dataclass(frozen=True)
class StepSpec:
    index: int
    """1-based position in the scenario."""
    line: int
    kind: str
    step: Step

    def where(self, file: str) -> str:
        return f"step {self.index} {self.kind} ({file}:{self.line})"


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    description: str
    customers: CustomerCount
    tablet: TabletSetup
    expect: GroupExpect
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)
    expect_line: int | None = None
    """Where ``expect:`` is, for group failures."""


def load_scenario(path: Path | str, *, display: str | None = None) -> Scenario:
    """Load and check one scenario file; raises :class:`ScenarioError` with every problem."""
    path = Path(path)
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(file, None, f"cannot read: {exc.strerror or exc}")]) from None
    return parse_scenario(text, file, default_name=path.stem)


def parse_scenario(
    text: str, file: str, *, default_name: str = "scenario", check_flow: bool = True
) -> Scenario:
    data = _parse_yaml(text, file)
    if not isinstance(data, _Map):
        return _fail(
            file, 1, "a scenario is a mapping with at least 'steps:' (see docs/scenarios.md)"
        )
    problems: list[Problem] = []
    header: _Header | None = None
    try:
        header = _Header.model_validate(data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, data, file, data.line, "scenario", _Header))
    steps_data = data.get("steps")
    if not isinstance(steps_data, _Seq):
        raise ScenarioError(problems)
    specs: list[StepSpec] = []
    for position, (item, line) in enumerate(zip(steps_data, steps_data.item_lines, strict=True)):
        spec = _parse_step(item, line, position + 1, file, problems)
        if spec is not None:
            specs.append(spec)
    problems.extend(_check_elements(specs, steps_data, file))
    if not problems and check_flow:
        problems.extend(_check_flow(specs, file))
    if problems or header is None:
        raise ScenarioError(problems)
    return Scenario(
        name=header.name or default_name,
        file=file,
        description=header.description,
        customers=CustomerCount.parse(header.customers),
        tablet=header.tablet,
        expect=header.expect,
        steps=tuple(specs),
        expect_line=data.key_lines.get("expect"),
    )


def _fail(file: str, line: int | None, message: str) -> Scenario:
    raise ScenarioError([Problem(file, line, message)])


def _parse_step(
    item: Any, line: int, index: int, file: str, problems: list[Problem]
) -> StepSpec | None:
    if isinstance(item, str):
        kind, body, body_line = item, None, line
    elif isinstance(item, _Map) and len(item) == 1:
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
                    if isinstance(item, _Map)
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
                f"step {index}: unknown step '{kind}'{_suggest(kind, tuple(STEP_TYPES))}; steps are: "
                + ", ".join(STEP_TYPES),
            )
        )
        return None
    label = f"step {index} {kind}"
    if body is None:
        body = _Map()
        body.line, body.key_lines = body_line, {}
    elif not isinstance(body, _Map):
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
        shorthand = _Map({cls.primary: body})
        shorthand.line, shorthand.key_lines = body_line, {cls.primary: body_line}
        body = shorthand
    try:
        step = cls.model_validate(body)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, body, file, body_line, label, cls))
        return None
    for loc, message in step.extra_problems():
        problems.append(Problem(file, _line_of(body, loc, body_line), f"{label}: {message}"))
    return StepSpec(index=index, line=line, kind=kind, step=step)


def _pydantic_problems(
    exc: ValidationError,
    data: Any,
    file: str,
    default_line: int,
    label: str,
    cls: type[BaseModel] | None = None,
) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line_of(data, loc, default_line)
        name = ".".join(str(part) for part in loc)
        if error["type"] == "extra_forbidden":
            owner = cls if cls is not None and len(loc) == 1 else None
            fields = _field_names(owner) if owner is not None else []
            hint = _suggest(str(loc[-1]), fields) if fields else ""
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


# --------------------------------------------------------------------------------------------
# Elements


@lru_cache(maxsize=1)
def element_catalogue() -> frozenset[str]:
    """Every element name the simulated tablet can show, found by visiting its screens."""
    from device_agent.customer import CustomerView
    from device_agent.screens.base import Text
    from device_agent.screens.tablet import DEVICES, SimulatedTablet

    names: set[str] = set()
    apps = ("settings", "books", "mail", "browser", "photos", "signin")
    for bluetooth in (False, True):
        for wifi in (True, False):
            tablet = SimulatedTablet(bluetooth=bluetooth, wifi=wifi)
            names.update(tablet.elements())
            for app in apps:
                tablet.tap(f"app.{app}", origin="customer")
                names.update(tablet.elements())
                tablet.tap("back", origin="customer")
    tablet = SimulatedTablet()
    for app, first in (("books", "books.book."), ("photos", "photos.photo.")):
        tablet.tap(f"app.{app}", origin="customer")
        target = sorted(n for n in tablet.elements() if n.startswith(first))[0]
        tablet.tap(target, origin="customer")
        names.update(tablet.elements())
        tablet.tap("back", origin="customer")
        tablet.tap("back", origin="customer")
    tablet.tap("app.signin", origin="customer")
    tablet.tap("signin.email", origin="customer")
    tablet.inject(Text("qa@example.com"), origin="customer")
    tablet.tap("signin.password", origin="customer")
    tablet.inject(Text("secret"), origin="customer")
    tablet.tap("signin.submit", origin="customer")
    names.update(tablet.elements())
    for view in (
        CustomerView(phase="queued"),
        CustomerView(phase="connecting"),
        CustomerView(phase="connected", consent_requested=True),
        CustomerView(phase="connected", control_active=True),
        CustomerView(phase="connected", sharing_paused=True),
        CustomerView(phase="connected", control_active=True, sharing_paused=True),
        CustomerView(phase="ended", rating_requested=True),
    ):
        tablet = SimulatedTablet()
        tablet.set_customer_view(view)
        names.update(tablet.elements())
    for device in DEVICES:
        names.update((f"bluetooth.device.{device.slug}", f"bluetooth.pair.{device.slug}"))
    return frozenset(names)


def _check_elements(specs: list[StepSpec], steps_data: _Seq, file: str) -> list[Problem]:
    known = element_catalogue()
    problems = []
    for spec in specs:
        item = steps_data[spec.index - 1]
        body = item.get(spec.kind) if isinstance(item, _Map) else None
        for field_name, name in spec.step.elements():
            if name in known:
                continue
            line = (
                body.key_lines.get(field_name, spec.line) if isinstance(body, _Map) else spec.line
            )
            prefix = name.split(".")[0]
            family = sorted(n for n in known if n.split(".")[0] == prefix)
            listing = f"; elements starting '{prefix}.': {', '.join(family)}" if family else ""
            problems.append(
                Problem(
                    file,
                    line,
                    f"step {spec.index} {spec.kind}: the tablet has no element '{name}'"
                    f"{_suggest(name, known)}{listing}",
                )
            )
    return problems


# --------------------------------------------------------------------------------------------
# Flow


def _check_flow(specs: list[StepSpec], file: str) -> list[Problem]:
    """Steps in an order that can make sense: the customer asks for help before an agent can
    answer, session steps come while a session runs. Whether consent is there when input is sent
    is not checked here: that is what a run finds out (and fails on, with the reason)."""
    problems: list[Problem] = []
    phase: Phase = "idle"

    def problem(spec: StepSpec, message: str) -> None:
        problems.append(Problem(file, spec.line, f"step {spec.index} {spec.kind}: {message}"))

    def need_session(spec: StepSpec) -> None:
        if phase != "session":
            where = {
                "idle": "before press_help",
                "waiting": "before wait_for_agent",
                "ended": "after the session ended",
            }[phase]
            problem(spec, f"needs a running session, but comes {where}")

    for spec in specs:
        step = spec.step
        if isinstance(step, PressHelp):
            if phase in ("waiting", "session"):
                problem(spec, "the customer is already waiting or in a session")
            phase = "waiting"
        elif isinstance(step, WaitForAgent | AgentDeclines):
            if phase != "waiting":
                problem(spec, "needs a waiting customer: put press_help before it")
            if isinstance(step, WaitForAgent):
                phase = "session"
        elif isinstance(step, CustomerCancels):
            if phase != "waiting":
                problem(spec, "the customer can only cancel while waiting for an agent")
            phase = "ended"
        elif isinstance(step, End):
            need_session(spec)
            phase = "ended"
        elif isinstance(step, InputStep):
            if step.by == "agent":
                need_session(spec)
        elif isinstance(
            step,
            RequestControl
            | CustomerAllows
            | CustomerDenies
            | CustomerStopsControl
            | ReleaseControl
            | PauseSharing
            | ResumeSharing
            | Annotate
            | ClearAnnotations
            | ExpectPixels,
        ):
            need_session(spec)
    return problems


# --------------------------------------------------------------------------------------------
# Loading many


def scenario_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_scenarios(paths: list[Path]) -> list[Scenario]:
    """Every scenario in the given files and directories; all problems of all files at once."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for root in paths:
        if not root.exists():
            problems.append(Problem(str(root), None, "no such file or directory"))
            continue
        files = scenario_files(root)
        if not files:
            problems.append(Problem(str(root), None, "no *.yaml scenario files here"))
        for path in files:
            try:
                scenarios.append(load_scenario(path))
            except ScenarioError as exc:
                problems.extend(exc.problems)
    names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in names:
            problems.append(
                Problem(
                    scenario.file,
                    None,
                    f"scenario name '{scenario.name}' is used by {names[scenario.name]} too",
                )
            )
        names[scenario.name] = scenario.file
    if problems:
        raise ScenarioError(problems)
    return scenarios


# --------------------------------------------------------------------------------------------
# JSON Schema


def json_schema() -> dict[str, Any]:
    """The published schema of a scenario file (``scenarios/schema.json``)."""
    items: list[Any] = []
    bare = []
    for kind, cls in STEP_TYPES.items():
        required = [name for name, info in cls.model_fields.items() if info.is_required()]
        if not required and cls is not ExpectState:
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
            Field(default=1, description=_Header.model_fields["customers"].description),
        ),
        tablet=(TabletSetup, Field(default_factory=lambda: TabletSetup())),
        expect=(GroupExpect, Field(default_factory=lambda: GroupExpect())),
        steps=(list[step_union], Field(min_length=1)),
    )
    schema: dict[str, Any] = document.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mayday.example/schemas/scenario.json"
    _open_expect_state(schema)
    return schema


def _open_expect_state(schema: dict[str, Any]) -> None:
    """``expect_state`` takes state keys besides ``timeout``: list them in the schema."""
    definition = schema.get("$defs", {}).get("ExpectState")
    if definition is None:
        return
    definition.pop("additionalProperties", None)
    properties = definition.setdefault("properties", {})
    kinds: dict[str, Any] = {
        "bool": {"type": "boolean"},
        "int": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": _COMPARISON.pattern}]},
        "int?": {
            "anyOf": [
                {"type": "integer"},
                {"type": "null"},
                {"type": "string", "pattern": _COMPARISON.pattern},
            ]
        },
        "str": {"type": "string"},
        "str?": {"type": ["string", "null"]},
        "list": {"type": "array", "items": {"type": "string"}},
    }
    for key, (kind, description) in STATE_KEYS.items():
        properties[key] = {**kinds[kind], "description": description}
    definition["additionalProperties"] = False
