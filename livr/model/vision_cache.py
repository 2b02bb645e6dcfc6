"""Frozen vision features, computed once per image per job.

In every recipe the paper runs, the vision tower and projector are frozen (LoRA or full fine-tuning
of the language model), so an image's projected features are the same at every epoch, in every
validation and in both LIVR stages; only the language model needs each step. `VisionFeatureCache`
wraps the backbone's `get_image_features` (every registered family has one, with the same call:
pixel rows concatenated over the batch's images, and a grid per image that sizes them) and returns
the features an image got the first time it was seen.

- Key: a hash of the image's processor output (its pixel rows, grid and dtype). That is the image's
  content under the processor's settings, so any change of either is a different key.
- Value: what the model reads per image: `pooler_output` (the projected features) and, for Qwen3-VL,
  its `deepstack_features`, in the model's dtype on the model's device, detached.
- Memory: up to `budget_mb`; beyond it each image's features go to one safetensors file in
  `disk_dir` (beside the run), read back when the image comes again. The directory is removed
  when the job closes the cache, which logs its size.

It is installed only when no vision weight trains (`vision_frozen`); the features are then what the
uncached forward computes for the image, so the model's outputs are the same to float tolerance
(the tower sees other batch-mates; tests/model/test_vision_cache.py).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import torch

from livr.io import atomic_path

log = logging.getLogger(__name__)


def vision_frozen(model, is_language_model_weight) -> bool:
    """No weight outside the language model trains: the image features cannot change."""
    return not any(p.requires_grad for n, p in model.named_parameters() if not is_language_model_weight(n))


def image_key(pixels: torch.Tensor, grid: torch.Tensor) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(str((pixels.dtype, tuple(pixels.shape), grid.tolist())).encode())
    h.update(pixels.detach().contiguous().cpu().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class VisionFeatureCache:
    def __init__(self, model, budget_mb: float, disk_dir: str | Path):
        # The module whose forward calls self.get_image_features: the backbone's `model.model`
        # (the ForConditionalGeneration class forwards its own get_image_features there too).
        self.owner = model.model
        self.compute = self.owner.get_image_features
        self.budget = budget_mb * 2**20
        self.disk_dir = Path(disk_dir)
        self.memory: dict[str, dict[str, torch.Tensor]] = {}
        self.on_disk: set[str] = set()
        self.memory_bytes = self.disk_bytes = self.hits = self.misses = 0
        self.output_type = None
        self.install()

    def install(self) -> None:
        self.owner.get_image_features = self  # an instance attribute: shadows the method

    def uninstall(self) -> None:
        """The model's own image-feature function again; the features stay (livr bench times both)."""
        vars(self.owner).pop("get_image_features", None)

    def __call__(self, pixel_values, image_grid_thw=None, **kwargs):
        rows = image_grid_thw.prod(-1).tolist()
        pixels = pixel_values.split(rows)
        keys = [image_key(p, g) for p, g in zip(pixels, image_grid_thw)]
        found = {k: self._get(k) for k in dict.fromkeys(keys)}
        missing = [i for i, k in enumerate(keys) if found[k] is None]
        if missing:
            with torch.no_grad():
                out = self.compute(torch.cat([pixels[i] for i in missing]), image_grid_thw[missing], **kwargs)
            self.output_type = type(out)
            for j, i in enumerate(missing):
                if found[keys[i]] is None:  # an image twice in one batch is computed once more, stored once
                    found[keys[i]] = self._put(keys[i], per_image(out, j))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        return batch_output(self.output_type, [found[k] for k in keys])

    def _get(self, key: str) -> dict[str, torch.Tensor] | None:
        if key in self.memory:
            return self.memory[key]
        if key in self.on_disk:
            from safetensors.torch import load_file

            return load_file(self.disk_dir / f"{key}.safetensors", device=str(self.owner.device))
        return None

    def _put(self, key: str, feats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        size = sum(t.numel() * t.element_size() for t in feats.values())
        if self.memory_bytes + size <= self.budget:
            self.memory[key] = feats
            self.memory_bytes += size
            return feats
        from safetensors.torch import save_file

        self.disk_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.disk_dir / f"{key}.safetensors") as tmp:
            save_file({k: t.cpu() for k, t in feats.items()}, tmp)
        self.on_disk.add(key)
        self.disk_bytes += size
        return feats

    def summary(self) -> str:
        return (
            f"vision feature cache: {len(self.memory) + len(self.on_disk)} images, {self.hits} reused, "
            f"{self.misses} computed; {self.memory_bytes / 2**20:.1f} MB in memory (budget {self.budget / 2**20:.0f} "
            "MB), "
            f"{self.disk_bytes / 2**20:.1f} MB on disk" + (f" in {self.disk_dir}" if self.on_disk else "")
        )

    def close(self) -> None:
        """Restore the model's own image-feature function, free the features, remove the disk cache."""
        log.info("%s", self.summary())
        self.uninstall()
        self.memory.clear()
        self.on_disk.clear()
        shutil.rmtree(self.disk_dir, ignore_errors=True)


def per_image(out, j: int) -> dict[str, torch.Tensor]:
    """Image j's features of a get_image_features output (pooler_output and deepstack_features are
    per-image tuples; deepstack_features one per deepstack layer)."""
    feats = {"pooler_output": out.pooler_output[j].detach()}
    for layer, per in enumerate(getattr(out, "deepstack_features", None) or []):
        feats[f"deepstack.{layer}"] = per[j].detach()
    return feats


def batch_output(output_type, images: list[dict[str, torch.Tensor]]):
    """A get_image_features output of these images, holding the fields the backbones' forwards read."""
    fields = {"pooler_output": tuple(f["pooler_output"] for f in images)}
    layers = sum(k.startswith("deepstack.") for k in images[0])
    if layers:
        fields["deepstack_features"] = [tuple(f[f"deepstack.{i}"] for f in images) for i in range(layers)]
    return output_type(**fields)
