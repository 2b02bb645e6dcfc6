"""Visual correspondence from HPatches (paper Appendix A).

Sequences (viewpoint v_* and illumination i_*) are split 80/10/10 by sequence, stratified by kind.
An example takes a pair (i, j) of images of one sequence with j - i >= 2, a reference point in
image i (marked REF), its true match in image j from the sequence homography
H_i_j = H_1_j @ inv(H_1_i), and 3 distractor points in image j far from the true point and from
each other; the four are marked A-D in random (seeded, letter-balanced) order. 4-way.
Test = held-out sequences; train/val sequences are also de-duplicated against the test images.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import hpatches
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    balanced_letters,
    dist,
    mark_points,
    merge_cfg,
    resize_max_side,
    sample_far_points,
    write_built_task,
)
from livr.errors import InputError

TASK = "visual_correspondence"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": 500,
    "n_test": 700,
    "split_fractions": [0.8, 0.1, 0.1],  # by sequence, stratified by kind (v_/i_)
    "sequence_kinds": ["v", "i"],  # viewpoint + illumination
    "min_index_gap": 2,  # pairs (i, j) with j - i >= 2
    "num_choices": 4,
    "max_side": 768,  # NOT SPECIFIED: images downscaled to this longer side
    "point_margin_frac": 0.05,  # NOT SPECIFIED: points kept this far inside the borders
    "distractor_min_dist_frac": 0.15,  # NOT SPECIFIED: "far away" = >= this x min(w, h) apart
    "max_tries": 200,
    **DEDUP_DEFAULTS,
}


def split_sequences(seqs: list, fractions, kinds, rng: random.Random) -> dict[str, list]:
    out = {"train": [], "val": [], "test": []}
    for kind in kinds:
        group = sorted((s for s in seqs if s.kind == kind), key=lambda s: s.name)
        rng.shuffle(group)
        n = len(group)
        n_test = max(1, round(fractions[2] * n)) if n >= 3 else 0
        n_val = max(1, round(fractions[1] * n)) if n >= 3 else 0
        out["test"] += group[:n_test]
        out["val"] += group[n_test : n_test + n_val]
        out["train"] += group[n_test + n_val :]
    return out


def index_pairs(min_gap: int) -> list[tuple[int, int]]:
    n = hpatches.N_IMAGES
    return [(i, j) for i in range(1, n + 1) for j in range(i + 1, n + 1) if j - i >= min_gap]


def _examples(split, seqs, n, cfg, rng, staging, deduper):
    records, failures = [], 0
    pairs = [(s, i, j) for s in seqs for (i, j) in index_pairs(cfg["min_index_gap"])]
    if not pairs:
        raise InputError(f"{TASK}: no sequences for split {split!r}")
    rng.shuffle(pairs)
    # spread the n examples over the pairs, then render pair by pair (one image load per pair)
    per_pair = [n // len(pairs) + (1 if k < n % len(pairs) else 0) for k in range(len(pairs))]
    letters = balanced_letters(rng, n, cfg["num_choices"])
    k = 0
    for (seq, i, j), count in zip(pairs, per_pair):
        if count == 0:
            continue
        img_i, s_i = resize_max_side(seq.image(i), cfg["max_side"])
        img_j, s_j = resize_max_side(seq.image(j), cfg["max_side"])
        H = seq.homography(i, j)  # original pixel coordinates
        w_i, h_i = img_i.size
        w_j, h_j = img_j.size
        m_i = cfg["point_margin_frac"] * min(w_i, h_i)
        m_j = cfg["point_margin_frac"] * min(w_j, h_j)
        made = 0
        for _ in range(count * cfg["max_tries"]):
            if made == count:
                break
            ref = (round(rng.uniform(m_i, w_i - m_i), 2), round(rng.uniform(m_i, h_i - m_i), 2))
            xo, yo = hpatches.warp_point(H, ref[0] / s_i, ref[1] / s_i)
            true = (round(xo * s_j, 2), round(yo * s_j, 2))
            if not (m_j <= true[0] <= w_j - m_j and m_j <= true[1] <= h_j - m_j):
                continue
            d_min = cfg["distractor_min_dist_frac"] * min(w_j, h_j)
            distractors = sample_far_points(rng, (w_j, h_j), [true], cfg["num_choices"] - 1, d_min, m_j)
            if distractors is None:
                continue
            pos = letters[k]
            options = list(distractors)
            options.insert(pos, true)
            rid = f"{TASK}-{split}-{k:05d}"
            a = staging.add(f"images/{split}/{rid}_1.jpg", mark_points(img_i, [ref], ["REF"]))
            b = staging.add(f"images/{split}/{rid}_2.jpg", mark_points(img_j, options, list(LETTERS[: len(options)])))
            choices = list(TASK_SPECS[TASK].choices[: cfg["num_choices"]])
            records.append(
                Record(
                    id=rid,
                    task=TASK,
                    split=split,
                    images=[a, b],
                    question=format_question(TASK, choices),
                    choices=choices,
                    answer=LETTERS[pos],
                    source="hpatches",
                    meta={
                        "sequence": seq.name,
                        "kind": seq.kind,
                        "pair": [i, j],
                        "scale_i": s_i,
                        "scale_j": s_j,
                        "homography_i_to_j": np.round(H, 10).tolist(),
                        "ref_point": list(ref),
                        "true_point": list(true),
                        "options": [list(p) for p in options],
                        "min_distractor_dist": round(min(dist(true, d) for d in distractors), 2),
                    },
                )
            )
            made += 1
            k += 1
        failures += count - made
    return records, failures


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    raw = Path(raw_root) / "hpatches"
    seqs = [s for s in hpatches.list_sequences(raw) if s.complete and s.kind in cfg["sequence_kinds"]]
    splits_seq = split_sequences(seqs, cfg["split_fractions"], cfg["sequence_kinds"], rng)
    test_imgs = [s.image(k) for s in splits_seq["test"] for k in range(1, hpatches.N_IMAGES + 1)]
    deduper = TestDeduper(test_imgs, cfg)
    dropped_seqs = []
    for split in ("train", "val"):
        keep = []
        for s in splits_seq[split]:
            if all(
                deduper.ok(f"{s.name}/{k}.ppm", lambda s=s, k=k: s.image(k)) for k in range(1, hpatches.N_IMAGES + 1)
            ):
                keep.append(s)
            else:
                dropped_seqs.append({"sequence": s.name, "split": split, "reason": "near-duplicate of a test image"})
        splits_seq[split] = keep
    staging = Staging(out_dir)
    splits, shortfall = {}, {}
    for split in ("train", "val", "test"):
        n = cfg[f"n_{split}"]
        splits[split], shortfall[split] = _examples(split, splits_seq[split], n, cfg, rng, staging, deduper)
    manifest = {
        "builder": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "sequences": {k: [s.name for s in v] for k, v in splits_seq.items()},
        "dropped": {"dedup_images": deduper.dropped, "dedup_sequences": dropped_seqs, "shortfall_examples": shortfall},
    }
    write_built_task(out_dir, splits, staging, {}, manifest)
    return Path(out_dir)
