"""The sources of the "relational" tasks (correspondence, art style, reflectance, similarity: how
images or points relate). Tiny fixtures in each source's own on-disk layout (HPatches, ArtBench-10, SPair-71k,
FunKPoint (our import layout), MID + MIDIntrinsics albedo, NIGHTS), the archives their hosts
publish (HPatches' hub zip, NIGHTS' nights.zip and per-folder chunk zips), and a BLINK-style test
split."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from livr.data.schema import Record


def noise_image(seed: int, w: int = 96, h: int = 72) -> Image.Image:
    """A distinct textured image per seed (blocky noise, so pHash/SSIM tell them apart)."""
    r = np.random.default_rng(seed)
    small = r.integers(0, 256, size=(h // 8, w // 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.NEAREST)
    arr = np.asarray(img).astype(np.int16) + r.integers(-20, 20, size=(h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def homography_text(H: np.ndarray) -> str:
    return "\n".join(" ".join(f"{v:.8g}" for v in row) for row in H) + "\n"


def make_hpatches(root: Path, n_v: int = 4, n_i: int = 4, w: int = 96, h: int = 72) -> Path:
    """hpatches-sequences-release/<v_|i_name>/{1..6}.ppm + H_1_2..H_1_6 (plain-text 3x3)."""
    base = root / "hpatches-sequences-release"
    r = np.random.default_rng(0)
    seed = 1000
    for kind, n in (("v", n_v), ("i", n_i)):
        for s in range(n):
            d = base / f"{kind}_seq{s}"
            d.mkdir(parents=True)
            for k in range(1, 7):
                seed += 1
                noise_image(seed, w, h).save(d / f"{k}.ppm")
            for k in range(2, 7):
                if kind == "i":
                    H = np.eye(3)
                else:
                    H = np.array(
                        [
                            [1 + r.uniform(-0.08, 0.08), r.uniform(-0.05, 0.05), r.uniform(-4, 4)],
                            [r.uniform(-0.05, 0.05), 1 + r.uniform(-0.08, 0.08), r.uniform(-4, 4)],
                            [r.uniform(-2e-4, 2e-4), r.uniform(-2e-4, 2e-4), 1.0],
                        ]
                    )
                (d / f"H_1_{k}").write_text(homography_text(H))
    return base


STYLES = (
    "art_nouveau",
    "baroque",
    "expressionism",
    "impressionism",
    "post_impressionism",
    "realism",
    "renaissance",
    "romanticism",
    "surrealism",
    "ukiyo_e",
)


def make_artbench(root: Path, per_style: int = 8, size: int = 48) -> Path:
    base = root / "artbench-10-imagefolder-split"
    seed = 5000
    for split in ("train", "test"):
        for style in STYLES:
            d = base / split / style
            d.mkdir(parents=True)
            for i in range(per_style if split == "train" else 2):
                seed += 1
                noise_image(seed, size, size).save(d / f"artist-{style}_{i}.jpg", quality=95)
    return base


def make_spair(root: Path) -> Path:
    base = root / "SPair-71k"
    r = np.random.default_rng(3)
    seed = 7000
    names = {}
    for cat in ("cat", "chair"):
        (base / "JPEGImages" / cat).mkdir(parents=True)
        (base / "ImageAnnotation" / cat).mkdir(parents=True)
        names[cat] = []
        for _ in range(10):
            seed += 1
            name = f"2008_00{seed}.jpg"
            noise_image(seed, 80, 64).save(base / "JPEGImages" / cat / name, quality=95)
            (base / "ImageAnnotation" / cat / name.replace(".jpg", ".json")).write_text(
                json.dumps({"filename": name, "category": cat, "image_width": 80, "image_height": 64})
            )
            names[cat].append(name)
    for split in ("trn", "val", "test"):
        (base / "PairAnnotation" / split).mkdir(parents=True)
    pid = 0
    for cat, imgs in names.items():
        for a in range(len(imgs)):
            for b in range(len(imgs)):
                if a == b:
                    continue
                pid += 1
                n_kp = 3 if pid % 7 == 0 else 5
                ann = {
                    "pair_id": pid,
                    "src_imname": imgs[a],
                    "trg_imname": imgs[b],
                    "category": cat,
                    "src_imsize": [80, 64, 3],
                    "trg_imsize": [80, 64, 3],
                    "src_bndbox": [2, 2, 78, 62],
                    "trg_bndbox": [2, 2, 78, 62],
                    "src_kps": [[float(r.integers(4, 76)), float(r.integers(4, 60))] for _ in range(n_kp)],
                    "trg_kps": [[float(r.integers(4, 76)), float(r.integers(4, 60))] for _ in range(n_kp)],
                    "kps_ids": [str(i) for i in range(n_kp)],
                    "viewpoint_variation": 1,
                    "scale_variation": 0,
                    "truncation": 0,
                    "occlusion": 0,
                }
                fname = f"{pid:06d}-{imgs[a][:-4]}-{imgs[b][:-4]}:{cat}.json"
                (base / "PairAnnotation" / "trn" / fname).write_text(json.dumps(ann))
    return base


def make_funkpoint(root: Path, per_action: int = 20) -> Path:
    base = root / "FunKPoint"
    r = np.random.default_rng(4)
    seed = 9000
    for action, cats in (("Mash_Pound", ["hammer", "pot", "rock"]), ("Pour", ["kettle", "bottle", "cup"])):
        d = base / "images" / action
        d.mkdir(parents=True)
        rows = []
        for i in range(per_action):
            seed += 1
            name = f"{cats[i % 3]}_{i:03d}.jpg"
            noise_image(seed, 80, 64).save(d / name, quality=95)
            kps = [[float(r.integers(4, 76)), float(r.integers(4, 60))] for _ in range(5)]
            if i % 4 == 1:
                kps[4] = None
            rows.append({"image": name, "category": cats[i % 3], "keypoints": kps})
        (base / "annotations").mkdir(exist_ok=True)
        (base / "annotations" / f"{action}.json").write_text(json.dumps(rows))
    return base


def make_mid(raw_dir: Path, n_scenes: int = 4, w: int = 90, h: int = 60, dirs=(0, 1)) -> Path:
    """scenes/<scene>/<scene>/dir_<d>_mip2.jpg (as the per-scene zips unpack) and
    albedo/<scene>/albedo.npy (linear float; one scene as 8-bit albedo.png)."""
    r = np.random.default_rng(5)
    names = [f"main_experiment{i}" for i in range(n_scenes)] + ["everett_kitchen1"]
    scenes = []
    for k, name in enumerate(names):
        d = raw_dir / "scenes" / name / name
        d.mkdir(parents=True)
        for di in dirs:
            noise_image(11000 + 10 * k + di, w, h).save(d / f"dir_{di}_mip2.jpg", quality=95)
        # albedo: 6x4 patches of distinct grey-ish levels, some nearly equal
        levels = r.choice([0.1, 0.2, 0.21, 0.4, 0.42, 0.7, 0.72], size=(4, 6))
        alb = np.kron(levels, np.ones((h // 4, w // 6)))[..., None] * np.array([1.0, 0.95, 0.9])
        a = raw_dir / "albedo" / name
        a.mkdir(parents=True)
        if k == 1:
            Image.fromarray((alb / alb.max() * 255).round().astype(np.uint8)).save(a / "albedo.png")
        else:
            np.save(a / "albedo.npy", alb.astype(np.float32))
        scenes.append({"name": name, "room": "r", "building": "b", "room_type": "kitchen"})
    (raw_dir / "scenes.json").write_text(json.dumps(scenes))
    return raw_dir


def make_nights(
    root: Path, n: dict | None = None, planted_ref: Image.Image | None = None, per_folder: int = 1000
) -> Path:
    """nights/{ref,distort}/<ddd>/<nnn>[_0|_1].png + data.csv (DreamSim's columns); triplet i
    sits in folder i // per_folder."""
    n = n or {"train": 14, "val": 6, "test": 2}
    base = root / "nights"
    rows, i = [], 0
    r = np.random.default_rng(6)
    for split, count in n.items():
        for _ in range(count):
            folder, num = f"{i // per_folder:03d}", f"{i % per_folder:03d}"
            for sub in ("ref", "distort"):
                (base / sub / folder).mkdir(parents=True, exist_ok=True)
            ref = planted_ref if (planted_ref is not None and i == 0) else noise_image(20000 + 3 * i, 64, 64)
            ref.save(base / "ref" / folder / f"{num}.png")
            noise_image(20001 + 3 * i, 64, 64).save(base / "distort" / folder / f"{num}_0.png")
            noise_image(20002 + 3 * i, 64, 64).save(base / "distort" / folder / f"{num}_1.png")
            votes = 4 if i % 9 == 8 else 6  # every 9th has too few agreeing votes
            lv = [1.0, 0.0, 0.8333, 0.1667][i % 4]
            if i % 11 == 5:
                lv = 0.5  # a tie
            rows.append(
                {
                    "id": i,
                    "right_vote": round(1 - lv, 4),
                    "left_vote": lv,
                    "votes": votes,
                    "ref_path": f"ref/{folder}/{num}.png",
                    "left_path": f"distort/{folder}/{num}_0.png",
                    "right_path": f"distort/{folder}/{num}_1.png",
                    "split": split,
                    "is_imagenet": bool(r.integers(0, 2)),
                    "prompt": "An image of a cat",
                }
            )
            i += 1
    with open(base / "data.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    return base


def zip_bytes(directory: Path, arc_root: str) -> bytes:
    """Every file under `directory` zipped as <arc_root>/<relative path> ("" = no root folder)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(directory.rglob("*")):
            if p.is_file():
                rel = p.relative_to(directory).as_posix()
                zf.write(p, f"{arc_root}/{rel}" if arc_root else rel)
    return buf.getvalue()


def nights_served(base: Path) -> dict[str, bytes]:
    """What data.csail.mit.edu serves for a NIGHTS tree at `base`: /nights/nights.zip (nights/...)
    and /nights/nights_chunked/{ref,distort}/<ddd>.zip, each holding <ddd>/... (DreamSim's
    download_chunked_dataset.sh unzips them into ref/ and distort/)."""
    out = {"/nights/nights.zip": zip_bytes(base, "nights")}
    for part in ("ref", "distort"):
        for d in sorted((base / part).iterdir()):
            out[f"/nights/nights_chunked/{part}/{d.name}.zip"] = zip_bytes(d, d.name)
    return out


def blink_fixture(task: str, n: int = 3, n_images: int = 2, choices=("(A)", "(B)"), images=None):
    """(records, {rel path: PIL image}) as livr.data.sources.blink.test_records returns them."""
    recs, imgs = [], {}
    for k in range(n):
        rels = []
        for m in range(n_images):
            rel = f"images/test/{task}-{k}-{m}.png"
            imgs[rel] = (
                images[k * n_images + m]
                if images and k * n_images + m < len(images)
                else noise_image(30000 + 10 * k + m)
            )
            rels.append(rel)
        recs.append(
            Record(
                id=f"blink-{task}-{k}",
                task=task,
                split="test",
                images=rels,
                question="BLINK question",
                choices=list(choices),
                answer="A",
                source="blink",
            )
        )
    return recs, imgs
