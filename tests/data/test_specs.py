"""The same checks on every registered task and comparison set (livr/data/specs/): a new spec
module is checked by these tests without any edit here."""

from __future__ import annotations

import csv
import inspect
from importlib import resources

import pytest
import yaml

from livr.data import schema
from livr.data.benchmarks import scoring
from livr.data.prompts import COUNTING_INSTRUCTION, format_question
from livr.data.registry import BENCHMARKS, COMPARISON_SPECS, TASK_SPECS, TRAINING_SETS, hub_sources, spec_of
from livr.data.schema import LETTERS, read_split, validate_record
from livr.data.sources import SOURCES
from livr.data.specs import Benchmark, TaskSpec, TrainingSet, resolve
from livr.errors import InputError
from livr.ops.job_memory import job_images

ALL_SPECS = {**TASK_SPECS, **COMPARISON_SPECS}


def _paper_keys() -> set[str]:
    with resources.files("livr.results").joinpath("paper_results.csv").open() as f:
        return {row["task"] for row in csv.DictReader(f)}


def test_registry_order_and_lookups_follow_the_specs():
    assert schema.TASKS == tuple(TASK_SPECS)
    assert [s.order for s in TASK_SPECS.values()] == sorted(s.order for s in TASK_SPECS.values())
    assert set(TRAINING_SETS) | set(BENCHMARKS) == set(COMPARISON_SPECS)
    assert not set(TASK_SPECS) & set(COMPARISON_SPECS), "a name means one data set"
    assert set(schema.ALL_TASKS) == set(TASK_SPECS) | {s.task for s in COMPARISON_SPECS.values()}
    # the paper's numbers are keyed by a task's name or a benchmark's task (where the paper reports them)
    assert _paper_keys() <= set(schema.ALL_TASKS)
    with pytest.raises(InputError, match="unknown data set 'nope'.*valid tasks: counting"):
        spec_of("nope")


def test_a_source_is_from_the_hub_in_every_spec_or_in_none():
    hub = hub_sources()
    for spec in ALL_SPECS.values():
        assert set(spec.sources) & hub == set(spec.hub_sources), spec.name


@pytest.mark.parametrize("name", list(TASK_SPECS))
def test_task_spec(name):
    spec = TASK_SPECS[name]
    assert isinstance(spec, TaskSpec) and spec.blink_subtask and spec.images >= 1
    assert set(spec.sources) <= set(SOURCES) and spec.sources
    # builder: a function of (raw_root, out_dir, cfg, seed) whose module reads the spec's sources
    build = resolve(spec.builder)
    assert list(inspect.signature(build).parameters) == ["raw_root", "out_dir", "cfg", "seed"]
    assert tuple(inspect.getmodule(build).SOURCES) == spec.sources
    # params.yaml paper_data.<task> (optional: the builder's DEFAULTS apply) sets only the builder's keys
    paper_data = yaml.safe_load(open("params.yaml"))["paper_data"]
    assert set(paper_data.get(name) or {}) <= set(spec.defaults()), f"paper_data.{name}: unknown keys"
    # prompt and choices: every slot filled, the choices listed last (or a number asked for)
    choices = list(spec.choices)
    question = format_question(name, choices, object_name="cats", action="Pound")
    assert "{" not in question and "}" not in question
    if spec.open_ended:
        lo, hi = spec.answer_range
        assert question.endswith(COUNTING_INSTRUCTION) and spec.chance == pytest.approx(100 / (hi - lo + 1))
        assert set(spec.golds) == set(range(lo, hi + 1))
    else:
        assert 2 <= len(choices) <= len(LETTERS) and len(set(choices)) == len(choices)
        assert question.endswith(f"({LETTERS[len(choices) - 1]}) {choices[-1]}")
        assert spec.chance == pytest.approx(100 / len(choices))
        golds = {LETTERS[g] if isinstance(g, int) else g for g in spec.golds}
        assert golds == set(LETTERS[: len(choices)]), "every answer is drawn, and only valid ones"
    with pytest.raises(InputError):
        format_question(name, [] if choices else ["x", "y"])


@pytest.mark.parametrize("name", [n for n, s in TASK_SPECS.items() if s.generator])
def test_synthetic_generator_writes_valid_records_of_the_spec(name, tmp_path):
    from livr.data.synthetic import build_synthetic_task

    spec = TASK_SPECS[name]
    n = len(spec.golds)
    build_synthetic_task(name, tmp_path, n, 1, 1, seed=3)
    records = read_split(tmp_path, "train")  # validates every record (format, answer, image files)
    answers = set()
    for rec in records:
        assert len(rec.images) == spec.images == job_images([name])
        assert rec.choices == list(spec.choices)
        assert rec.question.startswith(spec.body.split("{")[0][:40])
        answers.add(rec.answer)
    assert len(answers) == len(set(spec.golds)), "a split of len(golds) examples draws every gold value"


@pytest.mark.parametrize("name", list(COMPARISON_SPECS))
def test_comparison_spec(name, tmp_path):
    from livr.data.benchmarks import defaults
    from livr.data.standins import build_standin

    spec = COMPARISON_SPECS[name]
    assert isinstance(spec, (TrainingSet, Benchmark)) and spec.images >= 1
    assert set(spec.sources) <= set(SOURCES) and spec.sources
    assert callable(resolve(spec.builder))
    cfg = defaults(name, "benchmark" if name in BENCHMARKS else "training")
    assert isinstance(cfg, dict)
    if isinstance(spec, Benchmark):
        assert spec.scorer in scoring.SCORERS and spec.aggregate in scoring.AGGREGATES and spec.paper_column
    else:
        assert spec.paper
    # the stand-in writes records of the spec's task in the one record format
    if spec.standin_subtasks and "configs" in cfg:
        assert list(spec.standin_subtasks) == cfg["configs"], "the stand-in has the real subtasks"
    build_standin(name, tmp_path, 4, 2, 2 * max(2, len(spec.standin_subtasks)), seed=1)
    split = "train" if name in TRAINING_SETS else "test"
    records = read_split(tmp_path, split)
    for rec in records:
        validate_record(rec, rec.id, tmp_path)
        assert rec.task == spec.task and 1 <= len(rec.images) <= spec.images
        assert (rec.task in schema.FREE_TEXT_TASKS) == spec.free_text == (not rec.choices and not rec.answer.isdigit())
        assert "target" in rec.meta
    assert {r.meta.get("subtask") for r in records} == (set(spec.standin_subtasks) or {None})
