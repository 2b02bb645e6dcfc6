"""jigsaw: picture of a gradient, a large disc and two bands crossing into the blacked-out
bottom-right quadrant; candidates are the true quadrant and the same quadrant of another picture
whose edges clearly do not continue the first image (mean edge mismatch >= MIN_DISTRACTOR_MISMATCH)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import PALETTE, PALETTE_NAMES
from livr.data.synthetic.sampling import pick, sample_until

DISTRACTOR_TRIES = 50
MIN_DISTRACTOR_MISMATCH = 25.0  # mean absolute 8-bit difference along the quadrant's top/left edges


def _picture(rng, S):
    k = S / 112
    H = S // 2
    names = pick(rng, PALETTE_NAMES, 5)
    top, bottom, disc, hband, vband = (PALETTE[n] for n in names)
    arr = np.empty((S, S, 3), np.float64)
    t = np.linspace(0, 1, S)[:, None]
    arr[:] = (np.array(top) * (1 - t) + np.array(bottom) * t)[:, None, :]
    img = Image.fromarray(np.round(arr).astype(np.uint8).reshape(S, S, 3))
    draw = ImageDraw.Draw(img)
    dcx, dcy = H + rng.uniform(-12, 12) * k, H + rng.uniform(-12, 12) * k
    dr = rng.uniform(20, 30) * k
    draw.ellipse([round(dcx - dr), round(dcy - dr), round(dcx + dr), round(dcy + dr)], fill=disc)
    hy, hh = rng.uniform(H + 6 * k, S - 22 * k), rng.uniform(14, 18) * k
    draw.rectangle([0, round(hy), S - 1, round(hy + hh) - 1], fill=hband)
    vx, vw = rng.uniform(H + 6 * k, S - 22 * k), rng.uniform(14, 18) * k
    draw.rectangle([round(vx), 0, round(vx + vw) - 1, S - 1], fill=vband)
    params = {
        "colors": {"top": names[0], "bottom": names[1], "disc": names[2], "hband": names[3], "vband": names[4]},
        "disc": [round(dcx, 2), round(dcy, 2), round(dr, 2)],
        "hband": [round(hy, 2), round(hh, 2)],
        "vband": [round(vx, 2), round(vw, 2)],
    }
    return img, params


def edge_mismatch(first: np.ndarray, patch: np.ndarray) -> float:
    """Mean absolute difference between a candidate patch's top/left edges and the pixels bordering
    the blacked-out bottom-right quadrant of the first image (lower = fits better)."""
    S = first.shape[0]
    H = S // 2
    f, p = first.astype(np.float64), patch.astype(np.float64)
    top = np.abs(p[0, :, :] - f[H - 1, H:, :]).mean()
    left = np.abs(p[:, 0, :] - f[H:, H - 1, :]).mean()
    return float((top + left) / 2)


def generate(rng, S, gold):
    H = S // 2
    pic, params = _picture(rng, S)
    full = np.asarray(pic)
    true_patch = full[H:, H:].copy()
    first = full.copy()
    first[H:, H:] = 0

    def distractor():
        other, oparams = _picture(rng, S)
        return np.asarray(other)[H:, H:].copy(), oparams

    wrong_patch, oparams = sample_until(
        distractor,
        lambda d: (
            None
            if edge_mismatch(first, d[0]) >= MIN_DISTRACTOR_MISMATCH
            else f"edge mismatch < {MIN_DISTRACTOR_MISMATCH:g} (the distractor would fit)"
        ),
        DISTRACTOR_TRIES,
        "jigsaw: distractor quadrant",
    )
    cands = [None, None]
    cands[gold] = true_patch
    cands[1 - gold] = wrong_patch
    images = [Image.fromarray(first)] + [Image.fromarray(c) for c in cands]
    meta = {
        "picture": params,
        "distractor_picture": oparams,
        "edge_mismatch": {
            "true": round(edge_mismatch(first, true_patch), 3),
            "distractor": round(edge_mismatch(first, wrong_patch), 3),
        },
    }
    return images, list(TASK_SPECS["jigsaw"].choices), LETTERS[gold], meta, {}
