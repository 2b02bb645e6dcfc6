"""Relative reflectance from the Multi-Illumination Dataset (paper Appendix A).

Two points A and B are marked on a MID train photograph. Labels come from the scene's
MIDIntrinsics albedo in linear RGB: Y = Rec.709 luminance averaged over a disk around each point,
rel = |Y_A - Y_B| / max(Y_A, Y_B, 1e-8); rel <= 0.10 -> "(C) About the same", else the darker
point ("(A) A is darker" / "(B) B is darker"). Point pairs are drawn so that about
`same_fraction` (1/4) of the examples are "same" and the rest split evenly between A and B.
Train/val scenes are disjoint. 3-way. Test = BLINK Relative_Reflectance val; photos that
near-duplicate a test image are skipped.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import CHOICE_TEXTS, format_question
from livr.data.schema import Record
from livr.data.sources import mid
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS, Staging, TestDeduper, blink_test, dist, mark_points, merge_cfg, resize_max_side,
    write_built_task,
)

TASK = "relative_reflectance"
SOURCES = ("mid", "blink")
DEFAULTS = {
    "n_train": 1000,
    "n_val": 250,
    "same_threshold": 0.10,      # rel <= this -> "About the same"
    "same_fraction": 0.25,       # share of "About the same" examples (paper: ~1/4)
    "eps": 1.0e-8,
    "val_scene_fraction": 0.2,   # NOT SPECIFIED: share of MID train scenes held out for our val
    "mip": 2,
    "photo_directions": [d for d in range(mid.N_DIRECTIONS) if d not in mid.FRONTAL_DIRECTIONS],
    # NOT SPECIFIED: photo shown = one of these flash directions per example (seeded); the
    # frontal ones (flash visible in the frame) are left out.
    "disk_radius_frac": 0.01,    # NOT SPECIFIED: disk radius as a fraction of min(albedo w, h)
    "point_margin_frac": 0.05,   # NOT SPECIFIED: points kept this far inside the borders
    "min_point_dist_frac": 0.1,  # NOT SPECIFIED: A and B at least this x min(w, h) apart
    "max_side": 768,
    "max_tries": 2000,
    **DEDUP_DEFAULTS,
}
LABELS = ("A", "B", "C")  # A is darker, B is darker, About the same


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


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    raw = Path(raw_root) / "mid"
    scenes = mid.list_scenes(raw, cfg["mip"])
    if len(scenes) < 2:
        raise ValueError(f"{raw}: need at least 2 MID train scenes with albedo, found {len(scenes)}")
    rng.shuffle(scenes)
    n_val_sc = max(1, round(cfg["val_scene_fraction"] * len(scenes)))
    scene_split = {"val": sorted(scenes[:n_val_sc]), "train": sorted(scenes[n_val_sc:])}
    test_records, test_images = blink_test(raw_root, TASK)
    deduper = TestDeduper(test_images.values(), cfg)
    staging = Staging(out_dir)
    splits, shortfall = {}, {}
    for split in ("train", "val"):
        n = cfg[f"n_{split}"]
        targets = _targets(rng, n, cfg["same_fraction"])
        sc = list(scene_split[split])
        rng.shuffle(sc)
        # distribute the targets over scenes; render scene by scene (one albedo load each)
        per_scene = {s: [] for s in sc}
        for i, t in enumerate(targets):
            per_scene[sc[i % len(sc)]].append(t)
        recs, missed = [], 0
        for scene in sc:
            todo = per_scene[scene]
            if not todo:
                continue
            albedo = mid.read_albedo(mid.find_albedo(raw, scene))
            Y = mid.luminance(albedo)
            h, w = Y.shape
            radius = max(1.0, cfg["disk_radius_frac"] * min(w, h))
            margin = max(radius, cfg["point_margin_frac"] * min(w, h))
            for target in todo:
                direction = rng.choice(cfg["photo_directions"])
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
                k = len(recs)
                rid = f"{TASK}-{split}-{k:05d}"
                rel_path = staging.add(f"images/{split}/{rid}.jpg", mark_points(photo, pts, ["A", "B"]))
                choices = CHOICE_TEXTS[TASK]
                recs.append(Record(
                    id=rid, task=TASK, split=split, images=[rel_path], question=format_question(TASK, choices),
                    choices=choices, answer=target, source="mid",
                    meta={"scene": scene, "photo": ppath.name, "direction": direction,
                          "albedo_size": [w, h], "disk_radius": round(radius, 3),
                          "point_a_albedo": [round(v, 3) for v in pa], "point_b_albedo": [round(v, 3) for v in pb],
                          "point_a": [round(v, 2) for v in pts[0]], "point_b": [round(v, 2) for v in pts[1]],
                          "Y_a": ya, "Y_b": yb, "rel": rel, "threshold": cfg["same_threshold"]},
                ))
        splits[split], shortfall[split] = recs, missed
    splits["test"] = test_records
    manifest = {"builder": TASK, "seed": seed, "params": cfg, "sources": list(SOURCES),
                "scenes": scene_split, "test_source": "BLINK Relative_Reflectance val",
                "dropped": {"dedup_images": deduper.dropped, "shortfall_examples": shortfall}}
    write_built_task(out_dir, splits, staging, test_images, manifest)
    return Path(out_dir)
