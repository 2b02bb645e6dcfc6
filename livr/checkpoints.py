"""The files of a training run's checkpoints: the trained tensors (LoRA, latent rows), the marker that
says a Trainer checkpoint is whole, and resuming from the newest whole one. Used by the stage loop
(livr/train.py) and the Trainer callbacks (livr/stage_trainer.py)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from livr.errors import InputError
from livr.io import atomic_path, write_json

log = logging.getLogger(__name__)

TRAINABLE = "trainable.safetensors"
COMPLETE = "livr_complete.json"  # written last into a Trainer checkpoint: it is whole
STAGE_NAMES = ("sft", "lvr", "stage1", "stage2")  # the stage directories a run can have
# The last stage's two candidate weights: the best validation accuracy's and the last step's. One is
# kept (final/, by `select`), the other goes to unselected/; both are evaluated.
WEIGHT_FILES = {"best_val": "best.safetensors", "last": "last.safetensors"}
BEST_RECORD = "best.json"  # beside best.safetensors: the step and validation accuracy it was kept at


def trainable_state(model) -> dict:
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k in names}


def save_trainable_state(model, path: Path) -> None:
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file(trainable_state(model), tmp)


def load_trainable_state(model, path: Path) -> None:
    from safetensors.torch import load_file

    if not path.is_file():
        raise InputError(f"{path}: trained weights missing; delete {path.parent} and rerun")
    try:
        state = load_file(path)
    except Exception as e:  # safetensors raises its own error types for truncated files
        raise InputError(f"{path}: corrupt weights file ({e}); delete {path.parent} and rerun") from None
    missing = set(trainable_state(model)) - set(state)
    if missing:
        raise InputError(
            f"{path}: lacks {len(missing)} trained tensors (e.g. {sorted(missing)[0]}); delete {path.parent} and rerun"
        )
    model.load_state_dict(state, strict=False)


def checkpoint_dirs(checkpoints_dir: Path) -> list[Path]:
    """checkpoint-<step> directories, newest first."""
    if not checkpoints_dir.is_dir():
        return []
    found = [
        d
        for d in checkpoints_dir.iterdir()
        if d.is_dir() and d.name.startswith("checkpoint-") and d.name[11:].isdigit()
    ]
    return sorted(found, key=lambda d: int(d.name[11:]), reverse=True)


def mark_checkpoint_complete(ckpt: Path, step: int) -> None:
    files = {f.name: f.stat().st_size for f in sorted(ckpt.iterdir()) if f.is_file() and f.name != COMPLETE}
    write_json(ckpt / COMPLETE, {"step": step, "files": files})


def checkpoint_problem(ckpt: Path) -> str | None:
    """Why `ckpt` cannot be resumed from (None: it is whole)."""
    marker = ckpt / COMPLETE
    if not marker.is_file():
        return f"no {COMPLETE}: the job was killed while writing it"
    try:
        meta = json.loads(marker.read_text())
        files = dict(meta["files"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return f"{COMPLETE} is corrupt"
    for name in (TRAINABLE, "trainer_state.json"):
        if name not in files:
            return f"{COMPLETE} lists no {name}"
    for name, size in files.items():
        f = ckpt / name
        if not f.is_file():
            return f"{name} is missing"
        if f.stat().st_size != size:
            return f"{name} has {f.stat().st_size} bytes, {size} when it was written"
    return None


def last_checkpoint(checkpoints_dir: Path) -> str | None:
    """The newest whole checkpoint; torn ones (killed mid-write) are removed, never resumed from."""
    for ckpt in checkpoint_dirs(checkpoints_dir):
        problem = checkpoint_problem(ckpt)
        if problem is None:
            return str(ckpt)
        log.warning("%s: torn checkpoint (%s); removing it", ckpt, problem)
        shutil.rmtree(ckpt, ignore_errors=True)
    return None
