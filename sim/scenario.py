"""Scenarios as data: YAML files of steps, validated before anything runs.

A scenario is a list of steps one customer and the agent who answers go through (see
``docs/scenarios.md``). Loading checks, in this order, and reports every problem with its file and
line:

1. YAML syntax (PyYAML's own message and position; :mod:`sim.source`);
2. the scenario's own fields and each step's fields, with pydantic models (``extra="forbid"``:
   a misspelt field is an error with a suggestion, never silently ignored);
3. element names against every element the simulated tablet can show;
4. the flow: steps that need a session come after ``wait_for_agent``, ``press_help`` again only
   after the session ended, ``supervisor_leave`` only while a supervisor watches, and so on.

The steps themselves, and what each allows, are declared in :mod:`sim.steps`; the checks of 2–4
are the same for every step (:mod:`sim.validate`). The published JSON Schema comes from the same
models (:mod:`sim.schema`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator

from .elements import element_catalogue
from .source import Problem, ScenarioError, YamlMap, YamlSeq, parse_yaml
from .steps import STEP_TYPES
from .steps.base import Step, StepSpec, Strict
from .steps.expect import STATE_KEYS
from .steps.session import PressHelp
from .steps.supervisor import SupervisorJoin, watching_problems
from .steps.transfer import Transfer
from .validate import element_problems, flow_problems, pydantic_problems, read_step

__all__ = [
    "STATE_KEYS",
    "STEP_TYPES",
    "CustomerCount",
    "GroupExpect",
    "Header",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Step",
    "StepSpec",
    "TabletSetup",
    "agent_languages",
    "element_catalogue",
    "load_scenario",
    "load_scenarios",
    "parse_scenario",
    "scenario_files",
]


class TabletSetup(Strict):
    """How each customer's simulated tablet starts."""

    bluetooth: bool = False
    wifi: bool = True
    brightness: Annotated[int, Field(ge=0, le=100)] = 90
    locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] = "en"
    topic: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = "general"


class GroupExpect(Strict):
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


Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
"""A primary language subtag (``de``), as agents list theirs."""


class Header(Strict):
    """A scenario file's own fields; its steps are read one by one (:func:`~sim.validate.read_step`)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")] | None = None
    description: str = ""
    customers: int | str = Field(default=1, description='a number, or "agents+N" / "agents*N"')
    tablet: TabletSetup = Field(default_factory=lambda: TabletSetup())
    expect: GroupExpect = Field(default_factory=lambda: GroupExpect())
    agent_languages: list[Language] | None = Field(
        default=None,
        description="the embedded server's agents speak only these languages; by default they "
        "speak every language the run's scenarios use, so every customer is matched (an "
        "overflow scenario names languages its customers do not speak)",
    )
    steps: Annotated[list[Any], Field(min_length=1)]

    @field_validator("customers")
    @classmethod
    def _customers(cls, value: int | str) -> int | str:
        CustomerCount.parse(value)
        return value


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
    agent_languages: tuple[str, ...] | None = None
    """``agent_languages:``: what the embedded agents speak, if the scenario says."""

    @property
    def languages(self) -> frozenset[str]:
        """The languages this scenario's customers ask for help in (tablet and press_help)."""
        locales = [
            self.tablet.locale,
            *(s.step.locale for s in self.steps if isinstance(s.step, PressHelp) and s.step.locale),
        ]
        return frozenset(locale.replace("_", "-").split("-")[0].lower() for locale in locales)

    @property
    def hands_to_colleagues(self) -> bool:
        """Whether a customer is handed to a colleague: that needs a free agent besides theirs."""
        return any(isinstance(s.step, Transfer) and s.step.to == "agent" for s in self.steps)

    @property
    def watched(self) -> bool:
        """Whether a supervisor watches: each customer at once borrows one."""
        return any(isinstance(s.step, SupervisorJoin) for s in self.steps)


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
    """Check a scenario's text; raises :class:`ScenarioError` with every problem found."""
    data = parse_yaml(text, file)
    if not isinstance(data, YamlMap):
        raise ScenarioError(
            [
                Problem(
                    file,
                    1,
                    "a scenario is a mapping with at least 'steps:' (see docs/scenarios.md)",
                )
            ]
        )
    problems: list[Problem] = []
    header: Header | None = None
    try:
        header = Header.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, data, file, data.line, "scenario", Header))
    steps_data = data.get("steps")
    if not isinstance(steps_data, YamlSeq):
        raise ScenarioError(problems)
    specs: list[StepSpec] = []
    for position, (item, line) in enumerate(zip(steps_data, steps_data.item_lines, strict=True)):
        spec = read_step(item, line, position + 1, file, problems)
        if spec is not None:
            specs.append(spec)
    problems.extend(element_problems(specs, steps_data, file))
    if not problems and check_flow:
        order = [*flow_problems(specs, file), *watching_problems(specs, file)]
        problems.extend(sorted(order, key=lambda problem: problem.line or 0))
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
        agent_languages=None if header.agent_languages is None else tuple(header.agent_languages),
    )


def agent_languages(scenarios: list[Scenario]) -> list[str]:
    """What the embedded agents speak: each scenario's ``agent_languages`` where it names them,
    else the languages its customers use; together over the run (English at least)."""
    wanted: set[str] = set()
    for scenario in scenarios:
        wanted.update(
            scenario.languages if scenario.agent_languages is None else scenario.agent_languages
        )
    return sorted(wanted or {"en"})


def scenario_files(path: Path) -> list[Path]:
    """The scenario files of ``path``: itself, or a directory's ``*.yaml`` and ``*.yml``."""
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
