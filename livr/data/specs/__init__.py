"""The spec types: one frozen spec per task and per comparison set, one module each.

Every fact about a task or a comparison set lives in its spec, and every lookup by name is read
from it through livr/data/registry.py (the task list, prompts, choices, chance, images per
example, sources, builders, synthetic generators, stand-ins): adding one is one module here plus
its builder and, for a task, its synthetic generator (docs/EXTENDING.md).

- `livr/data/specs/tasks/<task>.py` defines `SPEC = TaskSpec(...)`: the paper's nine tasks.
- `livr/data/specs/comparison/<name>.py` defines `SPEC = TrainingSet(...)` or `SPEC = Benchmark(...)`:
  the comparison experiments' training sets and evaluation-only benchmarks.

Specs are plain data (this package imports nothing heavy): builders and generators are named as
"module:attribute" and imported only when used, so reading a spec never imports a builder.
`order` fixes a spec's place in the tables and keys its random streams (synthetic data and
stand-ins), so it never changes once data was generated with it.
"""

from __future__ import annotations

import dataclasses
import importlib

from livr.errors import InputError


def resolve(ref: str):
    """The object a "module:attribute" reference names."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    name: str
    order: int  # place in Table 1 and key of its synthetic random streams
    images: int  # images per example (the paper's format, Appendix A)
    body: str  # the question wording (BLINK's; slots {object}, {action})
    choices: tuple[str, ...]  # the fixed option texts, BLINK order; () = open-ended (an integer)
    select: tuple[str, str] = ("\n", "choices")  # (separator before "Select ...", BLINK's word: choices/options)
    wording_verified: bool = True  # body checked against a copy of BLINK's prompt (livr/data/prompts.py)
    blink_subtask: str = ""  # its config name in BLINK-Benchmark/BLINK
    sources: tuple[str, ...] = ()  # the data/raw/<source> its real builder reads
    hub_sources: tuple[str, ...] = ()  # those of `sources` fetched from the Hugging Face hub
    builder: str = ""  # "module:function" (raw_root, out_dir, cfg, seed), writes the task dir
    builder_defaults: str = ""  # "module:CONSTANT", the builder's parameters (params.yaml paper_data.<task>)
    generator: str = ""  # "module:function" (rng, size, gold) of the synthetic version
    answer_range: tuple[int, int] | None = None  # open-ended: the answers' range (counting: 2..10)
    synthetic_golds: tuple = ()  # the gold values one synthetic split cycles through (default:
    #                               every choice index, or every count of answer_range)

    def __post_init__(self):
        if bool(self.choices) == (self.answer_range is not None):
            raise InputError(f"task spec {self.name!r}: give either choices or answer_range (open-ended), not both")
        unknown = sorted(set(self.hub_sources) - set(self.sources))
        if unknown:
            raise InputError(f"task spec {self.name!r}: hub_sources {unknown} are not among its sources")

    @property
    def open_ended(self) -> bool:
        return not self.choices

    @property
    def chance(self) -> float:
        """Accuracy (percent) of guessing uniformly among the choices or the answer range."""
        if self.answer_range is not None:
            lo, hi = self.answer_range
            return 100.0 / (hi - lo + 1)
        return 100.0 / len(self.choices)

    @property
    def golds(self) -> tuple:
        if self.synthetic_golds:
            return self.synthetic_golds
        if self.answer_range is not None:
            return tuple(range(self.answer_range[0], self.answer_range[1] + 1))
        return tuple(range(len(self.choices)))

    def defaults(self) -> dict:
        return dict(resolve(self.builder_defaults))


@dataclasses.dataclass(frozen=True)
class ComparisonSpec:
    """What a training set and a benchmark share."""

    name: str
    order: int  # key of its stand-in's random streams
    images: int  # images per example (most of any subtask)
    sources: tuple[str, ...]
    builder: str  # "module:function" with (raw_root, out_dir, cfg, seed)
    defaults: str  # "module:CONSTANT", the builder's parameters
    standin: str  # the question form of its offline stand-in (livr/data/standins.py)
    standin_subtasks: tuple[str, ...] = ()  # the stand-in's subtasks, as the real data has them
    hub_sources: tuple[str, ...] = ()  # those of `sources` fetched from the Hugging Face hub
    free_text: bool = False  # answers are free text, not a letter or an integer
    task: str = ""  # the records' `task` (and the paper CSV's key) when not its name

    def __post_init__(self):
        if not self.task:
            object.__setattr__(self, "task", self.name)
        unknown = sorted(set(self.hub_sources) - set(self.sources))
        if unknown:
            raise InputError(f"spec {self.name!r}: hub_sources {unknown} are not among its sources")


@dataclasses.dataclass(frozen=True)
class TrainingSet(ComparisonSpec):
    paper: str = ""  # what the paper trains on it
    # optional record fields (livr/data/schema.py OPTIONAL_FIELDS) on every train/val row it
    # builds, real and stand-in: what a latent-reconstruction method can train on
    carries: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Benchmark(ComparisonSpec):
    scorer: str = ""  # a key of scoring.SCORERS
    aggregate: str = ""  # a key of scoring.AGGREGATES, over meta["subtask"] (one subtask when absent)
    paper_column: str = ""  # the column the paper reports it in
    extra_metrics: tuple[str, ...] = ()
