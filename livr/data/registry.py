"""The registry: every spec module of livr/data/specs/tasks/ and livr/data/specs/comparison/,
discovered at import, by name in each spec's `order`; and the lookups everything else reads."""

from __future__ import annotations

import importlib
import pkgutil

from livr.data.specs import Benchmark, ComparisonSpec, TaskSpec, TrainingSet
from livr.errors import InputError


def _discover(package: str, kind: type) -> dict:
    """SPEC of every module of `package`, by name, in `order`; names and orders must be unique."""
    pkg = importlib.import_module(package)
    specs = []
    for info in pkgutil.iter_modules(pkg.__path__):
        spec = getattr(importlib.import_module(f"{package}.{info.name}"), "SPEC", None)
        if not isinstance(spec, kind):
            raise InputError(f"{package}.{info.name}: defines no SPEC of type {kind.__name__}")
        if spec.name != info.name:
            raise InputError(f"{package}.{info.name}: SPEC.name is {spec.name!r}; a spec module is named after it")
        specs.append(spec)
    orders = [s.order for s in specs]
    if len(set(orders)) != len(orders):
        raise InputError(f"{package}: two specs share an order: {sorted(orders)}")
    return {s.name: s for s in sorted(specs, key=lambda s: s.order)}


TASK_SPECS: dict[str, TaskSpec] = _discover("livr.data.specs.tasks", TaskSpec)
COMPARISON_SPECS: dict[str, ComparisonSpec] = _discover("livr.data.specs.comparison", ComparisonSpec)
TRAINING_SETS: dict[str, TrainingSet] = {n: s for n, s in COMPARISON_SPECS.items() if isinstance(s, TrainingSet)}
BENCHMARKS: dict[str, Benchmark] = {n: s for n, s in COMPARISON_SPECS.items() if isinstance(s, Benchmark)}


def task_spec(name: str) -> TaskSpec:
    if name not in TASK_SPECS:
        raise InputError(f"unknown task {name!r}; valid tasks: {', '.join(TASK_SPECS)}")
    return TASK_SPECS[name]


def spec_of(name: str) -> TaskSpec | ComparisonSpec:
    """The spec of a task, training set or benchmark."""
    spec = TASK_SPECS.get(name) or COMPARISON_SPECS.get(name)
    if spec is None:
        raise InputError(
            f"unknown data set {name!r}; valid tasks: {', '.join(TASK_SPECS)}; "
            f"comparison sets: {', '.join(COMPARISON_SPECS)}"
        )
    return spec


def hub_sources() -> set[str]:
    """The sources any spec fetches from the Hugging Face hub."""
    return {s for spec in (*TASK_SPECS.values(), *COMPARISON_SPECS.values()) for s in spec.hub_sources}
