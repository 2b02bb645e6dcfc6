"""COCO 2017 (Lin et al., 2014): images and instance annotations from images.cocodataset.org.

Files (md5 sums as used by torchvision-style downloaders; COCO publishes no sha256):
  zips/train2017.zip                        18 GB   cced6f7f71b7629ddf16f17bbcfab6b2
  zips/val2017.zip                          0.8 GB  442b8da7639aecaf257c1dceb8ba8c80
  annotations/annotations_trainval2017.zip  241 MB  f4bbac642086de4f52a3fdda2de5fa2c

Each zip holds one top-level folder (train2017/, val2017/, annotations/); after extraction the
raw directory is:

  data/raw/coco2017/train2017/<id:012d>.jpg
  data/raw/coco2017/val2017/<id:012d>.jpg
  data/raw/coco2017/annotations/instances_{train,val}2017.json
  data/raw/coco2017/manifest.json

`load_instances` parses an instances JSON (images, annotations with bbox [x, y, w, h], area,
iscrowd, segmentation, categories); `mask_fill_ratio` rasterises an annotation's polygons with
PIL to measure how much of its box the mask fills.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from livr.data.download import download_file, require_manifest, safe_extract, sha256_file, write_manifest
from livr.errors import InputError

SOURCE = "coco2017"
BASE = "http://images.cocodataset.org"
DEFAULTS = {
    "files": {
        "train2017": {"url": f"{BASE}/zips/train2017.zip", "md5": "cced6f7f71b7629ddf16f17bbcfab6b2"},
        "val2017": {"url": f"{BASE}/zips/val2017.zip", "md5": "442b8da7639aecaf257c1dceb8ba8c80"},
        "annotations": {
            "url": f"{BASE}/annotations/annotations_trainval2017.zip",
            "md5": "f4bbac642086de4f52a3fdda2de5fa2c",
        },
    },
    # Which of `files` to fetch (train2017 is 18 GB; the builders use train2017 for train and
    # val2017 for val by default).
    "fetch": ["annotations", "val2017", "train2017"],
    "keep_archives": False,
    "retries": 5,
    "backoff": 1.0,
    "timeout": 60.0,
}
DISK_GB = 40  # the zips above (19 GB) plus their extracted copies; each zip is removed once extracted


def _fetch_one(name: str, spec: dict, raw_dir: Path, cfg: dict) -> dict:
    """Download one zip and move its top-level folder into raw_dir (skipped when present)."""
    archive = raw_dir / "zips" / Path(spec["url"]).name
    top = "annotations" if name == "annotations" else name
    target = raw_dir / top
    entry = {"name": name, "url": spec["url"], "md5": spec.get("md5"), "extracted_to": top}
    if target.is_dir() and not archive.exists():
        entry["note"] = "already extracted"
        return entry
    download_file(
        spec["url"],
        archive,
        sha256=spec.get("sha256"),
        md5=spec.get("md5"),
        retries=cfg["retries"],
        backoff=cfg["backoff"],
        timeout=cfg["timeout"],
    )
    entry["sha256"] = sha256_file(archive)
    if not target.is_dir():
        tmp = safe_extract(archive, raw_dir / f".{name}.extracted")
        inner = tmp / top
        if not inner.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
            raise InputError(f"{archive}: expected a top-level folder {top!r} in the archive")
        os.replace(inner, target)
        shutil.rmtree(tmp, ignore_errors=True)
    if not cfg["keep_archives"]:
        archive.unlink(missing_ok=True)
    return entry


def probe_urls(cfg: dict) -> list[str]:
    """The URLs a pending download starts with (what `livr doctor` probes)."""
    return [cfg["files"][name]["url"] for name in cfg["fetch"]]


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    unknown = [n for n in cfg["fetch"] if n not in cfg["files"]]
    if unknown:
        raise InputError(f"coco2017: unknown file(s) {unknown}; valid: {', '.join(cfg['files'])}")
    raw_dir.mkdir(parents=True, exist_ok=True)
    entries = [_fetch_one(n, cfg["files"][n], raw_dir, cfg) for n in cfg["fetch"]]
    counts = {}
    for split in ("train2017", "val2017"):
        d = raw_dir / split
        if d.is_dir():
            counts[split] = {"images": sum(1 for _ in d.glob("*.jpg"))}
    write_manifest(raw_dir, {"source": SOURCE, "files": entries, "counts": counts, "dropped": []})
    return raw_dir


@dataclasses.dataclass
class CocoInstances:
    split: str
    images: dict[int, dict]  # id -> {file_name, width, height, ...}
    annotations: list[dict]  # bbox [x, y, w, h], area, iscrowd, segmentation, category_id, image_id
    categories: dict[int, str]  # id -> name
    image_dir: Path

    def image_path(self, image_id: int) -> Path:
        return self.image_dir / self.images[image_id]["file_name"]

    def by_image(self) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {i: [] for i in self.images}
        for a in self.annotations:
            out.setdefault(a["image_id"], []).append(a)
        return out


def load_instances(raw_dir, split: str = "val2017") -> CocoInstances:
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    path = raw_dir / "annotations" / f"instances_{split}.json"
    if not path.is_file():
        raise InputError(f"{path}: missing (COCO splits: train2017, val2017)")
    with open(path) as f:
        js = json.load(f)
    for k in ("images", "annotations", "categories"):
        if k not in js:
            raise InputError(f"{path}: not a COCO instances file (no {k!r})")
    images = {im["id"]: im for im in js["images"]}
    cats = {c["id"]: c["name"] for c in js["categories"]}
    return CocoInstances(split, images, js["annotations"], cats, raw_dir / split)


def box_xyxy(bbox) -> tuple[float, float, float, float]:
    x, y, w, h = bbox
    return (float(x), float(y), float(x + w), float(y + h))


def rle_decode_uncompressed(seg: dict) -> np.ndarray:
    """COCO uncompressed RLE ({counts: [ints], size: [h, w]}, column-major) to a bool mask."""
    h, w = seg["size"]
    flat = np.zeros(h * w, dtype=bool)
    pos, val = 0, False
    for c in seg["counts"]:
        flat[pos : pos + c] = val
        pos += c
        val = not val
    return flat.reshape((w, h)).T


def mask_fill_ratio(ann: dict, width: int | None = None, height: int | None = None) -> float:
    """Fraction of the annotation's box covered by its segmentation mask.

    Polygons are rasterised with PIL inside the box (pixel-centre convention of ImageDraw);
    uncompressed RLE is decoded; compressed RLE (a string, only on crowd regions, which the
    builders exclude) falls back to the annotation's `area`."""
    x0, y0, x1, y1 = box_xyxy(ann["bbox"])
    bw, bh = max(1, int(np.ceil(x1) - np.floor(x0))), max(1, int(np.ceil(y1) - np.floor(y0)))
    box_area = max(1e-9, (x1 - x0) * (y1 - y0))
    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg:
        ox, oy = np.floor(x0), np.floor(y0)
        canvas = Image.new("1", (bw, bh), 0)
        draw = ImageDraw.Draw(canvas)
        for poly in seg:
            if len(poly) >= 6:
                pts = [(poly[i] - ox, poly[i + 1] - oy) for i in range(0, len(poly) - 1, 2)]
                draw.polygon(pts, fill=1, outline=1)
        return min(1.0, float(np.asarray(canvas, dtype=bool).sum()) / box_area)
    if isinstance(seg, dict) and isinstance(seg.get("counts"), list):
        m = rle_decode_uncompressed(seg)
        xs, ys = slice(int(np.floor(x0)), int(np.ceil(x1))), slice(int(np.floor(y0)), int(np.ceil(y1)))
        return min(1.0, float(m[ys, xs].sum()) / box_area)
    return float(ann.get("area", 0.0)) / box_area
