"""Near-duplicate detection of train/val images against test images (paper Appendix A:
"de-duplicated against test using CLIP embeddings, perceptual hashes and SSIM").

- `phash`: the classic 64-bit DCT perceptual hash (grayscale, 32x32 resize, 2-D DCT-II, the 8x8
  lowest frequencies compared against their median, DC term excluded from the median), numpy only.
- `ssim`: SSIM of two images on grayscale `size`x`size` thumbnails with an 11-tap gaussian window
  (sigma 1.5, the Wang et al. 2004 constants), numpy only.
- `NearDuplicateIndex`: an image is a near-duplicate of the test set when ANY test image has
  pHash Hamming distance <= `phash_max_distance`, OR SSIM >= `ssim_threshold`, OR (only when a CLIP
  model id is given) CLIP image-embedding cosine similarity >= `clip_threshold`.

Defaults (documented in params.yaml `paper_data.<task>`): phash_max_distance = 8 of 64 bits
(re-encoded / resized / slightly shifted copies land at 0-6; unrelated natural images average ~32),
ssim_threshold = 0.90 on 64x64 thumbnails, clip_threshold = 0.95. The paper gives no thresholds.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np
from PIL import Image

PHASH_MAX_DISTANCE = 8
SSIM_THRESHOLD = 0.90
SSIM_SIZE = 64
CLIP_THRESHOLD = 0.95

ImageLike = Image.Image | str | os.PathLike


def _open(img: ImageLike) -> Image.Image:
    if isinstance(img, Image.Image):
        return img
    with Image.open(img) as im:
        im.load()
        return im.copy()


def _gray(img: ImageLike, size: int) -> np.ndarray:
    im = _open(img).convert("L").resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.float64)


@lru_cache(maxsize=8)
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def phash(img: ImageLike, hash_size: int = 8, highfreq_factor: int = 4) -> int:
    """64-bit (for hash_size 8) DCT perceptual hash as a Python int."""
    n = hash_size * highfreq_factor
    pixels = _gray(img, n)
    d = _dct_matrix(n)
    dct = d @ pixels @ d.T
    low = dct[:hash_size, :hash_size]
    med = np.median(low.flatten()[1:])
    bits = (low > med).flatten()
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def hamming(a: int, b: int) -> int:
    return int(a ^ b).bit_count()


def _gaussian_kernel(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _blur(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 'valid' gaussian filter over the last two axes (works on stacks)."""
    n = len(k)
    h = x.shape[-1] - n + 1
    y = sum(k[j] * x[..., :, j : j + h] for j in range(n))
    v = y.shape[-2] - n + 1
    return sum(k[j] * y[..., j : j + v, :] for j in range(n))


def _ssim_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM between `a` (..., H, W) and `b` broadcastable to it; data range 255."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = _gaussian_kernel()
    mu_a, mu_b = _blur(a, k), _blur(b, k)
    saa = _blur(a * a, k) - mu_a**2
    sbb = _blur(b * b, k) - mu_b**2
    sab = _blur(a * b, k) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * sab + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2)
    return (num / den).mean(axis=(-2, -1))


def ssim(img_a: ImageLike, img_b: ImageLike, size: int = SSIM_SIZE) -> float:
    """Gaussian-window SSIM of the two images' grayscale `size`x`size` thumbnails, in [-1, 1]."""
    return float(_ssim_arrays(_gray(img_a, size), _gray(img_b, size)))


class NearDuplicateIndex:
    """Index of test images; asks whether a train/val image is a near-duplicate of any of them."""

    def __init__(
        self,
        test_images: Iterable[ImageLike],
        phash_max_distance: int = PHASH_MAX_DISTANCE,
        ssim_threshold: float = SSIM_THRESHOLD,
        clip_model: str | None = None,
        clip_threshold: float = CLIP_THRESHOLD,
        ssim_size: int = SSIM_SIZE,
        device: str = "cpu",
    ):
        self.phash_max_distance = phash_max_distance
        self.ssim_threshold = ssim_threshold
        self.ssim_size = ssim_size
        self.clip_threshold = clip_threshold
        imgs = [_open(i) for i in test_images]
        self.n_test = len(imgs)
        self._hashes = np.array([phash(i) for i in imgs], dtype=np.uint64)
        self._thumbs = np.stack([_gray(i, ssim_size) for i in imgs]) if imgs else np.zeros((0, ssim_size, ssim_size))
        self._clip = None
        if clip_model and imgs:
            self._clip = _ClipEmbedder(clip_model, device)
            self._clip_test = self._clip.embed(imgs)

    def match(self, img: ImageLike) -> dict | None:
        """None when `img` is not a near-duplicate; else {test_index, reason, value}."""
        if self.n_test == 0:
            return None
        im = _open(img)
        h = np.uint64(phash(im))
        dists = np.array([hamming(int(h), int(t)) for t in self._hashes])
        i = int(dists.argmin())
        if dists[i] <= self.phash_max_distance:
            return {"test_index": i, "reason": "phash", "value": int(dists[i])}
        s = _ssim_arrays(self._thumbs, _gray(im, self.ssim_size)[None])
        i = int(s.argmax())
        if s[i] >= self.ssim_threshold:
            return {"test_index": i, "reason": "ssim", "value": round(float(s[i]), 4)}
        if self._clip is not None:
            e = self._clip.embed([im])[0]
            sims = self._clip_test @ e
            i = int(sims.argmax())
            if sims[i] >= self.clip_threshold:
                return {"test_index": i, "reason": "clip", "value": round(float(sims[i]), 4)}
        return None

    def is_duplicate(self, img: ImageLike) -> bool:
        return self.match(img) is not None

    def filter(self, records_with_images: Iterable[tuple[Any, Sequence[ImageLike]]]):
        """Split (item, images) pairs into `kept` (list of items none of whose images is a
        near-duplicate of a test image) and `dropped` (list of (item, match-dict) pairs)."""
        kept, dropped = [], []
        for item, images in records_with_images:
            hit = None
            for img in images:
                hit = self.match(img)
                if hit:
                    break
            if hit:
                dropped.append((item, hit))
            else:
                kept.append(item)
        return kept, dropped


class _ClipEmbedder:
    """transformers CLIPModel image embeddings, L2-normalised. Needs the model weights (network
    or a local path); only constructed when a CLIP model id is configured."""

    def __init__(self, model_id: str, device: str = "cpu"):
        import torch
        from transformers import CLIPModel, CLIPProcessor

        self.torch = torch
        self.model = CLIPModel.from_pretrained(model_id).to(device).eval()
        self.processor = CLIPProcessor.from_pretrained(model_id)
        self.device = device

    def embed(self, images: list[Image.Image], batch: int = 32) -> np.ndarray:
        out = []
        for s in range(0, len(images), batch):
            chunk = [i.convert("RGB") for i in images[s : s + batch]]
            inputs = self.processor(images=chunk, return_tensors="pt").to(self.device)
            with self.torch.no_grad():
                e = self.model.get_image_features(**inputs)
            if not isinstance(e, self.torch.Tensor):  # some versions return a model output
                e = getattr(e, "image_embeds", None) or e.pooler_output
            e = self.torch.nn.functional.normalize(e.float(), dim=-1)
            out.append(e.cpu().numpy())
        return np.concatenate(out)


def dedup_settings(cfg: dict) -> dict:
    """`NearDuplicateIndex` keyword arguments from a builder cfg: the flat keys
    phash_max_distance / ssim_threshold / clip_model / clip_threshold (as in params.yaml
    `paper_data.<task>`), or the same keys under a `dedup` sub-dict."""
    d = {**cfg, **(cfg.get("dedup") or {})}
    get = lambda k, default: default if d.get(k) is None else d[k]  # noqa: E731
    return {
        "phash_max_distance": int(get("phash_max_distance", PHASH_MAX_DISTANCE)),
        "ssim_threshold": float(get("ssim_threshold", SSIM_THRESHOLD)),
        "clip_model": d.get("clip_model") or None,
        "clip_threshold": float(get("clip_threshold", CLIP_THRESHOLD)),
    }
