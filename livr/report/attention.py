"""Report section 3: where the latents look. For the first few test examples of each LIVR cell,
the attention the K latent tokens pay to each visual token (livr/attention_maps.py: eager
attention, mean over heads, the chosen layers and the latents), drawn over the images."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livr.report.html import esc, img_tag, parsed_html, png_uri, warning

LIVR, BASELINE = "livr", "sft"


def livr_cells(con, experiment: str, seed: int) -> pd.DataFrame:
    return con.execute(
        "SELECT backbone, train_set, task FROM runs WHERE experiment = ? AND method = ? AND seed = ? AND selected "
        "ORDER BY backbone, train_set, task",
        [experiment, LIVR, seed],
    ).fetchdf()


def predictions_of(
    con, experiment: str, backbone: str, train_set: str, task: str, seed: int
) -> dict[tuple[str, str], dict]:
    """(method, id) -> prediction row, for LIVR and SFT at training seed `seed`."""
    frame = con.execute(
        "SELECT method, id, raw_output, parsed, correct, gold FROM predictions WHERE experiment = ? AND backbone = ? "
        "AND train_set = ? AND task = ? AND method IN (?, ?) AND seed = ? AND selected",
        [experiment, backbone, train_set, task, LIVR, BASELINE, seed],
    ).fetchdf()
    frame = frame.astype(object).where(frame.notna(), None)
    return {(r["method"], r["id"]): r for r in frame.to_dict("records")}


def _caption(rec, att, preds) -> str:
    peak = max(float(g.max()) for g in att.grids)
    mean = sum(float(g.sum()) for g in att.grids) / sum(g.size for g in att.grids)
    livr_p, sft_p = preds.get((LIVR, rec.id)), preds.get((BASELINE, rec.id))
    return (
        f"<b>{esc(rec.id)}</b><br>gold {esc(rec.answer)} · LIVR {parsed_html(livr_p['parsed'], livr_p['correct'])}"
        + (f" · SFT {parsed_html(sft_p['parsed'], sft_p['correct'])}" if sft_p else "")
        + f"<br>{att.n_latents} latents put {100 * att.image_share:.1f}% of their attention on the image"
        f" tokens; peak/mean token {peak / mean:.2f}"
    )


def attention_section(
    con, params, experiment: str, n_examples: int, layers, device, threads, warnings: list[str]
) -> tuple[str, int]:
    """(HTML, number of maps); '' when not requested (--attention-examples 0) or without LIVR cells.
    Loads each LIVR checkpoint (a GPU for real backbones)."""
    if n_examples <= 0:
        return "", 0
    import torch

    from livr import config as lc
    from livr.attention_maps import example_figure, latent_image_attention
    from livr.layout import Layout
    from livr.model.backbones import get_backbone
    from livr.model.inputs import load_images
    from livr.model.loading import load_trained, resolve_dtype
    from livr.report.failures import test_records
    from livr.settings import TrainConfig

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if threads:
        torch.set_num_threads(threads)
    seed = lc.seeds(params, experiment)[0]  # the maps of one model: the experiment's first seed
    cells = livr_cells(con, experiment, seed)
    if cells.empty:
        return "", 0
    layout = Layout.of(params)
    parts, n_maps = [], 0
    for backbone, cells_of in cells.groupby("backbone", sort=True):  # one grid of figures per backbone
        parts.append(f'<h3>{esc(backbone)}</h3><div class="grid">')
        for train_set, group in cells_of.groupby("train_set", sort=True):
            checkpoint = Path(layout.checkpoint_dir(experiment, backbone, train_set, LIVR, seed))
            if not checkpoint.is_dir():
                warnings.append(
                    f"{checkpoint}: LIVR checkpoint not found; no attention maps for {backbone}/{train_set}"
                )
                parts.append(warning(warnings[-1]))
                continue
            cfg = TrainConfig.resolve(params, experiment, backbone, train_set, LIVR, seed)
            model, processor, meta = load_trained(
                backbone,
                checkpoint,
                layout.models,
                cfg.backbone_settings,
                resolve_dtype(cfg.dtype, device),
                "eager",
                device,
            )
            spec = get_backbone(backbone)
            for task in group["task"]:
                task_dir, records = test_records(params, experiment, task)
                if not records:
                    warnings.append(
                        f"{task_dir}: test data not found; no attention maps for {backbone}/{train_set} on {task}"
                    )
                    parts.append(warning(warnings[-1]))
                    continue
                preds = predictions_of(con, experiment, backbone, train_set, task, seed)
                chosen = [r for r in records.values() if (LIVR, r.id) in preds][:n_examples]
                cell = esc(task) + ("" if train_set == task else f" (trained on {esc(train_set)})")
                for rec in chosen:
                    images = load_images(rec, task_dir)
                    att = latent_image_attention(model, processor, spec, meta, rec, images, layers)
                    tag = img_tag(
                        png_uri(example_figure(images, att.grids)),
                        "attn",
                        f"latent attention {rec.id}",
                        id=rec.id,
                        backbone=backbone,
                        task=task,
                    )
                    parts.append(
                        f'<figure class="attn-fig">{tag}<figcaption><b>{cell}</b><br>'
                        f"{_caption(rec, att, preds)}</figcaption></figure>"
                    )
                    n_maps += 1
            del model
        parts.append("</div>")
    return "".join(parts), n_maps
