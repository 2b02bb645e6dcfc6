"""Fixtures in the sources' own formats of PixMo-Count, COCO 2017 and BLINK: the sources of the "photo"
tasks (counting, jigsaw, localization: one photo's objects and regions) and of every BLINK test split."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def natural(seed: int, size=(320, 240)) -> Image.Image:
    """Photo-like random image: smooth colour field + shapes + noise (distinct per seed)."""
    r = np.random.default_rng(seed)
    x = r.normal(size=(6, 8, 3))
    im = Image.fromarray(((x - x.min()) / np.ptp(x) * 255).astype(np.uint8)).resize(size, Image.BICUBIC)
    d = ImageDraw.Draw(im)
    for _ in range(5):
        x0, y0 = int(r.integers(0, size[0] - 30)), int(r.integers(0, size[1] - 30))
        d.ellipse(
            [x0, y0, x0 + int(r.integers(20, 120)), y0 + int(r.integers(20, 100))],
            fill=tuple(int(v) for v in r.integers(0, 255, 3)),
        )
    a = np.asarray(im).astype(float) + r.normal(0, 6, size=(size[1], size[0], 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def jpeg_bytes(im: Image.Image, quality: int = 90) -> bytes:
    b = io.BytesIO()
    im.convert("RGB").save(b, "JPEG", quality=quality)
    return b.getvalue()


def png_bytes(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


# ----------------------------------------------------------------------------------------- BLINK
BLINK_PROMPTS = {
    "Jigsaw": "Given the first image with the lower right corner missing, can you tell which one of the "
    "second image or the third image is the missing part? Imagine which image would be more "
    "appropriate to place in the missing spot. You can also carefully observe and compare the "
    "edges of the images.\nSelect from the following choices.\n\n(A) the second image\n(B) the third image",
    "Object_Localization": "A bounding box is an annotated rectangle surrounding an object. ... "
    "Select from the following options.\n(A) Box A\n(B) Box B",
    "Counting": "How many blue floats are there?\nSelect from the following choices.\n(A) 0\n(B) 3\n(C) 2\n(D) 1",
}


def write_blink_hub(
    hub_dir: Path, test_images: dict[str, list[list[Image.Image]]], n_choices=None, questions=None
) -> Path:
    """A BLINK-style hub snapshot: <Config>/val-00000-of-00001.parquet written with `datasets` and
    the hub's features (idx, question, sub_task, image_1..4 as Image, choices, answer, prompt,
    explanation). test_images: config -> list of rows, each a list of 1..4 images; questions:
    config -> the rows' questions (default "question <i>")."""
    import datasets

    feats = datasets.Features(
        {
            "idx": datasets.Value("string"),
            "question": datasets.Value("string"),
            "sub_task": datasets.Value("string"),
            **{f"image_{k}": datasets.Image() for k in range(1, 5)},
            "choices": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.Value("string"),
            "prompt": datasets.Value("string"),
            "explanation": datasets.Value("string"),
        }
    )
    for config, rows in test_images.items():
        nc = (n_choices or {}).get(config, 2)
        cols = {k: [] for k in feats}
        for i, imgs in enumerate(rows):
            cols["idx"].append(f"val_{config}_{i + 1}")
            cols["question"].append((questions or {}).get(config, [f"question {j}" for j in range(len(rows))])[i])
            cols["sub_task"].append(config.replace("_", " "))
            for k in range(1, 5):
                im = imgs[k - 1] if k - 1 < len(imgs) else None
                cols[f"image_{k}"].append(None if im is None else {"bytes": jpeg_bytes(im), "path": None})
            cols["choices"].append([f"choice {j}" for j in range(nc)])
            cols["answer"].append(f"({'ABCDE'[i % nc]})")
            cols["prompt"].append(BLINK_PROMPTS.get(config, f"{config} prompt"))
            cols["explanation"].append("")
        ds = datasets.Dataset.from_dict(cols, features=feats)
        out = hub_dir / config / "val-00000-of-00001.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.to_parquet(str(out))
    return hub_dir


def fake_hub_snapshot(hub_dir: Path):
    """A stand-in for a source's `hub_snapshot`: copies matching files of a local 'repo'."""

    def fetch(repo_id, patterns, local_dir, revision=None):
        local_dir = Path(local_dir)
        for p in hub_dir.rglob("*"):
            rel = str(p.relative_to(hub_dir))
            if p.is_file() and any(fnmatch.fnmatch(rel, pat) for pat in patterns):
                (local_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, local_dir / rel)

    return fetch


# ------------------------------------------------------------------------------------ PixMo-Count
def write_pixmo_hub(
    hub_dir: Path,
    served: dict[str, bytes],
    base_url: str,
    rows_per_split: dict,
    seed=0,
    n_dead=0,
    n_corrupt=0,
    n_mismatch=0,
    image_for=None,
    path_for=None,
) -> dict:
    """PixMo-Count-style parquet files data/{split}-00000-of-00001.parquet (image_url,
    image_sha256, count, points, label) whose URLs point at `base_url`; image bytes are put in
    `served` (path -> bytes). The first train rows are dead (404), corrupt (bytes that are not an
    image, with a matching sha256) or mismatching (sha256 of other bytes). `path_for(split, i)`
    gives a row's URL path (default /img/<split>/<i>.jpg); rows given the same path share one
    image, as repeated URLs do on the hub (the card: "image urls can be repeated"). Returns
    {split: [row dicts]} including an `_image` (PIL) for the live ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    out = {}
    k = 0
    shared: dict[str, tuple] = {}
    for split, counts in rows_per_split.items():
        rows = []
        for i, c in enumerate(counts):
            k += 1
            path = path_for(split, i) if path_for else f"/img/{split}/{i}.jpg"
            if path in shared:
                im, data = shared[path]
            else:
                im = image_for(split, i) if image_for else natural(1000 + k)
                data = jpeg_bytes(im)
                shared[path] = (im, data)
            sha = hashlib.sha256(data).hexdigest()
            status = "ok"
            if split == "train" and i < n_dead:
                status = "dead"
            elif split == "train" and i < n_dead + n_corrupt:
                data = b"<html>not an image</html>" + bytes(rng.integers(0, 255, 50, dtype=np.uint8))
                sha = hashlib.sha256(data).hexdigest()
                status = "corrupt"
            elif split == "train" and i < n_dead + n_corrupt + n_mismatch:
                sha = hashlib.sha256(b"other").hexdigest()
                status = "mismatch"
            if status != "dead":
                served[path] = data
            pts = [{"x": float(rng.uniform(0, 100)), "y": float(rng.uniform(0, 100))} for _ in range(c)]
            rows.append(
                {
                    "image_url": base_url + path,
                    "image_sha256": sha,
                    "count": int(c),
                    "points": pts,
                    "label": "balls",
                    "_status": status,
                    "_image": im,
                }
            )
        out[split] = rows
        table = pa.table(
            {
                "image_url": [r["image_url"] for r in rows],
                "image_sha256": [r["image_sha256"] for r in rows],
                "count": pa.array([r["count"] for r in rows], pa.int32()),
                "points": pa.array(
                    [r["points"] for r in rows], pa.list_(pa.struct([("x", pa.float32()), ("y", pa.float32())]))
                ),
                "label": [r["label"] for r in rows],
            }
        )
        p = hub_dir / "data" / f"{split}-00000-of-00001.parquet"
        p.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, p)
    return out


# ------------------------------------------------------------------------------------------- COCO
def square_polygon(x, y, w, h, fill=1.0):
    """A polygon inside box (x, y, w, h) covering about `fill` of it (a centred, shrunk rect)."""
    s = fill**0.5
    cx, cy = x + w / 2, y + h / 2
    hw, hh = w * s / 2, h * s / 2
    return [[cx - hw, cy - hh, cx + hw, cy - hh, cx + hw, cy + hh, cx - hw, cy + hh]]


def write_coco(
    raw_dir: Path, split: str, images: list[Image.Image], anns_per_image, start_id=1, categories=None
) -> dict:
    """COCO 2017 layout already extracted: <raw>/<split>/<id:012d>.jpg and
    <raw>/annotations/instances_<split>.json (images, annotations with bbox/area/iscrowd/
    segmentation, categories). anns_per_image(i, w, h) -> list of (bbox, fill, iscrowd, cat_id)."""
    categories = categories or [
        {"id": 1, "name": "dog", "supercategory": "animal"},
        {"id": 2, "name": "cup", "supercategory": "kitchen"},
    ]
    (raw_dir / split).mkdir(parents=True, exist_ok=True)
    (raw_dir / "annotations").mkdir(parents=True, exist_ok=True)
    js = {"info": {"year": 2017}, "licenses": [], "images": [], "annotations": [], "categories": categories}
    aid = start_id * 1000
    for i, im in enumerate(images):
        iid = start_id + i
        fn = f"{iid:012d}.jpg"
        im.save(raw_dir / split / fn, quality=92)
        js["images"].append(
            {
                "id": iid,
                "file_name": fn,
                "width": im.width,
                "height": im.height,
                "license": 1,
                "coco_url": f"http://images.cocodataset.org/{split}/{fn}",
            }
        )
        for bbox, fill, crowd, cat in anns_per_image(i, im.width, im.height):
            aid += 1
            seg = square_polygon(*bbox, fill=fill)
            if crowd:
                seg = {"counts": [0, int(bbox[2] * bbox[3])], "size": [im.height, im.width]}
            js["annotations"].append(
                {
                    "id": aid,
                    "image_id": iid,
                    "category_id": cat,
                    "bbox": list(bbox),
                    "area": float(bbox[2] * bbox[3] * fill),
                    "iscrowd": int(crowd),
                    "segmentation": seg,
                }
            )
    with open(raw_dir / "annotations" / f"instances_{split}.json", "w") as f:
        json.dump(js, f)
    return js


def zip_dir(src: Path, top: str, dest: Path) -> Path:
    """Zip src/<...> under the archive folder `top/` (COCO zips hold one top-level folder)."""
    with zipfile.ZipFile(dest, "w") as z:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                z.write(p, f"{top}/{p.relative_to(src)}")
    return dest
