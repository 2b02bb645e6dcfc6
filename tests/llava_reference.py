"""A fixed LLaVA-OneVision-1.5 computation, recorded once under transformers 5.25.0's native class.

The vendored copy (livr/model/vendor/llava_onevision1_5) must compute what transformers' own
class computes. Where 5.25 is not installed (it does not resolve here: it needs kernels>=0.19.1),
the test compares against this recording instead. Weights and inputs are closed-form (sines of
the element index), not drawn from torch's RNG, so they are the same on every torch version.

Recorded with (a scratch venv: this project's dependencies, then 5.25.0 without its own):
    python3 -m venv /tmp/venv525 && . /tmp/venv525/bin/activate
    pip install -e '.[test]' -c constraints.txt
    pip download transformers==5.25.0 --no-deps -d /tmp/tf525
    pip install --no-deps /tmp/tf525/transformers-5.25.0-py3-none-any.whl
    python tests/llava_reference.py      # writes tests/data/llava_ov_1_5_native_reference.json
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

REFERENCE = Path(__file__).parent / "data" / "llava_ov_1_5_native_reference.json"
IMAGE, VIDEO, VSTART, VEND = 60, 61, 62, 63
GRIDS = [[1, 4, 4], [1, 4, 6]]  # two images of different sizes: 4 and 6 merged tokens
PATCH = 4


def closed_form(n: int, offset: float, scale: float) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float64)
    return (scale * torch.sin(i * 0.7548776662466927 + offset)).float()


def build_model():
    from livr.model.llava_ov_1_5 import classes

    config_cls, model_cls = classes()
    config = config_cls(
        text_config=dict(model_type="qwen3", vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=256,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=PATCH, spatial_merge_size=2,
                           out_hidden_size=32),
        image_token_id=IMAGE, video_token_id=VIDEO, vision_start_token_id=VSTART, vision_end_token_id=VEND,
    )
    model = model_cls(config).eval()
    model.set_attn_implementation("eager")
    with torch.no_grad():
        for k, (name, p) in enumerate(sorted(model.named_parameters())):
            if "norm" in name and name.endswith("weight"):
                values = 1.0 + closed_form(p.numel(), k, 0.1)
            else:
                values = closed_form(p.numel(), k, 0.02 if p.dim() > 1 else 0.01)
            p.copy_(values.view_as(p))
    return model


def inputs() -> dict:
    n_patches = sum(t * h * w for t, h, w in GRIDS)
    pixels = closed_form(n_patches * 3 * PATCH * PATCH, 0.5, 1.0).view(n_patches, 3 * PATCH * PATCH)
    tokens = [1, 2, VSTART] + [IMAGE] * 4 + [VEND, 3, VSTART] + [IMAGE] * 6 + [VEND, 4, 5, 6]
    return {"input_ids": torch.tensor([tokens]), "pixel_values": pixels, "image_grid_thw": torch.tensor(GRIDS)}


@torch.no_grad()
def compute(model) -> dict:
    batch = inputs()
    features = model.get_image_features(batch["pixel_values"], batch["image_grid_thw"]).pooler_output
    return {"image_features": torch.cat(features).tolist(), "logits": model(**batch).logits[0].tolist()}


def main() -> None:
    import transformers

    from livr.model.llava_ov_1_5 import native_available

    if not native_available():
        raise SystemExit(f"transformers {transformers.__version__} has no native LLaVA-OneVision-1.5; install 5.25.0 (module docstring)")
    out = compute(build_model())
    assert all(math.isfinite(x) for row in out["logits"] for x in row)
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps({"transformers": transformers.__version__, "torch": torch.__version__, **out}) + "\n")
    print(f"wrote {REFERENCE} (transformers {transformers.__version__}, native class)")


if __name__ == "__main__":
    main()
