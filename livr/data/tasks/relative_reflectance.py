"""Relative reflectance from the Multi-Illumination Dataset (paper Appendix A).

Two points A and B are marked on a MID train photograph. Labels come from the scene's
MIDIntrinsics albedo in linear RGB: Y = Rec.709 luminance averaged over a disk around each point,
rel = |Y_A - Y_B| / max(Y_A, Y_B, 1e-8); rel <= 0.10 -> "(C) About the same", else the darker
point ("(A) A is darker" / "(B) B is darker"). Point pairs are drawn so that about
`same_fraction` (1/4) of the examples are "same" and the rest split evenly between A and B.
The photographs are MID's 25 illumination directions of each scene, one example per
(photograph, albedo) pair (paper v2, Appendix A): examples are spread round-robin over the scenes
and each takes a direction of its scene not used before, so a split holds at most
scenes x directions examples. Train/val scenes are disjoint. 3-way. Test = BLINK
Relative_Reflectance val; photos that near-duplicate a test image are skipped.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import Record
from livr.data.sources import mid
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    blink_test,
    dist,
    mark_points,
    merge_cfg,
    resize_max_side,
    write_built_task,
)
from livr.errors import InputError

TASK = "relative_reflectance"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": 250,
    "same_threshold": 0.10,  # rel <= this -> "About the same"
    "same_fraction": 0.25,  # share of "About the same" examples (paper: ~1/4)
    "eps": 1.0e-8,
    "val_scene_fraction": 0.2,  # NOT SPECIFIED: share of MID train scenes held out for our val
    "mip": 2,
    "photo_directions": list(range(mid.N_DIRECTIONS)),  # paper: all 25 illumination directions per scene
    "disk_radius_frac": 0.01,  # NOT SPECIFIED: disk radius as a fraction of min(albedo w, h)
    "point_margin_frac": 0.05,  # NOT SPECIFIED: points kept this far inside the borders
    "min_point_dist_frac": 0.1,  # NOT SPECIFIED: A and B at least this x min(w, h) apart
    "max_side": 768,
    "max_tries": 2000,
    **DEDUP_DEFAULTS,
}


def label_for(y_a: float, y_b: float, threshold: float, eps: float) -> tuple[str, float]:
    rel = abs(y_a - y_b) / max(y_a, y_b, eps)
    if rel <= threshold:
        return "C", rel
    return ("A" if y_a < y_b else "B"), rel


def _targets(rng: random.Random, n: int, same_fraction: float) -> list[str]:
    n_same = round(same_fraction * n)
    rest = n - n_same
    t = ["C"] * n_same + ["A"] * (rest - rest // 2) + ["B"] * (rest // 2)
    rng.shuffle(t)
    return t


def _split(split, scenes, directions, albedo_files, raw, cfg, rng, deduper, staging) -> tuple[list, int]:
    n = cfg[f"n_{split}"]
    targets = _targets(rng, n, cfg["same_fraction"])
    sc = list(scenes)
    rng.shuffle(sc)
    # round-robin over scenes; render scene by scene (one albedo load each)
    per_scene = {s: [] for s in sc}
    for i, t in enumerate(targets):
        per_scene[sc[i % len(sc)]].append(t)
    recs, missed = [], 0
    for scene in sc:
        todo = per_scene[scene]
        if not todo:
            continue
        albedo = mid.read_albedo(albedo_files[scene])
        Y = mid.luminance(albedo)
        h, w = Y.shape
        radius = max(1.0, cfg["disk_radius_frac"] * min(w, h))
        margin = max(radius, cfg["point_margin_frac"] * min(w, h))
        # one example per (photograph, albedo) pair: each target its own direction
        for target, direction in zip(todo, rng.sample(directions, len(todo))):
            ppath = mid.photo_path(raw, scene, direction, cfg["mip"])
            if not deduper.ok(f"{scene}/{ppath.name}", lambda p=ppath: Image.open(p).convert("RGB")):
                missed += 1
                continue
            found = None
            for _ in range(cfg["max_tries"]):
                pa = (rng.uniform(margin, w - margin), rng.uniform(margin, h - margin))
                pb = (rng.uniform(margin, w - margin), rng.uniform(margin, h - margin))
                if dist(pa, pb) < cfg["min_point_dist_frac"] * min(w, h):
                    continue
                ya, yb = mid.disk_mean(Y, *pa, radius), mid.disk_mean(Y, *pb, radius)
                lab, rel = label_for(ya, yb, cfg["same_threshold"], cfg["eps"])
                if lab == target:
                    found = (pa, pb, ya, yb, rel)
                    break
            if found is None:
                missed += 1
                continue
            pa, pb, ya, yb, rel = found
            photo = Image.open(ppath).convert("RGB")
            # albedo and photo share the mip grid; map albedo pixel coords onto the photo
            sx, sy = photo.width / w, photo.height / h
            photo, s = resize_max_side(photo, cfg["max_side"])
            pts = [(pa[0] * sx * s, pa[1] * sy * s), (pb[0] * sx * s, pb[1] * sy * s)]
            rid = f"{TASK}-{split}-{len(recs):05d}"
            rel_path = staging.add(f"images/{split}/{rid}.jpg", mark_points(photo, pts, ["A", "B"]))
            choices = list(TASK_SPECS[TASK].choices)
            recs.append(
                Record(
                    id=rid,
                    task=TASK,
                    split=split,
                    images=[rel_path],
                    question=format_question(TASK, choices),
                    choices=choices,
                    answer=target,
                    source="mid",
                    meta={
                        "scene": scene,
                        "photo": ppath.name,
                        "direction": direction,
                        "albedo_size": [w, h],
                        "disk_radius": round(radius, 3),
                        "point_a_albedo": [round(v, 3) for v in pa],
                        "point_b_albedo": [round(v, 3) for v in pb],
                        "point_a": [round(v, 2) for v in pts[0]],
                        "point_b": [round(v, 2) for v in pts[1]],
                        "Y_a": ya,
                        "Y_b": yb,
                        "rel": rel,
                        "threshold": cfg["same_threshold"],
                    },
                )
            )
    return recs, missed


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    raw = Path(raw_root) / "mid"
    scenes = mid.list_scenes(raw, cfg["mip"])
    if len(scenes) < 2:
        raise InputError(f"{raw}: need at least 2 MID train scenes with albedo, found {len(scenes)}")
    rng.shuffle(scenes)
    n_val_sc = max(1, round(cfg["val_scene_fraction"] * len(scenes)))
    scene_split = {"val": sorted(scenes[:n_val_sc]), "train": sorted(scenes[n_val_sc:])}
    directions = list(cfg["photo_directions"])
    for split in ("train", "val"):
        cap = len(scene_split[split]) * len(directions)
        if cfg[f"n_{split}"] > cap:
            raise InputError(
                f"params.yaml paper_data.{TASK}.n_{split}: {cfg[f'n_{split}']} examples asked, but its "
                f"{len(scene_split[split])} scenes x {len(directions)} photo_directions give {cap} "
                f"(photograph, albedo) pairs, one example each"
            )
    albedo_files = mid.albedo_index(raw)
    test_records, test_images = blink_test(raw_root, TASK)
    deduper = TestDeduper(test_images.values(), cfg)
    staging = Staging(out_dir)
    splits, shortfall = {}, {}
    try:
        for split in ("train", "val"):
            splits[split], shortfall[split] = _split(
                split, scene_split[split], directions, albedo_files, raw, cfg, rng, deduper, staging
            )
    except BaseException:
        staging.cleanup()
        raise
    splits["test"] = test_records
    manifest = {
        "builder": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "scenes": scene_split,
        "test_source": "BLINK Relative_Reflectance val",
        "dropped": {"dedup_images": deduper.dropped, "shortfall_examples": shortfall},
    }
    write_built_task(out_dir, splits, staging, test_images, manifest)
    return Path(out_dir)
