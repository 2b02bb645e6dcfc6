"""Procedural tasks: valid records, balanced answers, deterministic builds, and answers that a
hand-written solver recovers from the rendered pixels alone (the oracle checks).

The oracles read only the PNG files plus the documented rendering conventions (mark colours;
visual correspondence's all-red rings told apart by the letters beside them,
black label text, the jigsaw quadrant, the box outline width); never `answer` or `meta`.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import SPLITS, read_split
from livr.data.synthetic import (
    BLINK_RED,
    BOX_WIDTH,
    LABEL_COLOR,
    MARK_COLORS,
    SYNTHETIC_TASKS,
    build_synthetic_task,
    srgb_to_linear,
)
from livr.data.synthetic.drawing import mark_points

N = {"train": 60, "val": 12, "test": 48}
SEED = 7
N_IMAGES = {
    "counting": 1,
    "jigsaw": 3,
    "localization": 1,
    "visual_correspondence": 2,
    "art_style": 3,
    "semantic_correspondence": 2,
    "functional_correspondence": 2,
    "relative_reflectance": 1,
    "visual_similarity": 3,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    for task in SYNTHETIC_TASKS:
        build_synthetic_task(task, root / task, N["train"], N["val"], N["test"], seed=SEED)
    return root


def _load(task_dir: Path, rec, j: int) -> np.ndarray:
    return np.asarray(Image.open(task_dir / rec.images[j]).convert("RGB"))


def _digest(task_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(task_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(task_dir.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


# ---------------------------------------------------------------------------------------------
# pixel readers used by the oracles


def _mark_center(a: np.ndarray, name: str):
    ys, xs = np.nonzero(np.all(a == np.array(MARK_COLORS[name], np.uint8), axis=2))
    assert len(xs) > 0, f"mark {name} not found"
    return float(xs.mean()), float(ys.mean())


def _special(a: np.ndarray) -> np.ndarray:
    """Pixels that are marks or label text (exact colours) or anti-aliased label edges (dark)."""
    m = np.zeros(a.shape[:2], bool)
    for c in (*MARK_COLORS.values(), LABEL_COLOR):
        m |= np.all(a == np.array(c, np.uint8), axis=2)
    return m


def _interior(a: np.ndarray, center, r: float = 5.0) -> np.ndarray:
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    disk = (xx - center[0]) ** 2 + (yy - center[1]) ** 2 <= r * r
    px = a[disk & ~_special(a)]
    return np.median(px.astype(np.float64), axis=0)


def _colour_counts(a: np.ndarray):
    cols, counts = np.unique(a.reshape(-1, 3), axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [tuple(int(v) for v in cols[i]) for i in order], [int(counts[i]) for i in order]


def _object_mask(a: np.ndarray, min_count: int = 40) -> np.ndarray:
    """Pixels of frequent colours other than the background (the most frequent) and the marks."""
    cols, counts = _colour_counts(a)
    special = {*MARK_COLORS.values(), LABEL_COLOR}
    keep = [c for c, n in zip(cols[1:], counts[1:]) if n >= min_count and c not in special]
    m = np.zeros(a.shape[:2], bool)
    for c in keep:
        m |= np.all(a == np.array(c, np.uint8), axis=2)
    return m


def _components(mask: np.ndarray, min_size: int) -> int:
    seen = np.zeros_like(mask)
    h, w = mask.shape
    n = 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        stack, size = [(y0, x0)], 0
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            size += 1
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        n += size >= min_size
    return n


def _bbox(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _letters(rec) -> list[str]:
    return ["A", "B", "C", "D", "E"][: len(rec.choices)]


# ---------------------------------------------------------------------------------------------
# oracles: (task_dir, record) -> predicted answer, from pixels only


def oracle_counting(d, rec):
    a = _load(d, rec, 0)
    cols, _ = _colour_counts(a)
    return str(_components(np.any(a != np.array(cols[0], np.uint8), axis=2), min_size=20))


def oracle_jigsaw(d, rec):
    first = _load(d, rec, 0).astype(np.float64)
    h = first.shape[0] // 2
    scores = []
    for j in (1, 2):
        p = _load(d, rec, j).astype(np.float64)
        scores.append(np.abs(p[0] - first[h - 1, h:]).mean() + np.abs(p[:, 0] - first[h:, h - 1]).mean())
    return "AB"[int(np.argmin(scores))]


def oracle_localization(d, rec):
    a = _load(d, rec, 0)
    cols, _ = _colour_counts(a)
    special = {*MARK_COLORS.values(), LABEL_COLOR}
    obj = next(c for c in cols[1:] if c not in special)
    target = _bbox(np.all(a == np.array(obj, np.uint8), axis=2))
    ious = []
    for name in "AB":
        x0, y0, x1, y1 = _bbox(np.all(a == np.array(MARK_COLORS[name], np.uint8), axis=2))
        ious.append(_iou(target, (x0 + BOX_WIDTH, y0 + BOX_WIDTH, x1 - BOX_WIDTH, y1 - BOX_WIDTH)))
    return "AB"[int(np.argmax(ious))]


def _red_rings(a: np.ndarray) -> list[tuple[float, float]]:
    """Centres of the BLINK-red rings (every visual-correspondence mark): the box centre of each
    8-connected group of red pixels."""
    red = np.all(a == np.array(BLINK_RED, np.uint8), axis=2)
    seen = np.zeros_like(red)
    centres = []
    for y0, x0 in zip(*np.nonzero(red)):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        stack, ys, xs = [(y0, x0)], [], []
        while stack:
            y, x = stack.pop()
            ys.append(y)
            xs.append(x)
            for ny in range(max(0, y - 1), min(red.shape[0], y + 2)):
                for nx in range(max(0, x - 1), min(red.shape[1], x + 2)):
                    if red[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        centres.append(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    return centres


def _label_match(a: np.ndarray, centre, letter: str) -> float:
    """How well the label `letter`, drawn beside a ring at `centre` by the documented convention on a
    blank canvas, matches the image's dark pixels there (correlation)."""
    canvas = Image.new("RGB", (a.shape[1], a.shape[0]), (255, 255, 255))
    mark_points(canvas, {letter: centre}, a.shape[0] / 112, {letter: (255, 255, 255)})
    glyph = 255.0 - np.asarray(canvas, np.float64).mean(axis=2)
    ys, xs = np.nonzero(glyph)
    window = (slice(max(0, ys.min() - 1), ys.max() + 2), slice(max(0, xs.min() - 1), xs.max() + 2))
    darkness = 255.0 - a[window].astype(np.float64).mean(axis=2)
    return np.corrcoef(glyph[window].ravel(), darkness.ravel())[0, 1]


def _read_labels(a: np.ndarray, rings, letters) -> dict[str, tuple[float, float]]:
    """letter -> ring: the one-to-one assignment whose labels match the pixels best (a label can sit
    next to a neighbouring ring, so each ring is not read alone)."""
    score = {(i, L): _label_match(a, c, L) for i, c in enumerate(rings) for L in letters}
    best = max(itertools.permutations(letters), key=lambda p: sum(score[i, L] for i, L in enumerate(p)))
    return {L: rings[i] for i, L in enumerate(best)}


def oracle_visual_correspondence(d, rec):
    a1, a2 = _load(d, rec, 0), _load(d, rec, 1)
    bg1 = np.array(_colour_counts(a1)[0][0], np.float64)
    bg2 = np.array(_colour_counts(a2)[0][0], np.float64)
    gain = bg2.sum() / bg1.sum()
    (ref_ring,) = _red_rings(a1)
    ref = _interior(a1, ref_ring) * gain
    rings = _red_rings(a2)
    assert len(rings) == len(_letters(rec)), f"{rec.id}: {len(rings)} red rings on the second image"
    named = _read_labels(a2, rings, _letters(rec))
    dists = [np.linalg.norm(_interior(a2, named[L]) - ref) for L in _letters(rec)]
    return _letters(rec)[int(np.argmin(dists))]


def _normalised(mask, pt):
    x0, y0, x1, y1 = _bbox(mask)
    return np.array([(pt[0] - x0) / (x1 - x0), (pt[1] - y0) / (y1 - y0)])


def oracle_semantic_correspondence(d, rec):
    a1, a2 = _load(d, rec, 0), _load(d, rec, 1)
    ref = _normalised(_object_mask(a1), _mark_center(a1, "REF"))
    m2 = _object_mask(a2)
    dists = [np.linalg.norm(_normalised(m2, _mark_center(a2, L)) - ref) for L in _letters(rec)]
    return _letters(rec)[int(np.argmin(dists))]


def _axis_position(mask, pt):
    """Position of pt along the tool's main axis: 0 at the thin (handle) end, 1 at the wide end."""
    ys, xs = np.nonzero(mask)
    P = np.stack([xs, ys], 1).astype(np.float64)
    mu = P.mean(0)
    _, vecs = np.linalg.eigh(np.cov((P - mu).T))
    axis, perp = vecs[:, 1], vecs[:, 0]
    t, s = (P - mu) @ axis, (P - mu) @ perp
    lo, hi = t.min(), t.max()
    f = (t - lo) / (hi - lo)
    wide_at_hi = s[f >= 0.5].std() > s[f < 0.5].std()
    ft = ((np.asarray(pt) - mu) @ axis - lo) / (hi - lo)
    return ft if wide_at_hi else 1 - ft


def oracle_functional_correspondence(d, rec):
    a1, a2 = _load(d, rec, 0), _load(d, rec, 1)
    ref = _axis_position(_object_mask(a1), _mark_center(a1, "REF"))
    m2 = _object_mask(a2)
    dists = [abs(_axis_position(m2, _mark_center(a2, L)) - ref) for L in _letters(rec)]
    return _letters(rec)[int(np.argmin(dists))]


def oracle_art_style(d, rec):
    palettes = []
    for j in range(3):
        cols, counts = _colour_counts(_load(d, rec, j))
        palettes.append({c for c, n in zip(cols, counts) if n >= 50})
    shared = [len(palettes[0] & palettes[j]) for j in (1, 2)]
    return "AB"[int(np.argmax(shared))] if shared[0] != shared[1] else "?"


def oracle_relative_reflectance(d, rec):
    a = _load(d, rec, 0)
    ya, yb = (srgb_to_linear(float(_interior(a, _mark_center(a, L)).mean())) for L in "AB")
    if abs(ya - yb) / max(ya, yb, 1e-8) <= 0.10:
        return "C"
    return "A" if ya < yb else "B"


def oracle_visual_similarity(d, rec):
    ref = _load(d, rec, 0).astype(np.float64)
    mse = [((_load(d, rec, j).astype(np.float64) - ref) ** 2).mean() for j in (1, 2)]
    return "AB"[int(np.argmin(mse))]


ORACLES = {
    "counting": oracle_counting,
    "jigsaw": oracle_jigsaw,
    "localization": oracle_localization,
    "visual_correspondence": oracle_visual_correspondence,
    "art_style": oracle_art_style,
    "semantic_correspondence": oracle_semantic_correspondence,
    "functional_correspondence": oracle_functional_correspondence,
    "relative_reflectance": oracle_relative_reflectance,
    "visual_similarity": oracle_visual_similarity,
}


# ---------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_records_valid_sizes_and_shape(built, task):
    d = built / task
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["counts"] == N and manifest["seed"] == SEED and manifest["task"] == task
    for split in SPLITS:
        recs = read_split(d, split)
        assert len(recs) == N[split]
        for r in recs:
            assert r.task == task and r.split == split and r.source == "synthetic"
            assert len(r.images) == N_IMAGES[task]
            assert r.choices == list(TASK_SPECS[task].choices)
            assert r.question.endswith(
                "Answer with a single number." if task == "counting" else f"({_letters(r)[-1]}) {r.choices[-1]}"
            )
            for p in r.images:
                im = Image.open(d / p)
                assert im.mode == "RGB" and im.size[0] % 14 == 0 and im.size[1] % 14 == 0


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_splits_share_no_image(built, task):
    d = built / task
    seen: dict[str, str] = {}
    for split in SPLITS:
        for r in read_split(d, split):
            key = "|".join(hashlib.sha256((d / p).read_bytes()).hexdigest() for p in r.images)
            assert key not in seen, f"{r.id} duplicates {seen[key]}"
            seen[key] = r.id


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_answers_balanced(built, task):
    recs = read_split(built / task, "train") + read_split(built / task, "test")
    counts = collections.Counter(r.answer for r in recs)
    n = len(recs)
    if task == "counting":
        assert set(counts) == {str(c) for c in range(2, 11)}
        assert max(counts.values()) - min(counts.values()) <= 2
    elif task == "relative_reflectance":
        assert abs(counts["C"] / n - 0.25) <= 0.03
        assert abs(counts["A"] - counts["B"]) <= 2
    else:
        k = len(TASK_SPECS[task].choices)
        assert set(counts) == set("ABCD"[:k])
        assert max(counts.values()) - min(counts.values()) <= 2


def test_determinism(tmp_path):
    for task in SYNTHETIC_TASKS:
        a, b, c = tmp_path / f"{task}_a", tmp_path / f"{task}_b", tmp_path / f"{task}_c"
        build_synthetic_task(task, a, 6, 3, 4, seed=11)
        build_synthetic_task(task, b, 6, 3, 4, seed=11)
        build_synthetic_task(task, c, 6, 3, 4, seed=12)
        da, db, dc = _digest(a), _digest(b), _digest(c)
        assert da == db, f"{task}: same seed gave different files"
        assert da.keys() == dc.keys()
        assert da["train.jsonl"] != dc["train.jsonl"]
        pngs = [k for k in da if k.endswith(".png")]
        assert sum(da[k] != dc[k] for k in pngs) >= len(pngs) // 2


def test_counting_range(built):
    for split in SPLITS:
        for r in read_split(built / "counting", split):
            assert 2 <= int(r.answer) <= 10 and r.meta["count"] == int(r.answer)
            assert len(r.meta["shapes"]) == int(r.answer)
            assert r.question == format_question("counting", [], object_name=r.meta["shape"] + "s")


def test_reflectance_rule_from_meta(built):
    for split in SPLITS:
        for r in read_split(built / "relative_reflectance", split):
            ya, yb = r.meta["YA"], r.meta["YB"]
            rel = abs(ya - yb) / max(ya, yb, 1e-8)
            assert rel == pytest.approx(r.meta["rel"])
            want = "C" if rel <= 0.10 else ("A" if ya < yb else "B")
            assert r.answer == want
            assert ya == pytest.approx(srgb_to_linear(r.meta["grey_A"]))


def test_localization_iou_from_meta(built):
    for split in SPLITS:
        for r in read_split(built / "localization", split):
            gold, dis = r.meta["gold_box"], r.meta["distractor_box"]
            assert 0.2 <= _iou(gold, dis) <= 0.5
            assert r.meta["boxes"][r.answer] == gold
            area = (gold[2] - gold[0]) * (gold[3] - gold[1]) / 112**2
            assert 0.15 - 0.02 <= area <= 0.5 + 0.02


ORACLE_N = 40


@pytest.mark.parametrize("task", SYNTHETIC_TASKS)
def test_oracle_reads_answer_from_pixels(built, task):
    d = built / task
    recs = read_split(d, "test")[:ORACLE_N]
    wrong = [(r.id, r.answer, ORACLES[task](d, r)) for r in recs]
    wrong = [w for w in wrong if w[1] != w[2]]
    acc = 1 - len(wrong) / len(recs)
    assert acc >= 0.95, f"{task}: oracle accuracy {acc:.2%}; wrong: {wrong[:5]}"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown synthetic task"):
        build_synthetic_task("depth", tmp_path / "x", 1, 1, 1, seed=0)
    with pytest.raises(ValueError, match="multiple of 28"):
        build_synthetic_task("counting", tmp_path / "x", 1, 1, 1, seed=0, image_size=100)
    with pytest.raises(ValueError, match="at least one"):
        build_synthetic_task("counting", tmp_path / "x", 0, 1, 1, seed=0)
    assert not (tmp_path / "x").exists()


def test_prompts_blink_shape():
    q = format_question("relative_reflectance", list(TASK_SPECS["relative_reflectance"].choices))
    assert q.endswith("Select from the following choices.\n(A) A is darker\n(B) B is darker\n(C) About the same")
    q = format_question("jigsaw", list(TASK_SPECS["jigsaw"].choices))
    assert "\nSelect from the following choices.\n(A) the second image\n(B) the third image" in q
    assert "{" not in format_question("localization", ["Box A", "Box B"], object_name="dog")
    assert "the dog?" in format_question("localization", ["Box A", "Box B"], object_name="dog")
    assert '"Pound"' in format_question(
        "functional_correspondence", list(TASK_SPECS["functional_correspondence"].choices), action="Pound"
    )
    assert format_question("counting", [], object_name="cats").startswith("How many cats are there?")
    with pytest.raises(ValueError):
        format_question("counting", ["1", "2"])
    with pytest.raises(ValueError):
        format_question("jigsaw", [])
    with pytest.raises(ValueError):
        format_question("depth", ["x"])


# ---------------------------------------------------------------------------------------------
# rejection sampling: running out of tries raises, an invalid draw is never kept


def test_sample_until_returns_first_valid_draw_and_raises_when_none_is():
    from livr.data.synthetic.sampling import RejectionSamplingError, sample_until

    draws = iter(range(10))
    assert sample_until(lambda: next(draws), lambda v: None if v >= 3 else "below 3", 5, "a number") == 3
    assert next(draws) == 4  # stopped drawing at the first valid value
    values = iter([0, 2, 1, 0])
    expected = r"a number: none of 4 draws was valid: below 3 \(3x\); odd \(1x\)"
    with pytest.raises(RejectionSamplingError, match=expected):
        sample_until(lambda: next(values), lambda v: "odd" if v % 2 else ("below 3" if v < 3 else None), 4, "a number")
    with pytest.raises(ValueError, match="tries=0"):
        sample_until(lambda: 1, lambda v: None, 0, "a number")


@pytest.mark.parametrize(
    "task, module, knobs, constraint",
    [
        (
            "localization",
            "localization",
            {"DISTRACTOR_TRIES": 1},
            "localization: distractor box .* IoU with the object's box outside",
        ),
        (
            "jigsaw",
            "jigsaw",
            {"MIN_DISTRACTOR_MISMATCH": 1e9},
            "jigsaw: distractor quadrant: none of 50 draws .* edge mismatch <",
        ),
        ("visual_similarity", "visual_similarity", {"MIN_DISTANCE_RATIO": 1e9}, "visual_similarity: .* negative MSE <"),
        (
            "functional_correspondence",
            "functional_correspondence",
            {"POSE_TRIES": 1, "TOOL_TRIES": 1},
            "functional_correspondence: placing a .*: none of 1 draws was valid: no pose in 1 draws fits",
        ),
        (
            "relative_reflectance",
            "relative_reflectance",
            {"POINT_TRIES": 1, "GRID_TRIES": 1},
            "relative_reflectance: (region grid|points A and B): none of 1 draws",
        ),
    ],
)
def test_generator_out_of_tries_raises_naming_example_and_constraint(
    tmp_path, monkeypatch, task, module, knobs, constraint
):
    import importlib

    from livr.data.synthetic import RejectionSamplingError

    mod = importlib.import_module(f"livr.data.synthetic.{module}")
    for name, value in knobs.items():
        assert hasattr(mod, name)
        monkeypatch.setattr(mod, name, value)
    where = rf"synthetic-{task}-train-\d{{5}} \(seed 0, 112 px\): "
    with pytest.raises(RejectionSamplingError, match=where + constraint):
        build_synthetic_task(task, tmp_path / task, 30, 1, 1, seed=0)
    assert not (tmp_path / task).exists()


def test_functional_correspondence_tools_stay_inside_the_image(built):
    """The pose loop used to keep its last (invalid) pose for ~7% of tools, drawing them across the
    border; now a tool no pose fits is redrawn. Tool colours never touch the image border."""
    from livr.data.synthetic.drawing import PALETTE

    d = built / "functional_correspondence"
    for split in SPLITS:
        for r in read_split(d, split):
            for j, tool in enumerate(r.meta["tools"]):
                a = _load(d, r, j)
                border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
                for name in tool["colors"].values():
                    assert not np.all(border == np.array(PALETTE[name], np.uint8), axis=1).any(), (r.id, j, name)
