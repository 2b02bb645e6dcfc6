"""`livr analyze`: the paper's analyses of one trained model with latent tokens (Sec. 4.3.1, App. C).

For the kept checkpoint (final/) of a trained cell, on the test split of each task it is evaluated
on, under the standard (inference) mask, in eager attention so every decoder layer returns its
attention probabilities:

- Attention share (Sec. 4.3.1: "mean attention from answer tokens to latent tokens", LIVR 0.076,
  latents-only 0.028 on Localization). Each example is run once with its gold answer teacher-forced
  (the answer and end-of-turn tokens, as in training). For every decoder layer, head and answer
  position, the attention probability mass on the K latent keys (and, for reference, on the image
  keys) is taken; the share is the mean over all of them and over the examples (pooled). The paper
  does not say which examples or whether the answer is the gold or the generated one: NOT
  SPECIFIED, params.yaml `analysis:`. The same is reported for the position that predicts the first
  answer token (labels are shifted by one: with the latents after the prompt it is the last latent,
  whose share includes what it pays to itself).
- t-SNE (Appendix C) of final-layer hidden states of latent, image and text tokens of the first
  `tsne_examples` test examples of each task: every latent position, and `tsne_tokens_per_kind`
  image and prompt-text positions drawn per example (seeded; NOT SPECIFIED), embedded together in 2D
  with scikit-learn's TSNE (one embedding per model, all its tasks).

One JSON file per model (livr/layout.py `analysis_file`); `livr collect --analyses` loads it into
the tables `attention_shares` and `tsne_points`.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import torch

from livr import config as livr_config
from livr.attention_maps import attention_weights, decoder_attention_modules
from livr.data.schema import read_split
from livr.errors import InputError
from livr.evaluate import evaluated_weights
from livr.io import write_json
from livr.layout import Layout
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, load_images
from livr.model.loading import base_model, load_trained, resolve_dtype
from livr.model.masks import ANSWER, IMAGE, LATENT, POST, TEXT, answer_predictor_index
from livr.ops.gpu_slots import job_device
from livr.ops.hub_weights import require_checkpoint_base_weights
from livr.settings import TrainConfig

log = logging.getLogger(__name__)
KINDS = {"latent": (LATENT,), "image": (IMAGE,), "text": (TEXT, POST)}


class AttentionShares:
    """Running sums of the attention mass some queries put on latent and image keys, over every
    decoder layer and head (a forward hook per layer's self-attention, eager attention)."""

    def __init__(self, model):
        self.modules = decoder_attention_modules(model)
        self.queries: dict[str, torch.Tensor] = {}
        self.keys: dict[str, torch.Tensor] = {}
        # float64 sums on the model's device: no host sync per layer; read once by shares()
        self.sums = {
            (q, k): torch.zeros((), dtype=torch.float64, device=model.device)
            for q in ("answer", "predictor")
            for k in ("latent", "image")
        }
        self.counts = {"answer": 0, "predictor": 0}

    def hook(self, module, args, output):
        w = attention_weights(output)
        for q, rows in self.queries.items():
            block = w[0][:, rows].float()  # [heads, queries, L]
            for k, cols in self.keys.items():
                self.sums[(q, k)] += block[:, :, cols].sum(
                    dtype=torch.float64
                )  # mass on those keys, over heads and queries
            self.counts[q] += block.shape[0] * block.shape[1]

    def shares(self) -> dict[str, float]:
        return {f"{q}_to_{k}": float(s) / self.counts[q] for (q, k), s in self.sums.items()}


def _positions(roles: list[int], kinds: tuple[int, ...]) -> list[int]:
    return [i for i, r in enumerate(roles) if r in kinds]


@torch.no_grad()
def analyze_model(model, processor, spec, meta: dict, tasks: dict[str, tuple[str, list]], settings: dict) -> dict:
    """Attention shares per task and t-SNE points over all tasks of one model (see the module docstring)."""
    from sklearn.manifold import TSNE

    if not meta.get("latents"):
        raise InputError("the checkpoint has no latent tokens: nothing to analyse")
    rng = np.random.default_rng(settings["seed"])
    copies = meta.get("image_copies", 1)
    base = base_model(model)
    collator = Collator(base, processor.tokenizer.pad_token_id, spec, None)
    attention, vectors, points = [], [], []
    for task, (task_dir, records) in tasks.items():
        shares = AttentionShares(model)
        handles = [m.register_forward_hook(shares.hook) for _, m in shares.modules]
        limit = settings["attention_examples"] or len(records)
        try:
            for i, rec in enumerate(records[: max(limit, settings["tsne_examples"])]):
                enc = encode(
                    rec, load_images(rec, task_dir) * copies, processor, spec, meta["latents"], meta["latent_position"]
                )
                batch, roles = collator.collate([enc])
                batch.pop("labels")
                batch = {k: v.to(model.device) for k, v in batch.items()}
                role_list = roles[0].tolist()
                answer = _positions(role_list, (ANSWER,))
                measure = i < limit
                index = partial(torch.tensor, device=model.device)  # positions on the device the hooks index
                shares.queries = (
                    {"answer": index(answer), "predictor": index([answer_predictor_index(roles[0])])} if measure else {}
                )
                shares.keys = {k: index(_positions(role_list, KINDS[k])) for k in ("latent", "image")}
                out = model(**batch, use_cache=False, output_hidden_states=True)
                if i < settings["tsne_examples"]:
                    final = out.hidden_states[-1][0].float().cpu().numpy()  # [L, hidden]
                    for kind, role_ids in KINDS.items():
                        pos = _positions(role_list, role_ids)
                        if kind != "latent" and len(pos) > settings["tsne_tokens_per_kind"]:
                            pos = sorted(rng.choice(pos, settings["tsne_tokens_per_kind"], replace=False).tolist())
                        vectors.append(final[pos])
                        points += [{"task": task, "id": rec.id, "kind": kind, "position": p} for p in pos]
        finally:
            for h in handles:
                h.remove()
        n = min(limit, len(records))
        attention.append({"task": task, "n": n, **shares.shares()})
        log.info(
            "%s: %d examples, answer->latent %.4f, answer->image %.4f",
            task,
            n,
            attention[-1]["answer_to_latent"],
            attention[-1]["answer_to_image"],
        )
    x = np.concatenate(vectors)
    # sklearn needs perplexity < n samples; tiny test runs have few points
    perplexity = min(settings["tsne_perplexity"], max(1.0, (len(x) - 1) / 3))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=settings["seed"]).fit_transform(x)
    for p, (px, py) in zip(points, xy.tolist()):
        p["x"], p["y"] = px, py
    return {"attention": attention, "tsne": {"perplexity": perplexity, "points": points}}


def configure(parser) -> None:
    livr_config.add_cell_arguments(
        parser, "the train set whose model is analysed", "a trained method with latent tokens"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="the analysis JSON (results/analysis/<exp>/<backbone>/<train_set>/<method>/seed<S>.json)",
    )


def main(args) -> int:
    params = livr_config.load_params(args.params)
    livr_config.check_cell(params, args.experiment, args.backbone, args.train_set, args.method, trained=True)
    cfg = TrainConfig.resolve(params, args.experiment, args.backbone, args.train_set, args.method, args.seed)
    if not cfg.uses_latents:
        raise livr_config.ConfigError(
            f"method {args.method!r} trains no latent tokens: nothing to analyse "
            "(`livr analyze` is for methods with train: livr and use_latents: true)"
        )
    settings = params["analysis"]
    layout = Layout.of(params)
    checkpoint = layout.checkpoint_dir(cfg.experiment, args.backbone, args.train_set, args.method, cfg.seed)
    tasks = {}
    for task, data_dir in zip(cfg.tasks, cfg.data_dirs):
        tasks[task] = (data_dir, read_split(data_dir, "test"))
    require_checkpoint_base_weights(args.backbone, checkpoint)  # before any model loads
    if args.threads or cfg.threads:
        torch.set_num_threads(args.threads or cfg.threads)
    with job_device(args.device) as device:
        model, processor, meta = load_trained(
            args.backbone,
            checkpoint,
            args.models_dir or layout.models,
            cfg.backbone_settings,
            resolve_dtype(cfg.dtype, device),
            "eager",
            device,
        )
        weights, _ = evaluated_weights(checkpoint, meta)
        result = analyze_model(model, processor, get_backbone(args.backbone), meta, tasks, settings)
    write_json(
        args.out,
        {
            "experiment": cfg.experiment,
            "backbone": args.backbone,
            "train_set": args.train_set,
            "method": args.method,
            "seed": cfg.seed,
            "checkpoint": checkpoint,
            "weights": weights,
            "settings": settings,
            **result,
        },
    )
    shares = ", ".join(f"{a['task']} {a['answer_to_latent']:.4f}" for a in result["attention"])
    print(
        f"analysed {args.backbone}/{args.train_set}/{args.method}: answer->latent attention {shares}; "
        f"{len(result['tsne']['points'])} t-SNE points"
    )
    return 0
