"""Pieces the comparison builders share: per-record image paths, seeded train/val carving, and
writing a task directory (train/val for a training set, test only for a benchmark).

Every record these builders write carries meta["target"]: the exact text a trained model should
produce (the option letter, the option's text for the option-text benchmarks, free text), so
training cells can be fitted to the scorer of the benchmark they are evaluated with.
"""

from __future__ import annotations

import random
from pathlib import Path

from livr.data.schema import LETTERS, Record, write_task_dir
from livr.data.tasks.common import image_writer
from livr.errors import InputError


def safe_id(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text))


class Collector:
    """Records plus the image files they name, written with `write` in one atomic step."""

    def __init__(self):
        self.splits: dict[str, list[Record]] = {}
        self.images: dict[str, object] = {}

    def add(self, rec: Record, sources: list, helper=None) -> None:
        """`sources`: image Paths (copied) or PIL images (saved as PNG), in question order;
        `helper`: one more such image, kept outside `images` as the record's helper_image."""
        rec.images = [self._place(rec, str(k), src) for k, src in enumerate(sources)]
        if helper is not None:
            rec.helper_image = self._place(rec, "helper", helper)
        self.splits.setdefault(rec.split, []).append(rec)

    def _place(self, rec: Record, tag: str, src) -> str:
        suffix = Path(src).suffix.lower() if isinstance(src, Path) else ".png"
        rel = f"images/{rec.split}/{safe_id(rec.id)}_{tag}{suffix or '.png'}"
        self.images[rel] = src
        return rel

    def write(self, out_dir, manifest: dict) -> Path:
        for split, recs in self.splits.items():
            ids = [r.id for r in recs]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise InputError(f"{manifest.get('builder')}: duplicate record id(s) {dup[:5]} in {split}")
        write_task_dir(out_dir, self.splits, manifest, image_writer(self.images))
        return Path(out_dir)


def carve(rows: list, n_val: int, n_train: int | None, seed: int, what: str) -> tuple[list, list]:
    """Seeded split of `rows` into (train, val): n_val rows for val, then n_train (None = all the
    rest) for train, each kept in source order."""
    if n_val < 0 or (n_train is not None and n_train < 1):
        raise InputError(f"{what}: n_val must be >= 0 and n_train >= 1 (got {n_val}, {n_train})")
    need = n_val + (n_train or 1)
    if len(rows) < need:
        raise InputError(f"{what}: {len(rows)} rows, fewer than n_val + n_train = {need}")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    val = sorted(order[:n_val])
    rest = order[n_val:] if n_train is None else order[n_val : n_val + n_train]
    return [rows[i] for i in sorted(rest)], [rows[i] for i in val]


def subsample(rows: list, n: int | None, seed: int) -> list:
    if n is None or n >= len(rows):
        return rows
    keep = sorted(random.Random(seed).sample(range(len(rows)), n))
    return [rows[i] for i in keep]


def merge(defaults: dict, cfg: dict | None, name: str) -> dict:
    """defaults updated with params.yaml paper_data.<name>; an unknown key is an error."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise InputError(f"paper_data.{name}: unknown key(s) {unknown}; valid keys: {', '.join(sorted(defaults))}")
    return {**defaults, **cfg}


def letter_of(choices: list[str], text: str, where: str) -> str:
    if len(choices) > len(LETTERS):
        raise InputError(f"{where}: {len(choices)} choices; the record format allows at most {len(LETTERS)}")
    if text not in choices:
        raise InputError(f"{where}: answer {text!r} is not one of {choices}")
    return LETTERS[choices.index(text)]
