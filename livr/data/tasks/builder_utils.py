"""Helpers the counting / jigsaw / localization builders share: config merging with unknown-key
errors, seeded balanced answer letters, test de-duplication bookkeeping, the manifest."""

from __future__ import annotations

import random
from typing import Callable, Iterable

from PIL import Image

from livr.data.dedup import NearDuplicateIndex, dedup_settings
from livr.errors import InputError

# De-dup keys every builder's cfg carries (params.yaml paper_data.<task>); the paper names the
# three signals (CLIP embedding + perceptual hash + SSIM) but no thresholds.
DEDUP_DEFAULTS = {
    "phash_max_distance": 8,  # 64-bit pHash Hamming distance <= this -> near-duplicate
    "ssim_threshold": 0.9,  # SSIM of 64x64 grayscale thumbnails >= this -> near-duplicate
    "clip_model": None,  # e.g. openai/clip-vit-base-patch32; None = pHash + SSIM only (offline)
    "clip_threshold": 0.95,  # CLIP image-embedding cosine >= this -> near-duplicate
}


def merge_cfg(defaults: dict, cfg: dict | None, task: str) -> dict:
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise InputError(f"paper_data.{task}: unknown parameter(s) {unknown}; valid keys: {sorted(defaults)}")
    return {**defaults, **cfg}


def balanced_positions(rng: random.Random, n: int, k: int) -> list[int]:
    """n answer positions in 0..k-1, as equal as possible, shuffled with the seed."""
    pos = [i % k for i in range(n)]
    rng.shuffle(pos)
    return pos


class Deduper:
    """Near-duplicate check of train/val images against the test images; remembers drops."""

    def __init__(self, test_images: Iterable[Image.Image], cfg: dict):
        imgs = list(test_images)
        self.index = NearDuplicateIndex(imgs, **dedup_settings(cfg)) if imgs else None
        self.dropped: list[dict] = []

    def ok(self, key: str, images: Iterable[Image.Image | Callable[[], Image.Image]]) -> bool:
        if self.index is None:
            return True
        for img in images:
            hit = self.index.match(img() if callable(img) else img)
            if hit is not None:
                self.dropped.append(
                    {
                        "source_image": key,
                        "reason": "near-duplicate of a test image",
                        "signal": hit["reason"],
                        "test_index": hit["test_index"],
                        "value": hit["value"],
                    }
                )
                return False
        return True


def letter_balance(records) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.answer] = out.get(r.answer, 0) + 1
    return dict(sorted(out.items()))


class Staging:
    """Rendered images saved to a temporary sibling of the output directory as they are made
    (not held in memory); `files` maps relative paths to them for `image_writer`."""

    def __init__(self, out_dir):
        import tempfile
        from pathlib import Path

        out_dir = Path(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".staging", dir=out_dir.parent))
        self.files: dict = {}

    def add(self, rel: str, img: Image.Image) -> str:
        dest = self.dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        img.save(dest)
        self.files[rel] = dest
        return rel

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)
