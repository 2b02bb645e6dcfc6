"""`livr verify-bottleneck`: prove on one example that Stage 1 leaks no image information.

Run it before spending GPU hours on a new backbone. On one two-image example, under the Stage-1
mask, the pixels are perturbed and:
  1. without latents, no post-image prompt or answer logit may move, and their gradient
     w.r.t. the pixels must be exactly zero (the direct path is closed);
  2. with K latents, the post-image prompt still may not move, the latents must (they see the
     image), and so must the answer (it sees the image through the latents).
Both include the position that predicts the first answer token: labels are shifted by one, so the
answer's first token (the letter) is predicted at the position before it, the last latent, which
ANSWER-role positions do not cover.
"""

from __future__ import annotations

import tempfile

import torch

from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.model.masks import ANSWER, LATENT, POST, answer_predictor_index


def answer_predictor(roles: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the answer predictor (masks.answer_predictor_index)."""
    sel = torch.zeros_like(roles, dtype=torch.bool)
    sel[answer_predictor_index(roles)] = True
    return sel


def perturbation_effect(model, processor, spec, encoded, variant: str) -> dict:
    """Per role (and for the answer predictor): max |logit change| and the number of non-zero
    pixel-gradient entries."""
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, variant, dtype=model.dtype).collate(
        [encoded]
    )
    batch = {k: v.to(model.device) for k, v in batch.items()}
    roles = roles[0].to(model.device)
    pv = batch["pixel_values"]
    perturbed = (pv + torch.randn_like(pv)).requires_grad_(True)
    with torch.no_grad():
        base = model(**batch).logits[0].float()
    moved = model(**{**batch, "pixel_values": perturbed}).logits[0].float()
    out = {}
    selections = [
        (name, roles == role) for name, role in (("post_image_prompt", POST), ("latent", LATENT), ("answer", ANSWER))
    ]
    for name, sel in [*selections, ("answer_predictor", answer_predictor(roles))]:
        if sel.any():
            (grad,) = torch.autograd.grad(moved[sel].sum(), perturbed, retain_graph=True)
            out[name] = {
                "max_logit_change": float((moved[sel].detach() - base[sel]).abs().max()),
                "nonzero_pixel_grads": int(torch.count_nonzero(grad)),
            }
    return out


def verify(model, processor, backbone: str, k: int, variant: str = "default") -> tuple[bool, dict]:
    spec = get_backbone(backbone)
    with tempfile.TemporaryDirectory() as tmp:
        build_synthetic_task("visual_correspondence", f"{tmp}/vc", n_train=1, n_val=1, n_test=1, seed=0)
        record = read_split(f"{tmp}/vc", "test")[0]
        images = load_images(record, f"{tmp}/vc")
    add_latent_tokens(model, processor, k, seed=0)
    model.eval()
    without = perturbation_effect(model, processor, spec, encode(record, images, processor, spec, []), variant)
    with_latents = perturbation_effect(
        model, processor, spec, encode(record, images, processor, spec, latent_token_strings(k)), variant
    )
    closed = all(
        without[r]["max_logit_change"] == 0 and without[r]["nonzero_pixel_grads"] == 0
        for r in ("post_image_prompt", "answer", "answer_predictor")
    )
    prompt_blind = (
        with_latents["post_image_prompt"]["max_logit_change"] == 0
        and with_latents["post_image_prompt"]["nonzero_pixel_grads"] == 0
    )
    latents_see = with_latents["latent"]["max_logit_change"] > 0 and with_latents["latent"]["nonzero_pixel_grads"] > 0
    answer_via_latents = with_latents["answer"]["max_logit_change"] > 0
    predictor_via_latents = with_latents["answer_predictor"]["max_logit_change"] > 0
    checks = {
        "direct image->answer/prompt path closed, first-answer-token predictor included (no latents)": closed,
        "post-image prompt blind to the image (with latents)": prompt_blind,
        "latents see the image": latents_see,
        "answer sees the image through the latents": answer_via_latents,
        "first answer token's predictor (the last latent) sees the image": predictor_via_latents,
    }
    return all(checks.values()), {"checks": checks, "without_latents": without, "with_latents": with_latents}


def configure(parser) -> None:
    parser.add_argument("--backbone", required=True)
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="real backbones: random-weight build of the real-size config (no download)",
    )
    parser.add_argument(
        "--shrink",
        action="store_true",
        help="with --random-weights: 2 LM layers, 1 ViT block, small widths (a CPU check)",
    )
    parser.add_argument(
        "--models-dir", default="models", help="where tiny backbones are built; a missing one is built in memory"
    )
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--mask", default="default", choices=["default", "default_plus_latent_prompt_block"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    parser.add_argument("--json", help="also write the checks and figures to this JSON file")


def main(args) -> int:
    from pathlib import Path

    from livr.model.loading import load_backbone
    from livr.ops.hub_weights import require_backbone_weights

    spec = get_backbone(args.backbone)
    dtype = getattr(torch, args.dtype)
    if spec.tiny and not (Path(args.models_dir) / spec.name / "config.json").is_file():
        from livr.model.tiny import build_model_and_processor

        model, processor = build_model_and_processor(spec.name)
        model = model.to(device=args.device, dtype=dtype)
        model.set_attn_implementation(args.attn)
    elif args.random_weights:
        from livr.model.real_configs import random_weight_model

        model, processor = random_weight_model(spec.name, args.device, dtype, shrink=args.shrink, attn=args.attn)
    else:
        require_backbone_weights(spec.name, random_weights_option=True)
        model, processor = load_backbone(spec.name, args.models_dir, {}, dtype, args.attn, args.device)
    print(
        f"verify-bottleneck {spec.name}: {type(model).__name__} "
        f"({model.config.get_text_config()._attn_implementation} attention, "
        f"{dtype}, {args.device}){' shrunk' if args.shrink and args.random_weights else ''}"
    )
    ok, report = verify(model, processor, spec.name, args.k, args.mask)
    for name, passed in report["checks"].items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    for label in ("without_latents", "with_latents"):
        for role, r in report[label].items():
            print(
                f"      {label:<16} {role:<18} max |logit change| {r['max_logit_change']:.3g}  non-zero pixel grads "
                f"{r['nonzero_pixel_grads']}"
            )
    print(f"verify-bottleneck {spec.name} ({args.mask}): {'PASSED' if ok else 'FAILED'}")
    if args.json:
        from livr.io import write_json

        write_json(
            args.json,
            {
                "backbone": spec.name,
                "mask": args.mask,
                "k": args.k,
                "device": args.device,
                "dtype": args.dtype,
                "attn": args.attn,
                "random_weights": args.random_weights,
                "shrunk": args.shrink,
                "passed": ok,
                **report,
            },
        )
    return 0 if ok else 1
