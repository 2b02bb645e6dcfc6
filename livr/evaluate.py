"""`livr evaluate`: batched greedy decoding of one test split, one predictions file per cell.

A trained model's cells on one test task (its own method and the test-time variants on its
checkpoint, `--variant`) are one job: the checkpoint loads once and a vision feature cache
(livr/model/vision_cache.py, the run's `vision_cache_mb`) computes each image's features once for
every pass; each cell's predictions and sidecar are what a job of its own writes.

A trained cell is evaluated twice, by two jobs: with the checkpoint its run kept (final/) and with
the other candidate (unselected/, `--unselected`); the sidecar names which weights (base, best_val
or last) and whether they are the kept ones.

Decoding is livr/decoding.py's greedy loop over the KV cache with explicit position ids and the
chosen mask (standard, or the Stage-1 bottleneck for the paper's mask-at-test-time analysis), so the
same code serves every mask. Latent tokens are suppressed at every step: they are inputs, never outputs.

The nine tasks' answers are read by livr/answers.py; an evaluation-only benchmark of the comparison
experiments (livr/data/benchmarks) is judged by its own scorer, and its rows also carry the
record's subtask (and MMVP's pair) for the database's aggregates.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from livr import config as livr_config
from livr.answers import extract_answer_with_method
from livr.data.benchmarks import BENCHMARKS
from livr.data.benchmarks.predictions import benchmark_accuracy, prediction_rows
from livr.data.schema import read_split
from livr.decoding import Decoding, decode_responses, resolve_latent_mode
from livr.errors import InputError
from livr.io import write_json, write_jsonl
from livr.model.backbones import get_backbone
from livr.model.loading import FULL_WEIGHT_MODES, load_trained, resolve_dtype
from livr.model.vision_cache import VisionFeatureCache
from livr.ops.gpu_slots import job_device
from livr.settings import EvalConfig, resolve_training


def evaluated_weights(checkpoint, meta: dict) -> tuple[str, bool]:
    """(weights, selected) of what is evaluated: `base` for the untrained model, else the checkpoint's
    `best_val` or `last` weights, and whether they are the ones its run kept (final/) or not (unselected/)."""
    if checkpoint is None:
        return "base", True
    if "weights" not in meta or "selected" not in meta:
        raise InputError(
            f"{checkpoint}: checkpoint metadata names no 'weights'/'selected' (best_val or last); "
            "it predates unselected/ checkpoints: rerun its training job"
        )
    return meta["weights"], bool(meta["selected"])


def evaluate_cell(
    cfg: EvalConfig,
    checkpoint,
    out_path: str | Path,
    models_dir,
    device: str = "cpu",
    threads: int | None = None,
    vision_cache_mb: float | None = None,
) -> dict:
    """Decode the test split of `cfg.task` with the model at `checkpoint` (None: the base model)."""
    return evaluate_cells([cfg], checkpoint, [out_path], models_dir, device, threads, vision_cache_mb)[0]


def evaluate_cells(
    cfgs: list[EvalConfig],
    checkpoint,
    out_paths: list[str | Path],
    models_dir,
    device: str = "cpu",
    threads: int | None = None,
    vision_cache_mb: float | None = None,
) -> list[dict]:
    """Decode each cell of `cfgs` (one checkpoint and test task: a trained model's own cell and its
    test-time variants, which change only eval_latents/eval_mask) into its own predictions file, with
    the model loaded once and the frozen vision features computed once per image for all passes
    (`vision_cache_mb`: their memory budget, the evaluated run's; None: no cache)."""
    out_paths = [Path(p) for p in out_paths]
    # A sidecar marks a finished cell and is written last: drop every stale one first, so a job
    # killed at any point never pairs new predictions with an old summary.
    for out in out_paths:
        out.with_suffix(".json").unlink(missing_ok=True)
    if threads:
        torch.set_num_threads(threads)
    t0 = time.time()
    first = cfgs[0]
    dtype = resolve_dtype(first.dtype, device)
    model, processor, meta = load_trained(
        first.backbone,
        checkpoint,
        models_dir,
        first.backbone_settings,
        dtype,
        first.attn_implementation,
        device,
        first.weights_from,
    )
    cache = open_vision_cache(model, vision_cache_mb, out_paths[0])
    try:
        summaries = []
        for cfg, out_path in zip(cfgs, out_paths):
            summaries.append(decode_cell(cfg, checkpoint, out_path, model, processor, meta, dtype, t0))
            t0 = time.time()  # a later pass's seconds are its own decoding; the first's include the load
    finally:
        if cache is not None:
            cache.close()
    return summaries


def open_vision_cache(model, budget_mb: float | None, out_path: Path) -> VisionFeatureCache | None:
    """The job's frozen vision features (nothing trains at test time), spilling beyond `budget_mb`
    to a directory beside the first predictions file (removed when the job ends); none without a budget."""
    if budget_mb is None:
        return None
    return VisionFeatureCache(model, budget_mb, out_path.with_name(f".{out_path.stem}.vision_cache"))


def decode_cell(
    cfg: EvalConfig, checkpoint, out_path: str | Path, model, processor, meta: dict, dtype, t0: float
) -> dict:
    """One cell's pass over its test split with the loaded model; writes its predictions and sidecar."""
    spec = get_backbone(cfg.backbone)
    weights, selected = evaluated_weights(checkpoint, meta)
    copies = meta.get("image_copies", 1)  # checkpoints written before the image x2 control gave each image once
    latents = meta["latents"] if cfg.eval_latents else []
    mask = meta["mask"] if cfg.eval_mask == "bottleneck" else None
    records = read_split(cfg.data_dir, "test")
    if cfg.max_test_examples:
        records = records[: cfg.max_test_examples]
    decoding_spec, declared_in = latent_decoding(cfg, checkpoint, meta)
    how = Decoding(
        latents=tuple(latents),
        latent_position=meta["latent_position"],
        suppress_ids=tuple(meta["latent_ids"]),
        mask=mask,
        image_copies=copies,
        batch_size=cfg.batch_size,
        max_new_tokens=cfg.max_new_tokens,
        latent_mode=resolve_latent_mode(decoding_spec, processor.tokenizer, declared_in),
    )
    data_dir = Path(cfg.data_dir)
    responses = decode_responses(model, processor, spec, [(r, data_dir) for r in records], how, dtype)
    rows = scored_rows(cfg.task, records, responses)
    n_correct = sum(r["correct"] for r in rows)
    summary = {
        "experiment": cfg.experiment,
        "backbone": cfg.backbone,
        "train_set": cfg.train_set,
        "method": cfg.method,
        "seed": cfg.seed,
        "task": cfg.task,
        "n": len(rows),
        "n_correct": n_correct,
        "n_unparsed": sum(r["parsed"] is None for r in rows),
        "accuracy": round(100.0 * n_correct / len(rows), 4),
        "checkpoint": str(checkpoint) if checkpoint else cfg.weights_from,  # released weights: their source
        "checkpoint_method": cfg.checkpoint_method,
        "weights": weights,
        "selected": selected,
        "settings": {
            **{
                k: getattr(cfg, k)
                for k in ("eval_latents", "eval_mask", "max_new_tokens", "batch_size", "max_test_examples")
            },
            "deviations": [*cfg.deviations, *precision_deviations(meta, dtype)],
        },
        "seconds": round(time.time() - t0, 2),
    }
    if cfg.task in BENCHMARKS:  # the benchmark's own number (e.g. BLINK-3's mean of subtasks); accuracy is pooled
        summary["benchmark_accuracy"] = round(benchmark_accuracy(cfg.task, rows), 4)
        summary["aggregate"] = BENCHMARKS[cfg.task].aggregate
    out_path = Path(out_path)
    write_jsonl(out_path, rows)
    write_json(out_path.with_suffix(".json"), summary)
    return summary


def precision_deviations(meta: dict, dtype: torch.dtype) -> list[str]:
    """A full-weight run trained in bf16 (the GPU default) keeps no fp32 master copy: torch's AdamW
    updates the bf16 weights in place, so a step smaller than a weight's bf16 resolution is lost, which
    at lr 1e-5 is most steps (LVR's DeepSpeed runs keep fp32 masters). Said beside the row it affects;
    judged by the evaluation's dtype, which is the run's own on the same kind of device (float32 on a CPU)."""
    if meta.get("finetune") in FULL_WEIGHT_MODES and dtype == torch.bfloat16:
        return ["bf16 weights without an fp32 master copy (updates below bf16 resolution are lost)"]
    return []


def latent_decoding(cfg: EvalConfig, checkpoint, meta: dict) -> tuple[dict | None, str]:
    """The cell's latent decoding and where it is declared: a trained checkpoint's metadata, or a released
    checkpoint's method in params.yaml."""
    if cfg.weights_from is not None:
        return cfg.latent_decoding, f"params.yaml methods.{cfg.method}"
    return meta.get("latent_decoding"), f"{checkpoint} metadata"


def scored_rows(task: str, records, responses: list[str]) -> list[dict]:
    """Prediction rows of `task`: a comparison benchmark's by its own scorer, else the nine tasks' (task_rows)."""
    return prediction_rows(task, records, responses) if task in BENCHMARKS else task_rows(records, responses)


def task_rows(records, responses: list[str]) -> list[dict]:
    """Prediction rows of one of the nine tasks: the answer read by livr/answers.py, exact match."""
    rows = []
    for rec, raw in zip(records, responses):
        parsed, how = extract_answer_with_method(raw, rec.task, len(rec.choices) or None)
        rows.append(
            {
                "id": rec.id,
                "task": rec.task,
                "raw_output": raw,
                "parsed": parsed,
                "parse_method": how,
                "gold": rec.answer,
                "correct": parsed is not None and parsed == rec.answer,
            }
        )
    return rows


def check_inputs(cfg: EvalConfig, checkpoint, out: Path) -> None:
    """Before anything is loaded or decoded: the output is a file path, the test split reads, the
    checkpoint is a finished one, and the base weights (where the checkpoint needs them) or the released
    weights are there."""
    from livr.ops.hub_weights import require_checkpoint_base_weights, require_released_weights

    if out.is_dir():
        raise InputError(f"{out}: is a directory; --out names the predictions .jsonl file")
    read_split(cfg.data_dir, "test")
    if cfg.weights_from is not None:
        require_released_weights(cfg.method, cfg.weights_from)
    else:
        require_checkpoint_base_weights(cfg.backbone, checkpoint)


def configure(parser) -> None:
    livr_config.add_cell_arguments(
        parser,
        "the train set whose checkpoint is evaluated",
        "a method of params.yaml `methods:` (zero_shot, sft, livr, ...)",
    )
    parser.add_argument("--task", required=True, help="the test task")
    parser.add_argument(
        "--checkpoint",
        help="trained model directory (default: the checkpoint method's "
        "runs/<exp>/<backbone>/<train_set>/<method>/seed<S>/final, or .../unselected with --unselected)",
    )
    parser.add_argument(
        "--unselected",
        action="store_true",
        help="evaluate the checkpoint the run did not keep (its unselected/ directory)",
    )
    parser.add_argument("--out", required=True, help="predictions .jsonl (a .json summary is written beside it)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="METHOD=OUT",
        help="also decode METHOD, a method on the same checkpoint (a test-time variant: "
        "`checkpoint_of`), into predictions file OUT, in this job: the model is loaded once "
        "and each image's vision features computed once (repeatable)",
    )


def variant_cells(params: dict, args) -> list[tuple[EvalConfig, Path]]:
    """The job's cells, --method's first: each a valid cell on --method's checkpoint, each with its own file."""
    cells = [(args.method, args.out)]
    for v in args.variant:
        method, sep, out = v.partition("=")
        if not sep or not method or not out:
            raise InputError(
                f"--variant {v!r}: expected METHOD=OUT (a method of params.yaml `methods:` and its predictions file)"
            )
        cells.append((method, out))
    methods, outs = [m for m, _ in cells], [Path(o) for _, o in cells]
    if len(set(outs)) < len(outs) or len(set(methods)) < len(methods):
        raise InputError("--method/--out and --variant: each method and each predictions file once")
    cfgs = []
    for i, method in enumerate(methods):
        livr_config.check_cell(params, args.experiment, args.backbone, args.train_set, method, task=args.task)
        # --seed is --method's; a variant on the base model is refused below as on another checkpoint
        on_base = i > 0 and livr_config.checkpoint_method(params, method) is None
        seed = None if on_base else args.seed
        cfgs.append(
            EvalConfig.resolve(
                params, args.experiment, args.backbone, args.train_set, method, args.task, args.unselected, seed
            )
        )
    first = cfgs[0]
    for cfg in cfgs[1:]:
        if (cfg.checkpoint, cfg.weights_from, cfg.dtype, cfg.attn_implementation) != (
            first.checkpoint,
            first.weights_from,
            first.dtype,
            first.attn_implementation,
        ):
            raise InputError(
                f"--variant {cfg.method}: evaluates {evaluated(cfg)}, not --method "
                f"{first.method}'s {evaluated(first)}: only methods on one checkpoint share a job"
            )
    return list(zip(cfgs, outs))


def evaluated(cfg: EvalConfig) -> str:
    """What a cell's model is, in a message: its checkpoint, released weights or the base model."""
    return cfg.checkpoint or (f"released weights {cfg.weights_from}" if cfg.weights_from else "the base model")


def main(args) -> int:
    params = livr_config.load_params(args.params)
    cells = variant_cells(params, args)
    if args.checkpoint and cells[0][0].weights_from:
        raise InputError(
            f"--checkpoint: method {args.method!r} evaluates released weights, {cells[0][0].weights_from} "
            f"(params.yaml methods.{args.method}.weights_from); a trained checkpoint belongs to a trained method"
        )
    checkpoint = args.checkpoint or cells[0][0].checkpoint
    for cfg, out in cells:
        check_inputs(cfg, checkpoint, out)
    first = cells[0][0]
    budget = resolve_training(params, first.experiment, first.checkpoint_method).vision_cache_mb
    with job_device(args.device) as device:
        summaries = evaluate_cells(
            [c for c, _ in cells],
            checkpoint,
            [o for _, o in cells],
            args.models_dir or params["paths"]["models"],
            device,
            args.threads or first.threads,
            budget,
        )
    for s in summaries:
        print(
            f"{args.backbone}/{args.train_set}/{s['method']} on {args.task} ({s['weights']} weights): "
            f"{s['accuracy']:.2f}% "
            f"({s['n_correct']}/{s['n']}, {s['n_unparsed']} unparsable)"
            + (f"; {s['aggregate']} {s['benchmark_accuracy']:.2f}%" if "aggregate" in s else "")
        )
    return 0
