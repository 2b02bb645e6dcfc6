"""Helpers shared by the point/choice builders of paper Appendix A (part 2 tasks).

- BLINK-style marks: a coloured circle around each point with its label ("A", "REF", ...) in a
  filled box beside it, sized relative to the image.
- Config merging that rejects unknown keys, letter shuffling, far-away point sampling.
- De-duplication of train/val candidates against the test images through `livr.data.dedup`.
"""

from __future__ import annotations

import math
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

from livr.errors import InputError

# BLINK's correspondence/reflectance prompts speak of "red-circled points": every mark is a red
# circle with its label in a red box beside it.
MARK_COLOR = (255, 0, 0)


def merge_cfg(defaults: dict, cfg: dict | None, where: str) -> dict:
    """DEFAULTS overlaid with `cfg`; an unknown key is an error naming the valid ones."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise InputError(f"{where}: unknown parameter(s) {unknown}; valid: {sorted(defaults)}")
    return {**defaults, **cfg}


def mark_points(
    img: Image.Image,
    points: Sequence[tuple[float, float]],
    labels: Sequence[str],
    radius_frac: float = 0.025,
    min_radius: int = 4,
    line_frac: float = 0.004,
    font_frac: float = 0.045,
) -> Image.Image:
    """Return a copy of `img` with a circle + label drawn at each (x, y) point (BLINK style)."""
    out = img.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    side = min(out.size)
    r = max(min_radius, round(radius_frac * side))
    lw = max(2, round(line_frac * side))
    font = ImageFont.load_default(size=max(10, round(font_frac * side)))
    for (x, y), label in zip(points, labels):
        color = MARK_COLOR
        draw.ellipse([x - r, y - r, x + r, y + r], outline=color, width=lw)
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=color)
        bbox = draw.textbbox((0, 0), label, font=font)
        tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
        tx = x + r + 2 if x + r + 2 + tw + 4 < out.width else x - r - 2 - tw - 4
        ty = min(max(0, y - r - th - 4), out.height - th - 4)
        draw.rectangle([tx, ty, tx + tw + 4, ty + th + 4], fill=color)
        draw.text((tx + 2 - bbox[0], ty + 2 - bbox[1]), label, fill=(255, 255, 255), font=font)
    return out


def resize_max_side(img: Image.Image, max_side: int | None) -> tuple[Image.Image, float]:
    """Downscale so the longer side is <= max_side; returns (image, scale factor applied)."""
    img = img.convert("RGB")
    if not max_side or max(img.size) <= max_side:
        return img, 1.0
    s = max_side / max(img.size)
    return img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BICUBIC), s


def dist(a: Sequence[float], b: Sequence[float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def sample_far_points(
    rng: random.Random,
    size: tuple[int, int],
    avoid: Sequence[Sequence[float]],
    n: int,
    min_dist: float,
    margin: float,
    tries: int = 2000,
) -> list[tuple[float, float]] | None:
    """`n` uniform points inside `size` (minus `margin`), each >= min_dist from `avoid` and each
    other. None when that is impossible within `tries` draws."""
    w, h = size
    if w - 2 * margin <= 0 or h - 2 * margin <= 0:
        return None
    chosen: list[tuple[float, float]] = []
    for _ in range(tries):
        p = (rng.uniform(margin, w - margin), rng.uniform(margin, h - margin))
        if all(dist(p, q) >= min_dist for q in list(avoid) + chosen):
            chosen.append((round(p[0], 2), round(p[1], 2)))
            if len(chosen) == n:
                return chosen
    return None


def balanced_letters(rng: random.Random, n: int, k: int) -> list[int]:
    """n answer positions in 0..k-1, as equal as possible, in random order (seeded)."""
    pos = [i % k for i in range(n)]
    rng.shuffle(pos)
    return pos


class TestDeduper:
    """Image-level de-duplication of train/val material against the test images
    (`livr.data.dedup.NearDuplicateIndex`: pHash, then SSIM, then CLIP when `clip_model` is set).
    Results are cached per key; every rejected key is recorded in `dropped`."""

    def __init__(self, test_images: Iterable[Image.Image], dedup_cfg: dict):
        from livr.data.dedup import NearDuplicateIndex

        test_images = list(test_images)
        self.index = None
        if test_images:
            self.index = NearDuplicateIndex(
                test_images,
                phash_max_distance=dedup_cfg["phash_max_distance"],
                ssim_threshold=dedup_cfg["ssim_threshold"],
                clip_model=dedup_cfg.get("clip_model"),
            )
        self.cache: dict[str, bool] = {}
        self.dropped: list[dict] = []

    def ok(self, key: str, image: Image.Image | Callable[[], Image.Image]) -> bool:
        if self.index is None:
            return True
        if key not in self.cache:
            img = image() if callable(image) else image
            hit = self.index.match(img)
            self.cache[key] = hit is None
            if hit is not None:
                self.dropped.append({"image": key, "reason": "near-duplicate of a test image", **hit})
        return self.cache[key]


class Staging:
    """Rendered images saved to a temporary directory as they are made (not held in memory),
    handed to `write_task_dir` as paths and removed afterwards."""

    def __init__(self, out_dir: str | Path):
        out_dir = Path(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".staging", dir=out_dir.parent))
        self.files: dict[str, Path] = {}

    def add(self, rel: str, img: Image.Image, quality: int = 95) -> str:
        dest = self.dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        img = img.convert("RGB")
        if dest.suffix.lower() in (".jpg", ".jpeg"):
            img.save(dest, quality=quality)
        else:
            img.save(dest)
        self.files[rel] = dest
        return rel

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def write_built_task(out_dir, splits: dict, staging: Staging, extra_images: dict, manifest: dict) -> None:
    """Write the task directory (records + staged images + e.g. BLINK test images) atomically."""
    from livr.data.schema import write_task_dir
    from livr.data.tasks.common import image_writer

    try:
        write_task_dir(out_dir, splits, manifest, image_writer({**staging.files, **extra_images}))
    finally:
        staging.cleanup()


def blink_test(raw_root, task: str) -> tuple[list, dict]:
    """BLINK val as this task's test split: (records, {relative path: PIL image})."""
    from livr.data.sources import blink

    records, images = blink.test_records(raw_root, task)
    return list(records), dict(images)


def describe(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if isinstance(v, (str, int, float, list, tuple)) and k != "image"}
    return str(item)


DEDUP_DEFAULTS = {
    # 64-bit pHash Hamming distance at or below which an image counts as a near-duplicate.
    "phash_max_distance": 8,
    # Grayscale-thumbnail SSIM at or above which an image counts as a near-duplicate.
    "ssim_threshold": 0.9,
    # Hugging Face CLIP id for the embedding check (paper: CLIP + pHash + SSIM); None = offline,
    # pHash + SSIM only.
    "clip_model": None,
}
