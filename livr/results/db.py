"""The results database: read and check every input file, then build it in one go.

Every input is parsed and checked in Python first, so an error names the file, line and key;
the database is then written to a temporary sibling file and renamed over the old one, so a
failed collect leaves the previous database untouched and no half-built file behind.
"""

from __future__ import annotations

import contextlib
import csv
import json
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

import duckdb
import pyarrow as pa

from livr.config import MAX_SEED
from livr.data.benchmarks import BENCHMARKS
from livr.data.benchmarks.predictions import recheck
from livr.data.registry import TASK_SPECS
from livr.data.schema import TASKS
from livr.errors import InputError
from livr.io import atomic_path, json_error
from livr.layout import run_of_metrics, timing_job
from livr.results.stats import BASELINES, paired_bootstrap, two_level_bootstrap

PAPER_CSV = Path(str(resources.files("livr.results") / "paper_results.csv"))
PAPER_DATASETS_CSV = Path(str(resources.files("livr.results") / "paper_datasets.csv"))
SCHEMA_SQL = resources.files("livr.results").joinpath("schema.sql").read_text()

CELL_KEYS = ("experiment", "backbone", "train_set", "method", "task")
# a `runs` row: one cell at one training seed (None: the base model) and weights (its key)
RUNS_TABLE_KEYS = (*CELL_KEYS, "seed", "weights")
SIDECAR_REQUIRED = (*RUNS_TABLE_KEYS, "selected", "n", "n_correct", "n_unparsed", "accuracy")
WEIGHTS = ("base", "best_val", "last")  # what a cell evaluated (schema.sql)
WEIGHT_CHOICES = ("selected", "best_val", "last")  # what a table shows (schema.sql shows_weights)
# key -> accepted Python types; every key is required on every line.
PREDICTION_KEYS = {
    "id": (str,),
    "task": (str,),
    "raw_output": (str,),
    "parsed": (str, type(None)),
    "parse_method": (str,),
    "gold": (str,),
    "correct": (bool,),
}
# Keys of benchmark cells only (livr/data/benchmarks/predictions.py): required there, absent elsewhere.
BENCHMARK_PREDICTION_KEYS = {"subtask": (str,), "pair": (int, type(None))}
BENCHMARK_CELL_KEYS = {**PREDICTION_KEYS, **BENCHMARK_PREDICTION_KEYS}  # every line of a benchmark cell
# The aggregates schema.sql's eval_set_metrics view computes (a new one needs its SQL there first).
SQL_AGGREGATES = frozenset({"micro", "size_weighted", "mean_of_subtasks"})
TIMING_COLUMNS = ("s", "h:m:s", "max_rss", "max_vms", "max_uss", "max_pss", "io_in", "io_out", "mean_load", "cpu_time")
PAPER_COLUMNS = ("table", "backbone", "method", "task", "accuracy", "reported_by")
ACCURACY_TOLERANCE = 0.01  # percentage points: sidecars may round accuracy


def read_cell(path: str | Path) -> tuple[dict, list[dict]]:
    """One cell: its `runs` row (from the sidecar) and its `predictions` rows, cross-checked."""
    path = Path(path)
    sidecar_path = path.with_suffix(".json")
    if not path.is_file():
        raise InputError(f"{path}: cell predictions file not found")
    if not sidecar_path.is_file():
        raise InputError(f"{sidecar_path}: sidecar of {path} not found")
    sidecar = _read_sidecar(sidecar_path)
    cell = {k: sidecar[k] for k in (*RUNS_TABLE_KEYS, "selected")}

    predictions, seen = [], {}
    keys = BENCHMARK_CELL_KEYS if cell["task"] in BENCHMARKS else PREDICTION_KEYS
    for lineno, row in _json_lines(path):
        predictions.append(_check_prediction(row, path, lineno, cell["task"], keys, seen))
    if not predictions:
        raise InputError(f"{path}: no predictions (an evaluated cell has one line per test example)")
    counted = _check_counts(sidecar, sidecar_path, path, predictions)

    run = {
        **cell,
        **counted,
        "accuracy": float(sidecar["accuracy"]),
        "checkpoint": sidecar.get("checkpoint"),
        "checkpoint_method": sidecar.get("checkpoint_method"),
        "seconds": None if sidecar.get("seconds") is None else float(sidecar["seconds"]),
        "settings": json.dumps(sidecar["settings"]) if "settings" in sidecar else None,
        "path": str(path),
    }
    return run, [{**cell, **p} for p in predictions]


def _read_sidecar(sidecar_path: Path) -> dict:
    """A cell's sidecar JSON, with its required keys present and well-typed."""
    try:
        sidecar = json.loads(sidecar_path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{sidecar_path}: {json_error(e)}") from None
    if not isinstance(sidecar, dict):
        raise InputError(f"{sidecar_path}: expected a JSON object")
    missing = [k for k in SIDECAR_REQUIRED if k not in sidecar]
    if missing:
        raise InputError(f"{sidecar_path}: missing key(s) {missing}; a sidecar needs {list(SIDECAR_REQUIRED)}")
    for key in CELL_KEYS:
        if not isinstance(sidecar[key], str) or not sidecar[key]:
            raise InputError(f"{sidecar_path}: key {key!r} is {sidecar[key]!r}; expected a non-empty string")
    if sidecar["task"] not in TASKS and sidecar["task"] not in BENCHMARKS:
        raise InputError(
            f"{sidecar_path}: key 'task' is {sidecar['task']!r}; valid tasks: {', '.join(TASKS)}; "
            f"benchmarks: {', '.join(BENCHMARKS)}"
        )
    if sidecar["weights"] not in WEIGHTS:
        raise InputError(f"{sidecar_path}: key 'weights' is {sidecar['weights']!r}; valid: {', '.join(WEIGHTS)}")
    seed, base = sidecar["seed"], sidecar["weights"] == "base"
    if (
        (seed is not None)
        if base
        else (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED)
    ):
        raise InputError(
            f"{sidecar_path}: key 'seed' is {seed!r}; expected "
            + ("null for the base model" if base else f"the training seed of the evaluated weights (0..{MAX_SEED})")
        )
    if not isinstance(sidecar["selected"], bool) or (base and not sidecar["selected"]):
        raise InputError(
            f"{sidecar_path}: key 'selected' is {sidecar['selected']!r}; expected true or false "
            "(true for the base model)"
        )
    return sidecar


def _check_counts(sidecar: dict, sidecar_path: Path, path: Path, predictions: list[dict]) -> dict:
    """The counts `path`'s predictions give, checked against the sidecar's (and its accuracy)."""
    counted = {
        "n": len(predictions),
        "n_correct": sum(p["correct"] for p in predictions),
        "n_unparsed": sum(p["parsed"] is None for p in predictions),
    }
    for key, value in counted.items():
        if sidecar[key] != value:
            raise InputError(f"{sidecar_path}: key {key!r} is {sidecar[key]!r} but {path} holds {value}")
    accuracy = 100.0 * counted["n_correct"] / counted["n"]
    if not abs(float(sidecar["accuracy"]) - accuracy) <= ACCURACY_TOLERANCE:
        raise InputError(f"{sidecar_path}: key 'accuracy' is {sidecar['accuracy']!r} but {path} gives {accuracy:.4f}")
    return counted


def _check_prediction(row, path: Path, lineno: int, task: str, keys: dict, seen: dict) -> dict:
    where = f"{path}:{lineno}"
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object")
    missing = [k for k in keys if k not in row]
    if missing:
        raise InputError(f"{where}: missing key(s) {missing}; each line needs {list(keys)}")
    for key, types in keys.items():
        if not isinstance(row[key], types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise InputError(f"{where}: key {key!r} is {row[key]!r}; expected {names}")
    if row["task"] != task:
        raise InputError(f"{where}: key 'task' is {row['task']!r} but the sidecar says {task!r}")
    # a benchmark's scorer decides (Mirage's from the map, which the row does not hold: None)
    expected = recheck(task, row["parsed"], row["gold"]) if task in BENCHMARKS else row["parsed"] == row["gold"]
    if expected is not None and row["correct"] != expected:
        raise InputError(
            f"{where}: key 'correct' is {row['correct']} but parsed={row['parsed']!r}, gold={row['gold']!r}"
        )
    if row["id"] in seen:
        raise InputError(f"{where}: duplicate id {row['id']!r} (first on line {seen[row['id']]})")
    seen[row["id"]] = lineno
    return {**dict.fromkeys(BENCHMARK_PREDICTION_KEYS), **{k: row[k] for k in keys if k != "task"}}


def read_job_timing(path: str | Path) -> list[dict]:
    """Rows of one job-timing TSV (what Snakemake's `benchmark:` directive writes), with the job its path names."""
    path = Path(path)
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        rows = list(reader)
    missing = [c for c in TIMING_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {missing}; a Snakemake `benchmark:` TSV has {list(TIMING_COLUMNS)}"
        )
    job, ident = timing_job(path)
    out = []
    for i, row in enumerate(rows):
        where = f"{path} row {i + 2}"  # +1 for the header, +1 to count from 1
        out.append(
            {
                "path": str(path),
                "job": job,
                **ident,
                "repeat": i,
                "hms": row["h:m:s"],
                **{c: _number(row[c], where, c) for c in TIMING_COLUMNS if c != "h:m:s"},
                "extra": json.dumps({k: v for k, v in row.items() if k not in TIMING_COLUMNS}),
            }
        )
    return out


def read_train_metrics(path: str | Path) -> list[dict]:
    """Lines of one training metrics.jsonl: common keys typed, the whole line kept as JSON."""
    path = Path(path)
    ident = run_of_metrics(path)
    out = []
    for lineno, row in _json_lines(path):
        where = f"{path}:{lineno}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object")
        step = _number(row.get("step"), where, "step")
        if step is not None and not step.is_integer():
            raise InputError(f"{where}: key 'step' is {row['step']!r}; expected an integer")
        out.append(
            {
                "path": str(path),
                "line": lineno,
                **ident,
                "step": None if step is None else int(step),
                "epoch": _number(row.get("epoch"), where, "epoch"),
                "stage": None if row.get("stage") is None else str(row["stage"]),
                "loss": _number(row.get("loss"), where, "loss"),
                "raw": json.dumps(row),
            }
        )
    return out


def read_datasets(experiment: str, task_dirs: Iterable[str | Path]) -> list[dict]:
    """Examples per split of each built task directory an experiment read, from its manifest.json."""
    rows = []
    for d in task_dirs:
        path = Path(d) / "manifest.json"
        if not path.is_file():
            raise InputError(f"{path}: built dataset manifest not found (a task directory holds one; rebuild it)")
        try:
            manifest = json.loads(path.read_text())
            counts = dict(manifest["counts"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InputError(f"{path}: not a task manifest (expected a JSON object with 'counts' per split)") from None
        task = manifest.get("task") or Path(d).name
        rows += [
            {"experiment": experiment, "task": task, "split": split, "n": int(n), "path": str(d)}
            for split, n in sorted(counts.items())
        ]
    return rows


def read_paper_datasets(path: str | Path = PAPER_DATASETS_CSV) -> list[dict]:
    with open(path, newline="") as f:
        return [
            {"task": r["task"], "split": r["split"], "n": int(r["n"]), "note": r["note"]} for r in csv.DictReader(f)
        ]


ANALYSIS_KEYS = ("experiment", "backbone", "train_set", "method", "seed", "weights", "attention", "tsne")
ATTENTION_KEYS = ("task", "n", "answer_to_latent", "answer_to_image", "predictor_to_latent", "predictor_to_image")
TSNE_KEYS = ("task", "id", "kind", "position", "x", "y")


def read_analysis(path: str | Path) -> tuple[list[dict], list[dict]]:
    """One `livr analyze` file: its `attention_shares` rows and its `tsne_points` rows."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: analysis file not found") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: {json_error(e)}") from None
    missing = [k for k in ANALYSIS_KEYS if not isinstance(data, dict) or k not in data]
    if missing:
        raise InputError(f"{path}: missing key(s) {missing}; an analysis file has {list(ANALYSIS_KEYS)}")
    if isinstance(data["seed"], bool) or not isinstance(data["seed"], int):
        raise InputError(f"{path}: key 'seed' is {data['seed']!r}; expected the analysed model's training seed")
    model = {k: data[k] for k in ("experiment", "backbone", "train_set", "method", "seed")}
    return _attention_rows(data, model, path), _tsne_rows(data, model, path)


def _attention_rows(data: dict, model: dict, path: Path) -> list[dict]:
    """The analysis file's `attention` list as `attention_shares` rows."""
    shares = []
    for i, row in enumerate(data["attention"]):
        where = f"{path}: attention[{i}]"
        if not isinstance(row, dict) or any(k not in row for k in ATTENTION_KEYS):
            raise InputError(f"{where}: expected an object with keys {list(ATTENTION_KEYS)}")
        if row["task"] not in TASKS:
            raise InputError(f"{where}: key 'task' is {row['task']!r}; valid tasks: {', '.join(TASKS)}")
        values = {k: _number(row[k], where, k, required=True) for k in ATTENTION_KEYS[1:]}
        shares.append({**model, "task": row["task"], "weights": data["weights"], **values, "n": int(values["n"])})
    return shares


def _tsne_rows(data: dict, model: dict, path: Path) -> list[dict]:
    """The analysis file's `tsne.points` list as `tsne_points` rows."""
    points = []
    tsne = data["tsne"].get("points") if isinstance(data["tsne"], dict) else None
    if not isinstance(tsne, list):
        raise InputError(f"{path}: key 'tsne' must hold a list 'points'")
    for i, row in enumerate(tsne):
        where = f"{path}: tsne.points[{i}]"
        if not isinstance(row, dict) or any(k not in row for k in TSNE_KEYS):
            raise InputError(f"{where}: expected an object with keys {list(TSNE_KEYS)}")
        if row["kind"] not in ("latent", "image", "text"):
            raise InputError(f"{where}: key 'kind' is {row['kind']!r}; valid: latent, image, text")
        points.append(
            {
                **model,
                "task": row["task"],
                "id": str(row["id"]),
                "kind": row["kind"],
                "position": int(_number(row["position"], where, "position", required=True)),
                "x": _number(row["x"], where, "x", required=True),
                "y": _number(row["y"], where, "y", required=True),
            }
        )
    return points


def read_paper(path: str | Path = PAPER_CSV) -> list[dict]:
    path = Path(path)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in PAPER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing}; expected {list(PAPER_COLUMNS)}")
        rows = list(reader)
    return [
        {
            "table_name": r["table"],
            "backbone": r["backbone"],
            "method": r["method"],
            "task": r["task"],
            "accuracy": _number(r["accuracy"], f"{path} row {i + 2}", "accuracy", required=True),
            "reported_by": _text(r["reported_by"], f"{path} row {i + 2}", "reported_by"),
        }
        for i, r in enumerate(rows)
    ]


def _text(value, where: str, key: str) -> str:
    if not (value or "").strip():
        raise InputError(f"{where}: key {key!r} is empty; expected a name (livr, vigorl, lvr, mirage)")
    return value.strip()


def eval_set_rows() -> list[dict]:
    """The benchmark registry as the database's `eval_sets` table."""
    unknown = sorted({bm.aggregate for bm in BENCHMARKS.values()} - SQL_AGGREGATES)
    if unknown:
        raise ValueError(
            f"aggregate(s) {unknown} have no SQL in livr/results/schema.sql (eval_set_metrics); "
            f"it computes {', '.join(sorted(SQL_AGGREGATES))}"
        )
    return [
        {
            "name": bm.name,
            "task": bm.task,
            "scorer": bm.scorer,
            "aggregate": bm.aggregate,
            "paper_column": bm.paper_column,
        }
        for bm in BENCHMARKS.values()
    ]


def _json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number in the file, parsed JSON) for each non-blank line."""
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}:{lineno}: {json_error(e)}") from None


def _number(value, where: str, key: str, required: bool = False) -> float | None:
    """A float from JSON or TSV text; "", "-", "NA" and null are missing (an error if required)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "-", "NA")):
        if required:
            raise InputError(f"{where}: key {key!r} is missing; expected a number")
        return None
    try:
        if isinstance(value, bool):  # JSON true is not a number, though float(True) works
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: key {key!r} is {value!r}; expected a number") from None


def build_database(
    out: str | Path,
    cells: Iterable[str | Path],
    job_timings: Iterable[str | Path] = (),
    train_metrics: Iterable[str | Path] = (),
    paper: str | Path = PAPER_CSV,
    datasets: dict[str, Iterable[str | Path]] | None = None,
    analyses: Iterable[str | Path] = (),
) -> dict[str, int]:
    """Read and check every input, then write the database at `out` atomically; row counts.
    `datasets`: experiment -> the built task directories its cells read."""
    runs, predictions, owner = [], [], {}
    for path in cells:
        run, preds = read_cell(path)
        key = tuple(run[k] for k in RUNS_TABLE_KEYS)
        if key in owner:
            raise InputError(f"{path}: cell {dict(zip(RUNS_TABLE_KEYS, key))} already read from {owner[key]}")
        owner[key] = path
        runs.append(run)
        predictions.extend(preds)
    shares, points = [], []
    for path in analyses:
        s, p = read_analysis(path)
        shares += s
        points += p
    tables = {
        "runs": runs,
        "predictions": predictions,
        **pooled_tables(predictions, test_time_sources(runs)),
        "job_timings": [row for p in job_timings for row in read_job_timing(p)],
        "train_metrics": [row for p in train_metrics for row in read_train_metrics(p)],
        "paper": read_paper(paper),
        "tasks": [{"task": t, "chance": TASK_SPECS[t].chance} for t in TASKS],
        "datasets": [row for exp, dirs in (datasets or {}).items() for row in read_datasets(exp, dirs)],
        "paper_datasets": read_paper_datasets(),
        "eval_sets": eval_set_rows(),
        "attention_shares": shares,
        "tsne_points": points,
    }
    with _fresh_database(out) as con:
        con.execute(SCHEMA_SQL)
        for name, rows in tables.items():
            if rows:
                con.register("incoming", pa.Table.from_pylist(rows))
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")  # name: ours, not user text
                con.unregister("incoming")
    return {name: len(rows) for name, rows in tables.items()}


def shows_weights(weights: str, selected: bool, choice: str) -> bool:
    """schema.sql's macro of the same name: does a cell at `weights` belong to a `choice` table."""
    return weights == "base" or (choice == "selected" and selected) or weights == choice


def test_time_sources(runs: list[dict]) -> dict[tuple[str, str], str]:
    """(experiment, method) -> the trained method whose checkpoint a test-time variant evaluates
    (e.g. livr_eval_no_latents -> livr)."""
    return {
        (r["experiment"], r["method"]): r["checkpoint_method"]
        for r in runs
        if r["checkpoint_method"] and r["checkpoint_method"] != r["method"]
    }


def pooled_tables(predictions: list[dict], sources: dict[tuple[str, str], str] | None = None) -> dict[str, list]:
    """The bootstrap tables: paired_deltas (one row per training seed), pooled_deltas and
    pooled_accuracy (cells of several seeds, two-level bootstrap)."""
    by_cell = _correct_by_cell(predictions)
    per_seed, pooled = paired_deltas(by_cell, sources or {})
    return {"paired_deltas": per_seed, "pooled_deltas": pooled, "pooled_accuracy": pooled_accuracy(by_cell)}


def _correct_by_cell(predictions: list[dict]) -> dict[tuple, dict[str, dict]]:
    """(experiment, backbone, train_set, task, weights choice) -> method -> seed -> {id: correct},
    for each choice of weights (WEIGHT_CHOICES) a prediction belongs to."""
    by_cell: dict[tuple, dict[str, dict]] = {}
    for p in predictions:
        for choice in WEIGHT_CHOICES:
            if shows_weights(p["weights"], p["selected"], choice):
                key = (p["experiment"], p["backbone"], p["train_set"], p["task"], choice)
                by_cell.setdefault(key, {}).setdefault(p["method"], {}).setdefault(p.get("seed"), {})[p["id"]] = p[
                    "correct"
                ]
    return by_cell


def seed_pairs(a_seeds, b_seeds) -> list[tuple]:
    """(seed of A, seed of B) pairs: seed s with seed s; a side with only seed None (the base model, or
    cells that name no seed) against every seed of the other."""
    if set(a_seeds) == {None}:
        return [(None, s) for s in sorted(b_seeds, key=_seed_order)]
    if set(b_seeds) == {None}:
        return [(s, None) for s in sorted(a_seeds, key=_seed_order)]
    return [(s, s) for s in sorted(set(a_seeds) & set(b_seeds), key=_seed_order)]


def _seed_order(seed):
    return (seed is not None, seed or 0)


def paired_deltas(by_cell: dict[tuple, dict[str, dict]], sources: dict[tuple[str, str], str]) -> tuple[list, list]:
    """Every method against each baseline (livr/results/stats.py BASELINES), and every test-time
    variant against the model it evaluates (`sources`), evaluated in the same cell (experiment,
    backbone, train set, task), for each choice of weights: per training seed on the examples both
    were evaluated on (paired_deltas), and pooled over the seeds on the examples every pair shares
    (pooled_deltas)."""
    keys = ("experiment", "backbone", "train_set", "task", "weights")
    per_seed, pooled = [], []
    for key, methods in sorted(by_cell.items()):
        pairs = {(m, b) for b in BASELINES if b in methods for m in methods if m != b}
        pairs |= {(m, sources[(key[0], m)]) for m in methods if sources.get((key[0], m)) in methods}
        for method, baseline in sorted(pairs):
            seeds = seed_pairs(methods[method], methods[baseline])
            runs = [(methods[method][sa], methods[baseline][sb], sa if sa is not None else sb) for sa, sb in seeds]
            ident = {**dict(zip(keys, key)), "method": method, "baseline": baseline}
            for a, b, seed in runs:
                ids = sorted(set(a) & set(b))
                if ids:
                    stats = paired_bootstrap([a[i] for i in ids], [b[i] for i in ids])
                    per_seed.append({**ident, "seed": seed, **stats})
            shared = sorted(set.intersection(*(set(a) & set(b) for a, b, _ in runs))) if runs else []
            if len(runs) == 1 and shared:  # one seed: its paired delta as it is (no second bootstrap)
                stats = {k: per_seed[-1][k] for k in ("n", "delta", "ci_low", "ci_high", "samples", "bootstrap_seed")}
                stats["n_seeds"] = 1
            elif shared:
                stats = two_level_bootstrap([[float(a[i]) - float(b[i]) for i in shared] for a, b, _ in runs])
            if shared:
                pooled.append({**ident, **stats, "seeds": [s for _, _, s in runs], "supported": _excludes_zero(stats)})
    return per_seed, pooled


def pooled_accuracy(by_cell: dict[tuple, dict[str, dict]]) -> list[dict]:
    """Each method's accuracy per cell and choice of weights, pooled over its training seeds on the
    examples every seed was evaluated on (two-level bootstrap); cells of several seeds only."""
    keys = ("experiment", "backbone", "train_set", "task", "weights")
    rows = []
    for key, methods in sorted(by_cell.items()):
        for method, seeds in sorted(methods.items()):
            shared = sorted(set.intersection(*(set(c) for c in seeds.values())))
            if len(seeds) < 2 or not shared:  # one seed: seed_metrics gives its Wilson interval
                continue
            ordered = [seeds[s] for s in sorted(seeds, key=_seed_order)]
            stats = two_level_bootstrap([[float(c[i]) for i in shared] for c in ordered])
            stats["accuracy"] = stats.pop("delta")
            rows.append({**dict(zip(keys, key)), "method": method, **stats})
    return rows


def _excludes_zero(stats: dict) -> bool:
    return stats["ci_low"] > 0 or stats["ci_high"] < 0


@contextlib.contextmanager
def _fresh_database(out: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new database that replaces `out` only if the block succeeds."""
    with atomic_path(out) as tmp:
        tmp.unlink()  # DuckDB refuses the empty placeholder file; the unique name stays ours
        con = duckdb.connect(str(tmp))
        try:
            yield con
        finally:
            con.close()
            Path(f"{tmp}.wal").unlink(missing_ok=True)


def connect_read_only(db: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the results database for reading only, with no access to other files."""
    if not Path(db).is_file():
        raise InputError(f"{db}: results database not found (build it with `livr collect`)")
    try:
        return duckdb.connect(str(db), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as e:  # not a DuckDB file, or one of another DuckDB version
        raise InputError(f"{db}: cannot open as a DuckDB results database ({str(e).splitlines()[0]})") from None
