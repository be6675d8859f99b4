"""Scenario files as YAML that remembers its lines, and the problems found in them.

Every problem a scenario can have is reported with its file and line (``docs/scenarios.md``,
*Validation*), so the YAML is read into mappings and lists that keep the line of each key and
item; a pydantic error location is turned back into the line to fix with :func:`line_of`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "Problem",
    "ScenarioError",
    "YamlMap",
    "YamlSeq",
    "line_of",
    "parse_yaml",
    "suggest",
]


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


class YamlMap(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys are (1-based lines)."""

    line: int
    key_lines: dict[str, int]

    @classmethod
    def at(cls, line: int, items: dict[str, Any] | None = None) -> YamlMap:
        """A mapping made up by the loader (e.g. for a step's shorthand), all on ``line``."""
        made = cls(items or {})
        made.line = line
        made.key_lines = dict.fromkeys(made, line)
        return made


class YamlSeq(list[Any]):
    """A YAML list that remembers where it and each of its items are (1-based lines)."""

    line: int
    item_lines: list[int]


def parse_yaml(text: str, file: str) -> Any:
    """The document in ``text``; raises :class:`ScenarioError` naming the line of a syntax error."""
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
        result = YamlMap()
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
        seq = YamlSeq(_convert(item, loader, file) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)


def line_of(data: Any, loc: tuple[int | str, ...], default: int | None) -> int | None:
    """The line of the deepest node along ``loc`` (a pydantic error location) that has one."""
    line = default
    current = data
    for part in loc:
        if isinstance(current, YamlMap) and isinstance(part, str) and part in current:
            line = current.key_lines.get(part, line)
            current = current[part]
        elif isinstance(current, YamlSeq) and isinstance(part, int) and 0 <= part < len(current):
            line = current.item_lines[part]
            current = current[part]
        else:
            break
    return line


def suggest(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
