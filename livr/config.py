"""params.yaml: loading, validation, the selected experiment and its cells.

Snakemake, DVC and the `livr` CLI all read params through this module; a job's resolved settings
come from livr/settings.py, its paths from livr/layout.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources
from pathlib import Path

import yaml

from livr.data.benchmarks import BENCHMARKS, TRAINING_SETS
from livr.data.schema import TASKS
from livr.errors import InputError
from livr.layout import Layout
from livr.model.backbones import REGISTRY

# Package data, so a non-editable install validates params too.
SCHEMA = resources.files("livr.schemas").joinpath("params.schema.yaml")
# Keys of a `methods:` entry that are not training overrides.
METHOD_KEYS = frozenset(
    {"train", "checkpoint_of", "eval_latents", "eval_mask", "deviations", "weights_from", "latent_decoding", "backbone"}
)
# Keys only a released checkpoint's method (`weights_from`: a hub id or local directory) takes.
RELEASED_KEYS = ("latent_decoding", "backbone")
EVAL_KEYS_FROM_METHOD = ("eval_latents", "eval_mask")
# The latent-reconstruction methods (livr/model/reconstruction.py) and the fine-tuning they allow:
# the official full LM fine-tuning (full_lm), or LoRA as a declared deviation.
RECON_TRAIN = ("lvr", "mirage")
# The record field each one's targets come from; a training set's spec says which fields it `carries`.
RECON_FIELD = {"lvr": "boxes", "mirage": "helper_image"}
RECON_FINETUNE = ("full_lm", "lora")
DEFAULT_SEEDS = (42,)  # the paper's single training seed (Appendix B)
MAX_SEED = 2**31 - 1  # within numpy's seeding range and the results database's INTEGER column


class ConfigError(InputError):
    """params.yaml is invalid; the message names the key and the valid values."""


@dataclasses.dataclass(frozen=True)
class Cell:
    """One evaluation: a backbone trained on `train_set` with `method` at training seed `seed`
    (None: the untrained base model), tested on `task`."""

    backbone: str
    train_set: str
    method: str
    task: str
    seed: int | None = None


def _schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def _check_schema(obj: dict, schema: dict, where: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        raise ConfigError(f"{where}: key '{key}': {e.message}")


def load_params(path: str | Path = "params.yaml", overrides: dict | None = None) -> dict:
    """Read, override (e.g. Snakemake --config), and validate params.yaml."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{at}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(params, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys (experiment, paths, methods, ...), got {type(params).__name__}"
        )
    params.update(overrides or {})
    validate_params(params, str(path))
    return params


def validate_params(params: dict, where: str = "params.yaml") -> None:
    exps = params.get("experiments") if isinstance(params.get("experiments"), dict) else {}
    for at, training in [("training", params.get("training"))] + [
        (f"experiments.{n}.training", e.get("training")) for n, e in exps.items() if isinstance(e, dict)
    ]:
        if isinstance(training, dict) and "seed" in training:
            raise ConfigError(f"{where}: {at}.seed: the training seed is set per experiment (experiments.<name>.seeds)")
    schema = _schema()
    _check_schema(params, schema, where)
    training_schema = {**schema["$defs"]["training"], "$defs": schema["$defs"]}
    mixtures = params.get("mixtures", {})
    for name, members in mixtures.items():
        _check_names(members, TASKS, f"{where}: mixtures.{name}", "tasks")
    for name in params.get("backbones", {}):
        _check_names([name], REGISTRY, f"{where}: backbones", "backbones")
    for name, method in params["methods"].items():
        _check_method(params, name, method, training_schema, where)
    for name, exp in params["experiments"].items():
        _check_experiment(params, exp, mixtures, f"{where}: experiments.{name}")
    _check_names([params["experiment"]], params["experiments"], f"{where}: experiment", "experiments")


def _check_method(params: dict, name: str, method: dict, training_schema: dict, where: str) -> None:
    """One entry of `methods`: its training overrides and its `checkpoint_of` reference."""
    overrides = {k: v for k, v in method.items() if k not in METHOD_KEYS}
    _check_schema(overrides, training_schema, f"{where}: methods.{name}")
    if method["train"] in RECON_TRAIN:  # checked with the defaults too: no experiment lists them yet
        _check_recon_recipe(method["train"], {**params["training"], **overrides}, f"{where}: methods.{name}")
    if "checkpoint_of" in method:
        _check_names([method["checkpoint_of"]], params["methods"], f"{where}: methods.{name}.checkpoint_of", "methods")
        if method["train"] != "none":
            raise ConfigError(f"{where}: methods.{name}: checkpoint_of needs train: none")
        if "weights_from" in params["methods"][method["checkpoint_of"]]:
            raise ConfigError(
                f"{where}: methods.{name}.checkpoint_of: {method['checkpoint_of']!r} evaluates released weights, "
                "not a checkpoint trained here; a variant of them is another method with the same weights_from"
            )
    if "weights_from" in method:
        _check_released(name, method, overrides, f"{where}: methods.{name}")
    else:
        for key in RELEASED_KEYS:
            if key in method:
                raise ConfigError(
                    f"{where}: methods.{name}.{key}: only a released checkpoint's method (weights_from) takes {key}"
                )


def _check_released(name: str, method: dict, overrides: dict, at: str) -> None:
    """A released checkpoint (`weights_from`) is evaluated as published: never trained here, on the one
    backbone (architecture and size) it was released for."""
    if method["train"] != "none" or "checkpoint_of" in method:
        what = f"train: {method['train']}" if method["train"] != "none" else f"checkpoint_of: {method['checkpoint_of']}"
        raise ConfigError(
            f"{at}.weights_from: released weights are evaluated as published, so the method needs train: none "
            f"and no checkpoint_of (got {what})"
        )
    if overrides:
        raise ConfigError(
            f"{at}: training key(s) {', '.join(sorted(overrides))} do not apply to released weights (weights_from), "
            "which are not trained here"
        )
    if "backbone" not in method:
        raise ConfigError(
            f"{at}: weights_from needs `backbone`, the backbone the released weights are of (its cells run only "
            f"there); valid backbones: {', '.join(REGISTRY)}"
        )
    _check_names([method["backbone"]], REGISTRY, f"{at}.backbone", "backbones")


def _check_experiment(params: dict, exp: dict, mixtures: dict, at: str) -> None:
    """One entry of `experiments`: the names it lists, its seeds, what it trains on, then each of its methods."""
    _check_seeds(exp.get("seeds", list(DEFAULT_SEEDS)), f"{at}.seeds")
    _check_names(exp["backbones"], REGISTRY, f"{at}.backbones", "backbones")
    _check_names(exp.get("tasks", []), TASKS, f"{at}.tasks", "tasks")
    _check_names(exp.get("mixtures", []), mixtures, f"{at}.mixtures", "mixtures")
    _check_names(exp["methods"], params["methods"], f"{at}.methods", "methods")
    _check_names(exp.get("train_sets", []), TRAINING_SETS, f"{at}.train_sets", "training sets")
    _check_names(exp.get("eval_sets", []), BENCHMARKS, f"{at}.eval_sets", "benchmarks")
    if not exp.get("tasks") and not exp.get("mixtures") and not exp.get("train_sets"):
        raise ConfigError(f"{at}: needs 'tasks', 'mixtures' or 'train_sets'")
    if bool(exp.get("train_sets")) != bool(exp.get("eval_sets")):
        raise ConfigError(
            f"{at}: 'train_sets' and 'eval_sets' go together: each comparison training set "
            "is evaluated on every benchmark of 'eval_sets'"
        )
    for m in exp["methods"]:
        _check_experiment_method(params, exp, m, at)


def _check_experiment_method(params: dict, exp: dict, m: str, at: str) -> None:
    """Method `m` as experiment `exp` runs it: with the training settings merged as the run would merge them."""
    src = params["methods"][m].get("checkpoint_of")
    if src and src not in exp["methods"]:
        raise ConfigError(f"{at}.methods: {m!r} evaluates {src!r}'s checkpoint, so {src!r} must be listed too")
    cfg = {**params["training"], **exp.get("training", {}), **training_overrides(params, m)}
    if cfg["keep_encoded"] and cfg["dataloader_workers"] > 0:
        raise ConfigError(
            f"{at}: method {m!r}: keep_encoded: true needs dataloader_workers: 0 (each worker process "
            f"would keep its own copy); got dataloader_workers: {cfg['dataloader_workers']}"
        )
    if params["methods"][m]["train"] == "livr" and sum(cfg["livr_stage_epochs"]) <= 0:
        raise ConfigError(
            f"{at}: method {m!r}: livr_stage_epochs {cfg['livr_stage_epochs']} must add up to more than 0"
        )
    _check_recipe(params["methods"][m]["train"], cfg, f"{at}: method {m!r}")
    only = params["methods"][m].get("backbone")
    if only is not None and only not in exp["backbones"]:
        raise ConfigError(
            f"{at}: method {m!r} has weights of backbone {only!r} (methods.{m}.backbone), which the experiment's "
            f"backbones ({', '.join(exp['backbones'])}) lack, so it would have no cell"
        )
    field = RECON_FIELD.get(params["methods"][m]["train"])
    sets = [*exp.get("tasks", []), *exp.get("mixtures", []), *exp.get("train_sets", [])]
    if field and not any(field in carried_fields(t) for t in [*exp.get("tasks", []), *exp.get("train_sets", [])]):
        carriers = [n for n in TRAINING_SETS if field in carried_fields(n)]
        raise ConfigError(
            f"{at}: method {m!r} trains on records with {field!r}, which none of the experiment's train sets "
            f"({', '.join(sets)}) carries; training sets that do: {', '.join(carriers)}"
        )
    if params["methods"][m]["train"] == "livr" and not math.isclose(sum(cfg["livr_stage_epochs"]), cfg["sft_epochs"]):
        raise ConfigError(
            f"{at}: method {m!r}: livr_stage_epochs {cfg['livr_stage_epochs']} add up to "
            f"{sum(cfg['livr_stage_epochs'])}, but sft_epochs is {cfg['sft_epochs']}; LIVR trains as long as "
            "SFT in total (paper Sec. 4), so the two stages must add up to sft_epochs"
        )


def _check_seeds(seeds: list, at: str) -> None:
    """Training seeds: distinct integers in numpy's seeding range (each one names a run directory)."""
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise ConfigError(f"{at}: {s!r} is not a seed; expected a list of distinct integers 0..{MAX_SEED}")
    dups = sorted({s for s in seeds if seeds.count(s) > 1})
    if dups:
        raise ConfigError(f"{at}: seed(s) {', '.join(map(str, dups))} listed twice; each seed trains once")


def _check_recipe(train: str, cfg: dict, at: str) -> None:
    """Training recipes that would silently train something else than their name says."""
    if train in RECON_TRAIN:
        _check_recon_recipe(train, cfg, at)
        return
    uses_latents = train == "livr" and cfg["use_latents"]
    if train == "livr":
        stage1, stage2 = cfg["livr_stage_epochs"]
        if stage2 <= 0:
            raise ConfigError(
                f"{at}: livr_stage_epochs {cfg['livr_stage_epochs']}: Stage 2 (standard mask) needs more than 0 "
                "epochs; "
                "without it the kept checkpoint is one selected under the Stage-1 bottleneck and evaluated under the "
                "standard mask, which no stage trained"
            )
        if not cfg["use_latents"] and cfg["mask"] != "answer_only" and stage1 > 0:
            raise ConfigError(
                f"{at}: use_latents: false with mask {cfg['mask']!r}: that mask cuts every post-image token off the "
                "image, so without latents Stage 1 trains an answer that never sees the image; the paper's mask-only "
                "control blocks only the answer (mask: answer_only)"
            )
        if cfg["latent_position"] == "start" and stage1 > 0 and cfg["use_latents"]:
            raise ConfigError(
                f"{at}: latent_position 'start' puts the latents before the images, where the causal mask keeps them "
                "from seeing the image, so Stage 1 would train an answer with no image; use it without Stage 1 "
                "(livr_stage_epochs [0, N], as prompt tuning does)"
            )
    if cfg["finetune"] == "prompt" and not uses_latents:
        raise ConfigError(
            f"{at}: finetune: prompt trains only the latent (soft prompt) rows; it needs train: livr "
            "and use_latents: true"
        )
    if cfg["shared_latent"] and not uses_latents:
        raise ConfigError(f"{at}: shared_latent: true needs latent tokens (train: livr, use_latents: true)")


def _check_recon_recipe(train: str, cfg: dict, at: str) -> None:
    """LVR and Mirage: their targets come from the frozen vision path, and something must train."""
    if cfg["finetune"] not in RECON_FINETUNE:
        raise ConfigError(
            f"{at}: train: {train} needs finetune {' or '.join(RECON_FINETUNE)} (got {cfg['finetune']!r}): its latent "
            "targets are the frozen vision tower's features, and prompt tuning would train only the block's rows"
        )
    if train == "mirage" and sum(cfg["mirage_stage_epochs"]) <= 0:
        raise ConfigError(f"{at}: mirage_stage_epochs {list(cfg['mirage_stage_epochs'])} must add up to more than 0")


def _check_names(names, valid, where: str, kind: str) -> None:
    for n in names:
        if n not in valid:
            raise ConfigError(f"{where}: unknown name {n!r}; valid {kind}: {', '.join(valid)}")


def check_cell(
    params: dict,
    exp_name: str | None,
    backbone: str,
    train_set: str,
    method: str,
    task: str | None = None,
    trained: bool = False,
) -> None:
    """The names of one job must belong to the experiment; errors list the valid values (the seed:
    `check_seed`)."""
    exp_name = selected(params, exp_name)
    exp = experiment(params, exp_name)
    at = f"experiment {exp_name!r}"
    if backbone not in exp["backbones"]:
        raise ConfigError(f"backbone {backbone!r} is not in {at}; valid backbones: {', '.join(exp['backbones'])}")
    if method in params["methods"] and not runs_on(params, method, backbone):
        raise ConfigError(
            f"method {method!r} has released weights of backbone {params['methods'][method]['backbone']!r} "
            f"(methods.{method}.backbone), not {backbone!r}"
        )
    sets = train_sets(params, exp_name)
    if train_set not in sets:
        raise ConfigError(f"train set {train_set!r} is not in {at}; valid train sets: {', '.join(sets)}")
    methods = trained_methods(params, exp_name) if trained else exp["methods"]
    if method not in methods:
        kind = "trained methods" if trained else "methods"
        raise ConfigError(
            f"method {method!r} is not {'a trained method ' if trained else ''}in {at}; valid {kind}: "
            f"{', '.join(methods)}"
        )
    if not trains_on(params, exp_name, method, train_set):
        field = recon_field(params, method)
        raise ConfigError(
            f"method {method!r} trains on records with {field!r}, which train set {train_set!r} lacks; "
            f"valid train sets for it in {at}: {', '.join(t for t in sets if trains_on(params, exp_name, method, t))}"
        )
    if task is not None and task not in sets[train_set]:
        raise ConfigError(
            f"task {task!r} is not evaluated for train set {train_set!r}; valid tasks: {', '.join(sets[train_set])}"
        )


def seeds(params: dict, exp_name: str | None = None) -> list[int]:
    """The training seeds of an experiment's trained cells (params.yaml `experiments.<name>.seeds`)."""
    return list(experiment(params, exp_name).get("seeds", DEFAULT_SEEDS))


def method_seeds(params: dict, exp_name: str | None, method: str) -> list[int | None]:
    """The seeds a method's cells are evaluated at: each training seed for a trained method and for a
    test-time variant of one (`checkpoint_of`: its model's seed); [None] for the untrained base model."""
    return seeds(params, exp_name) if checkpoint_method(params, method) is not None else [None]


def check_seed(params: dict, exp_name: str | None, method: str, seed: int | None) -> int | None:
    """A job's --seed for `method`: None for the base model; for a trained checkpoint one of the
    experiment's seeds (the only one when not given). Errors name the valid seeds."""
    exp_name = selected(params, exp_name)
    valid = seeds(params, exp_name)
    if checkpoint_method(params, method) is None:
        if seed is not None:
            raise ConfigError(f"--seed {seed}: method {method!r} evaluates the untrained base model, which has no seed")
        return None
    if seed is None:
        if len(valid) > 1:
            raise ConfigError(
                f"method {method!r}: experiment {exp_name!r} trains seeds {', '.join(map(str, valid))}; give --seed"
            )
        return valid[0]
    if seed not in valid:
        raise ConfigError(
            f"--seed {seed} is not in experiment {exp_name!r}; valid seeds (experiments.{exp_name}.seeds): "
            f"{', '.join(map(str, valid))}"
        )
    return seed


def training_overrides(params: dict, method: str) -> dict:
    """The `training:` keys a method overrides (e.g. `num_latents: 4`)."""
    return {k: v for k, v in params["methods"][method].items() if k not in METHOD_KEYS}


def selected(params: dict, name: str | None = None) -> str:
    """The experiment a command works on: `name` when given, else the params file's `experiment:`."""
    return name or params["experiment"]


def experiment(params: dict, name: str | None = None) -> dict:
    name = selected(params, name)
    if name not in params["experiments"]:
        raise ConfigError(f"unknown experiment {name!r}; valid experiments: {', '.join(params['experiments'])}")
    return params["experiments"][name]


def train_sets(params: dict, exp_name: str | None = None) -> dict[str, list[str]]:
    """train set -> the tasks it is evaluated on: a task itself, a mixture's member tasks, or (a
    comparison training set) every benchmark of the experiment's `eval_sets`."""
    exp = experiment(params, exp_name)
    sets = {t: [t] for t in exp.get("tasks", [])}
    sets.update({m: list(params["mixtures"][m]) for m in exp.get("mixtures", [])})
    sets.update({t: list(exp["eval_sets"]) for t in exp.get("train_sets", [])})
    return sets


def train_data(params: dict, exp_name: str | None, train_set: str) -> list[str]:
    """The datasets a train set trains on: a mixture's member tasks, else the task or comparison
    training set of that name."""
    if train_set in experiment(params, exp_name).get("mixtures", []):
        return list(params["mixtures"][train_set])
    return [train_set]


def datasets_of(params: dict, exp_name: str | None = None) -> list[str]:
    """Every dataset an experiment trains or tests on (tasks, comparison training sets, benchmarks),
    each once, in the order its train sets name them."""
    seen: dict[str, None] = {}
    for ts, tested in train_sets(params, exp_name).items():
        seen.update(dict.fromkeys([*train_data(params, exp_name, ts), *tested]))
    return list(seen)


def dataset_kind(name: str) -> str:
    """task (the nine tasks' builders or synthetic generators) | training_set | benchmark."""
    return "training_set" if name in TRAINING_SETS else "benchmark" if name in BENCHMARKS else "task"


def cells(params: dict, exp_name: str | None = None) -> list[Cell]:
    """Every evaluated cell: a trained model's (and its test-time variants') once per seed, the base model's
    once, a released checkpoint's once on its own backbone."""
    exp = experiment(params, exp_name)
    return [
        Cell(b, ts, m, t, s)
        for b in exp["backbones"]
        for ts, tasks in train_sets(params, exp_name).items()
        for m in exp["methods"]
        if runs_on(params, m, b) and trains_on(params, exp_name, m, ts)
        for s in method_seeds(params, exp_name, m)
        for t in tasks
    ]


def recon_field(params: dict, method: str) -> str | None:
    """The record field `method`'s model trained on (LVR's boxes, Mirage's helper image); None for the rest."""
    src = checkpoint_method(params, method)
    return RECON_FIELD.get(params["methods"][src]["train"]) if src else None


def carried_fields(name: str) -> tuple[str, ...]:
    """The optional record fields a data set's records carry (its spec's `carries`)."""
    from livr.data.registry import spec_of

    return getattr(spec_of(name), "carries", ())


def trains_on(params: dict, exp_name: str | None, method: str, train_set: str) -> bool:
    """Whether `method` has cells on `train_set`: LVR and Mirage only where every record carries the
    field their targets come from (the others everywhere)."""
    field = recon_field(params, method)
    return field is None or all(field in carried_fields(d) for d in train_data(params, exp_name, train_set))


def runs_on(params: dict, method: str, backbone: str) -> bool:
    """Whether `method` has cells on `backbone`: a released checkpoint only on its own (methods.<m>.backbone)."""
    return params["methods"][method].get("backbone", backbone) == backbone


def released_weights(params: dict, method: str) -> str | None:
    """Where a released checkpoint's weights come from (methods.<m>.weights_from: a hub id or local
    directory); None for the others."""
    return params["methods"][method].get("weights_from")


def is_local_weights(source: str) -> bool:
    """A released checkpoint's `weights_from` names a local directory (else a hub id)."""
    return Path(source).expanduser().is_dir()


def trained_methods(params: dict, exp_name: str | None = None) -> list[str]:
    return [m for m in experiment(params, exp_name)["methods"] if params["methods"][m]["train"] != "none"]


def checkpoint_method(params: dict, method: str) -> str | None:
    """The method whose checkpoint `method` evaluates (None: the base model)."""
    spec = params["methods"][method]
    if spec["train"] != "none":
        return method
    return spec.get("checkpoint_of")


def task_dir(params: dict, exp_name: str | None, task: str) -> str:
    """Where an experiment's built `task` (or comparison training set, or benchmark) lives
    (livr/layout.py): one build for every paper experiment, one per experiment for synthetic data
    (sizes differ)."""
    exp_name = selected(params, exp_name)
    suite, layout = experiment(params, exp_name)["suite"], Layout.of(params)
    where = layout.task_dir if dataset_kind(task) == "task" else layout.comparison_dir
    return where(suite, exp_name, task)


def synthetic_config(params: dict, exp_name: str | None = None) -> dict:
    return {**params["synthetic"], **experiment(params, exp_name).get("synthetic", {})}


def backbone_settings(params: dict, backbone: str) -> dict:
    return dict(params.get("backbones", {}).get(backbone, {}))


def add_params_arguments(parser) -> None:
    """--params and --experiment, as every command that reads params.yaml takes them."""
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    parser.add_argument("--experiment", help="experiment (default: the params file's `experiment:`)")


def add_cell_arguments(parser, train_set_help: str, method_help: str) -> None:
    """The options `livr train` and `livr evaluate` share: which params file, experiment and cell,
    and where/how to run."""
    add_params_arguments(parser)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--train-set", required=True, help=train_set_help)
    parser.add_argument("--method", required=True, help=method_help)
    parser.add_argument(
        "--seed",
        type=int,
        help="training seed of the trained model, one of the experiment's `seeds` (default: its only one; "
        "a cell of the untrained base model has none)",
    )
    parser.add_argument("--models-dir", help="where tiny backbones are built (default: params paths.models)")
    parser.add_argument(
        "--device",
        default="auto",
        help="auto (default: a free local GPU, claimed for this job, else the CPU), cpu, cuda or cuda:N",
    )
    parser.add_argument("--threads", type=int, help="CPU threads for torch")


def configure(parser) -> None:
    add_params_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def main(args) -> int:
    params = load_params(args.params)
    for c in cells(params, args.experiment):
        if args.json:
            print(json.dumps(dataclasses.asdict(c)))
        else:
            print(f"{c.backbone}\t{c.train_set}\t{c.method}\t{'' if c.seed is None else c.seed}\t{c.task}")
    return 0
