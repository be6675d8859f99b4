"""Every step a scenario can use, by its YAML name: the registry.

A step is declared once, in one module of this package, as a :class:`~sim.steps.base.Step`
subclass with a ``kind``: its fields (the pydantic model), where it may come in a scenario, and its
``execute`` (what it does, and how it is measured) sit together. Defining the class registers it
(:data:`STEP_TYPES`); this package imports every module in it, so a new module counts without being
listed anywhere. The loader, the JSON Schema, the runner and the documentation test all read the
steps from here.

Modules by family: ``session`` (asking for help, the queue, the answer), ``annotations``,
``control`` (consent and remote control), ``input``, ``expect``, ``sharing``, ``network``,
``wait``, ``end``. The order of :data:`STEP_TYPES` (listed in errors and in the JSON Schema) is
the modules' in alphabetical order, then the classes' in each module.

Adding a step: a ``Step`` subclass in the family's module (or a new module here), and its row and
section in ``docs/scenarios.md``; then regenerate ``scenarios/schema.json``
(``mayday sim --print-schema``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from .base import REGISTRY, Flow, Json, Step

__all__ = ["STEP_TYPES", "Flow", "Json", "Step"]

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

STEP_TYPES: Mapping[str, type[Step]] = MappingProxyType(REGISTRY)
"""Every step type by its YAML name (read-only; a step module adds to it by defining a class)."""
