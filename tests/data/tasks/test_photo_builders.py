"""The counting, jigsaw and localization builders (paper Appendix A) on fixtures in the sources'
formats: every constraint the paper states is recomputed from the records' meta."""

import collections
import io
import json

import numpy as np
import pytest
from _httpserver import Files, serve
from photo_fixtures import fake_hub_snapshot, natural, write_blink_hub, write_coco, write_pixmo_hub
from PIL import Image

from livr.data.download import write_manifest
from livr.data.schema import read_split
from livr.data.sources import blink, coco, pixmo_count
from livr.data.tasks import counting, jigsaw, localization
from livr.errors import InputError


def reencode(im, size=None):
    if size:
        im = im.resize(size)
    b = io.BytesIO()
    im.save(b, "JPEG", quality=60)
    b.seek(0)
    return Image.open(b).convert("RGB")


def coco_train_image(i):
    return natural(500 + i)


def coco_val_image(i):
    return natural(900 + i)


PLANTED_TRAIN = (0, 1)  # COCO train images with a near-duplicate planted in the BLINK test sets


def _anns(i, w, h):
    # one qualifying box (~30% of the image, 80% filled), a crowd box, a low-fill box, a tiny box
    return [
        ((40, 30, 0.55 * w, 0.55 * h), 0.8, 0, 1),
        ((0, 0, 0.6 * w, 0.6 * h), 1.0, 1, 2),
        ((10, 10, 0.5 * w, 0.5 * h), 0.4, 0, 2),
        ((5, 5, 20, 20), 1.0, 0, 1),
    ]


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    hub = root.parent / (root.name + "_hub")
    # COCO: 30 train + 12 val images, already extracted
    write_coco(root / "coco2017", "train2017", [coco_train_image(i) for i in range(30)], _anns, start_id=1)
    write_coco(root / "coco2017", "val2017", [coco_val_image(i) for i in range(12)], _anns, start_id=1000)
    write_manifest(root / "coco2017", {"source": "coco2017", "fixture": True})
    # BLINK: test images; two are near-duplicates of COCO train images 0 and 1
    dup = [reencode(coco_train_image(i), (200, 150)) for i in PLANTED_TRAIN]
    write_blink_hub(
        hub / "blink",
        {
            "Jigsaw": [[dup[0], natural(70), natural(71)], [natural(72), natural(73), natural(74)]],
            "Object_Localization": [[dup[1]], [natural(75)], [natural(76)]],
        },
    )
    blink.hub_snapshot, orig = fake_hub_snapshot(hub / "blink"), blink.hub_snapshot
    try:
        blink.download(root / "blink", {"configs": ["Jigsaw", "Object_Localization"]})
    finally:
        blink.hub_snapshot = orig
    # PixMo-Count: 4 train rows per count 2..10 plus dead ones; train row 0's image
    # near-duplicates test row 0; val row 0's image near-duplicates test row 1
    test_imgs = [natural(3000 + i) for i in range(4)]

    def image_for(split, i):
        if split == "test":
            return test_imgs[i]
        if split == "train" and i == 2:
            return reencode(test_imgs[0], (300, 220))
        if split == "validation" and i == 0:
            return reencode(test_imgs[1])
        return natural(4000 + hash((split, i)) % 10000)

    files = Files()
    with serve(files) as base:
        counts = {
            "train": [2, 2] + [c for c in range(2, 11) for _ in range(4)],
            "validation": [2, 3, 4, 5, 6],
            "test": [3, 4, 7, 9],
        }
        write_pixmo_hub(hub / "pixmo", files.data, base, counts, n_dead=2, image_for=image_for)
        orig = pixmo_count.hub_snapshot
        pixmo_count.hub_snapshot = fake_hub_snapshot(hub / "pixmo")
        try:
            pixmo_count.download(root / "pixmo_count", {"workers": 4, "retries": 0, "backoff": 0})
        finally:
            pixmo_count.hub_snapshot = orig
    return root


def _splits(d):
    return {s: read_split(d, s) for s in ("train", "val", "test")}


def test_counting(raw_root, tmp_path):
    # 27 = 3 per count needs every live count-2 row (4 live, one a planted near-duplicate)
    out = counting.build(raw_root, tmp_path / "counting", {"n_train": 27}, seed=1)
    sp = _splits(out)
    assert len(sp["train"]) == 27
    assert collections.Counter(int(r.answer) for r in sp["train"]) == {c: 3 for c in range(2, 11)}
    assert all(2 <= int(r.answer) <= 10 and r.choices == [] for s in sp.values() for r in s)
    assert len(sp["test"]) == 4
    # val row 0 near-duplicates a test image -> dropped; the other 4 kept
    assert sorted(r.meta["pixmo_row"] for r in sp["val"]) == [1, 2, 3, 4]
    # train row 2 (planted) never used; dead rows 0, 1 absent
    assert {r.meta["pixmo_row"] for r in sp["train"]}.isdisjoint({0, 1, 2})
    shas = {s: {r.meta["image_sha256"] for r in recs} for s, recs in sp.items()}
    assert not (shas["train"] & shas["val"]) and not (shas["train"] & shas["test"]) and not (shas["val"] & shas["test"])
    assert "How many balls are there?" in sp["train"][0].question
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == {"train": 27, "val": 4, "test": 4} and m["dropped"]["n_near_duplicate_of_test"] == 2
    assert m["params"]["min_count"] == 2 and m["seed"] == 1


def test_counting_not_enough_train_is_clear(raw_root, tmp_path):
    with pytest.raises(ValueError, match="only .* usable train images"):
        counting.build(raw_root, tmp_path / "c", {"n_train": 500}, seed=1)
    with pytest.raises(InputError, match="unknown parameter.*n_trian.*valid keys"):
        counting.build(raw_root, tmp_path / "c", {"n_trian": 5}, seed=1)


def test_jigsaw_geometry(raw_root, tmp_path):
    out = jigsaw.build(raw_root, tmp_path / "jigsaw", {"n_train": 12, "n_val": 6}, seed=3)
    sp = _splits(out)
    assert [len(sp[s]) for s in ("train", "val", "test")] == [12, 6, 2]
    for split in ("train", "val"):
        recs = sp[split]
        assert collections.Counter(r.answer for r in recs) == {"A": len(recs) // 2, "B": len(recs) // 2}
        for r in recs:
            m = r.meta
            W, H = m["canvas_size"]
            assert W == 400 and 170 <= H <= 230
            canvas = np.asarray(Image.open(out / r.images[0]))
            assert canvas.shape[:2] == (H, W)
            assert canvas[H // 2 :, W // 2 :].max() == 0  # bottom-right quadrant blacked out
            assert canvas[: H // 2].mean() > 5
            t, d = m["true_box"], m["distractor_box"]
            cb = m["canvas_box"]
            assert t == [cb[0] + W // 2, cb[1] + H // 2, cb[2], cb[3]]
            iw = min(t[2], d[2]) - max(t[0], d[0])
            ih = min(t[3], d[3]) - max(t[1], d[1])
            assert iw <= 0 or ih <= 0  # no overlap
            dist = np.hypot((t[0] + t[2] - d[0] - d[2]) / 2, (t[1] + t[3] - d[1] - d[3]) / 2)
            assert dist >= np.hypot(*m["patch_size"]) - 1e-6
            pw, ph = m["patch_size"]
            for k in (1, 2):
                assert Image.open(out / r.images[k]).size == (pw, ph)
            # the true candidate is the true patch of the scaled image
            src = Image.open(raw_root / "coco2017" / m["coco_split"] / m["file_name"]).convert("RGB")
            scaled = src.resize(tuple(m["scaled_size"]), Image.Resampling.BICUBIC)
            true_img = np.asarray(Image.open(out / r.images[m["true_candidate"]])).astype(int)
            assert np.abs(true_img - np.asarray(scaled.crop(tuple(t))).astype(int)).mean() < 1.0
            assert r.answer == "AB"[m["true_candidate"] - 1]
    # split disjointness by source image, and planted near-duplicates never used
    assert {r.meta["coco_split"] for r in sp["train"]} == {"train2017"}
    assert {r.meta["coco_split"] for r in sp["val"]} == {"val2017"}
    assert 1 not in {r.meta["coco_image_id"] for r in sp["train"]}  # COCO train image 0 has id 1


@pytest.mark.parametrize("builder,planted_id", [(jigsaw, 1), (localization, 2)])
def test_dedup_removes_planted_near_duplicates(raw_root, tmp_path, builder, planted_id):
    # asking for more than exists visits every COCO train image: the planted one is dropped
    with pytest.raises(ValueError, match="'near_duplicate_of_test': 1"):
        builder.build(raw_root, tmp_path / "x", {"n_train": 100, "n_val": 2}, seed=3)
    out = builder.build(raw_root, tmp_path / "y", {"n_train": 20, "n_val": 2}, seed=3)
    train = read_split(out, "train")
    assert planted_id not in {r.meta["coco_image_id"] for r in train}
    m = json.loads((out / "manifest.json").read_text())
    for d in m["dropped"]["near_duplicate_of_test"]:
        assert d["source_image"] == f"train2017/{planted_id:012d}.jpg" and d["reason"].startswith("near-duplicate")


def test_localization_constraints(raw_root, tmp_path):
    out = localization.build(raw_root, tmp_path / "loc", {"n_train": 14, "n_val": 6}, seed=5)
    sp = _splits(out)
    assert [len(sp[s]) for s in ("train", "val", "test")] == [14, 6, 3]
    inst = {s: coco.load_instances(raw_root / "coco2017", s) for s in ("train2017", "val2017")}
    for split in ("train", "val"):
        recs = sp[split]
        assert collections.Counter(r.answer for r in recs) == {"A": len(recs) // 2, "B": len(recs) // 2}
        for r in recs:
            m = r.meta
            ann = next(a for a in inst[m["coco_split"]].annotations if a["id"] == m["annotation_id"])
            assert ann["iscrowd"] == 0
            W, H = m["image_size"]
            g = m["gold_box"]
            cov = (g[2] - g[0]) * (g[3] - g[1]) / (W * H)
            assert 0.15 <= cov <= 0.50
            assert coco.mask_fill_ratio(ann) >= 0.6
            assert 0.2 <= localization.iou(g, m["distractor_box"]) <= 0.5
            assert m["boxes"][r.answer] == g and m["boxes"]["AB".replace(r.answer, "")] == m["distractor_box"]
            assert "Box A" in r.question and "(B) Box B" in r.question and m["category"] in r.question
            img = np.asarray(Image.open(out / r.images[0]))
            assert img.shape[:2] == (H, W)
            x0, y0 = int(round(g[0])), int(round(g[1]))
            col = img[y0 + 5, x0 + 1]  # the gold box's left edge carries its letter's colour
            assert tuple(col) == tuple(localization.DEFAULTS["box_colors"][r.answer])
    assert {r.meta["coco_image_id"] for r in sp["train"]}.isdisjoint({r.meta["coco_image_id"] for r in sp["val"]})
    assert 2 not in {r.meta["coco_image_id"] for r in sp["train"]}  # planted near-duplicate of COCO train image 1


def test_localization_jitter_iou_range():
    import random

    rng = random.Random(0)
    for _ in range(50):
        b, v = localization.jitter_box([50, 60, 150, 200], (300, 300), localization.DEFAULTS, rng)
        assert 0.2 <= v <= 0.5 and all(0 <= x <= 300 for x in b)


def test_same_seed_same_output(raw_root, tmp_path):
    a = localization.build(raw_root, tmp_path / "a", {"n_train": 6, "n_val": 2}, seed=9)
    b = localization.build(raw_root, tmp_path / "b", {"n_train": 6, "n_val": 2}, seed=9)
    assert (a / "train.jsonl").read_text() == (b / "train.jsonl").read_text()
