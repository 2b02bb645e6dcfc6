"""The builders of visual, semantic and functional correspondence, art style, relative reflectance
and visual similarity on tiny fixtures in each source's own layout (offline, seconds)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import relational_fixtures as fx
from PIL import Image

from livr.data.schema import read_split
from livr.data.sources import hpatches, mid
from livr.data.tasks import (
    art_style,
    functional_correspondence,
    relative_reflectance,
    semantic_correspondence,
    visual_correspondence,
    visual_similarity,
)
from livr.errors import InputError


def manifest(d: Path) -> dict:
    return json.loads((d / "manifest.json").read_text())


def splits(d: Path) -> dict:
    return {s: read_split(d, s) for s in ("train", "val", "test")}


def patch_blink(monkeypatch, module, task, **kw):
    recs, imgs = fx.blink_fixture(task, **kw)
    monkeypatch.setattr(module, "blink_test", lambda raw_root, t: (recs, imgs) if t == task else pytest.fail(t))
    return recs, imgs


# ---------------------------------------------------------------------------- visual correspondence
VC_CFG = {"n_train": 24, "n_val": 8, "n_test": 8, "max_side": 96}


@pytest.fixture()
def hp_raw(tmp_path):
    raw = tmp_path / "raw"
    fx.make_hpatches(raw / "hpatches" / "extracted")
    return raw


def test_visual_correspondence_geometry_and_splits(hp_raw, tmp_path):
    out = tmp_path / "vc"
    visual_correspondence.build(hp_raw, out, VC_CFG, seed=1)
    sp, man = splits(out), manifest(out)
    assert {k: len(v) for k, v in sp.items()} == {"train": 24, "val": 8, "test": 8}
    seqs = man["sequences"]
    # sequence-level disjointness, both kinds in train
    assert not set(seqs["train"]) & set(seqs["test"]) and not set(seqs["val"]) & set(seqs["test"])
    assert not set(seqs["train"]) & set(seqs["val"])
    assert {s[0] for s in seqs["train"]} == {"v", "i"}
    root = hpatches.sequences_root(hp_raw / "hpatches")
    for split, recs in sp.items():
        for r in recs:
            m = r.meta
            assert m["sequence"] in seqs[split]
            i, j = m["pair"]
            assert j - i >= 2
            # recompute the true point from the raw homography files
            H1i = np.eye(3) if i == 1 else hpatches.read_homography(root / m["sequence"] / f"H_1_{i}")
            H1j = hpatches.read_homography(root / m["sequence"] / f"H_1_{j}")
            H = H1j @ np.linalg.inv(H1i)
            x, y = m["ref_point"]
            p = H @ np.array([x / m["scale_i"], y / m["scale_i"], 1.0])
            true = (p[0] / p[2] * m["scale_j"], p[1] / p[2] * m["scale_j"])
            assert np.allclose(true, m["true_point"], atol=0.02)
            opts = m["options"]
            assert np.allclose(opts["ABCD".index(r.answer)], m["true_point"])
            w, h = Image.open(out / r.images[1]).size
            far = VC_CFG.get("distractor_min_dist_frac", 0.15) * min(w, h)
            for k, o in enumerate(opts):
                if k != "ABCD".index(r.answer):
                    assert np.hypot(o[0] - true[0], o[1] - true[1]) >= far - 1e-6
            assert r.choices == ["Point A", "Point B", "Point C", "Point D"]
            assert "REF" in r.question
    c = Counter(r.answer for r in sp["train"])
    assert set(c) == set("ABCD") and max(c.values()) - min(c.values()) <= 1


def test_visual_correspondence_dedup_drops_planted_duplicate(hp_raw, tmp_path):
    visual_correspondence.build(hp_raw, tmp_path / "a", VC_CFG, seed=1)
    seqs = manifest(tmp_path / "a")["sequences"]
    root = hpatches.sequences_root(hp_raw / "hpatches")
    victim = seqs["train"][0]
    shutil.copyfile(root / seqs["test"][0] / "3.ppm", root / victim / "2.ppm")
    visual_correspondence.build(hp_raw, tmp_path / "b", VC_CFG, seed=1)
    man = manifest(tmp_path / "b")
    assert victim not in man["sequences"]["train"]
    assert any(d["sequence"] == victim for d in man["dropped"]["dedup_sequences"])
    assert all(r.meta["sequence"] != victim for r in read_split(tmp_path / "b", "train"))


def test_visual_correspondence_deterministic(hp_raw, tmp_path):
    visual_correspondence.build(hp_raw, tmp_path / "a", VC_CFG, seed=3)
    visual_correspondence.build(hp_raw, tmp_path / "b", VC_CFG, seed=3)
    assert (tmp_path / "a" / "train.jsonl").read_text() == (tmp_path / "b" / "train.jsonl").read_text()


# ---------------------------------------------------------------------------- art style
def test_art_style(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    fx.make_artbench(raw / "artbench10" / "extracted", per_style=16)
    blink_recs, _ = patch_blink(monkeypatch, art_style, "art_style", n_images=3)
    out = tmp_path / "as"
    art_style.build(raw, out, {"n_train": 20, "n_val": 6}, seed=0)
    sp = splits(out)
    assert len(sp["train"]) == 20 and len(sp["val"]) == 6
    assert [r.id for r in sp["test"]] == [r.id for r in blink_recs]
    used = []
    for r in sp["train"] + sp["val"]:
        m = r.meta
        assert m["positive"]["style"] == m["reference"]["style"]
        assert m["negative"]["style"] != m["reference"]["style"]
        assert m["positive"]["shown_as_image"] == 2 + "AB".index(r.answer)
        assert len(r.images) == 3 and r.choices == ["the second image", "the third image"]
        used += [m["reference"]["file"], m["positive"]["file"], m["negative"]["file"]]
    assert len(used) == len(set(used))  # no image used twice (train/val disjoint)
    ref_styles = Counter(r.meta["reference"]["style"] for r in sp["train"])
    assert len(ref_styles) == 10 and max(ref_styles.values()) - min(ref_styles.values()) <= 1
    assert Counter(r.answer for r in sp["train"]) == {"A": 10, "B": 10}


# ---------------------------------------------------------------------------- semantic correspondence
def test_semantic_correspondence(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    base = fx.make_spair(raw / "spair71k" / "extracted")
    patch_blink(monkeypatch, semantic_correspondence, "semantic_correspondence")
    out = tmp_path / "sc"
    semantic_correspondence.build(raw, out, {"n_train": 12, "n_val": 4}, seed=0)
    sp = splits(out)
    val_imgs = {(r.meta["category"], r.meta[k]) for r in sp["val"] for k in ("src_image", "trg_image")}
    for r in sp["train"] + sp["val"]:
        ann = json.loads((base / "PairAnnotation" / "trn" / r.meta["pair_file"]).read_text())
        assert len(ann["kps_ids"]) >= 4
        q = ann["kps_ids"].index(r.meta["ref_kp_id"])
        assert r.meta["option_kp_ids"]["ABCD".index(r.answer)] == r.meta["ref_kp_id"]
        assert len(set(r.meta["option_kp_ids"])) == 4
        assert np.allclose(r.meta["ref_point"], np.array(ann["src_kps"][q]) * r.meta["scale_src"], atol=0.01)
        true = r.meta["options"]["ABCD".index(r.answer)]
        assert np.allclose(true, np.array(ann["trg_kps"][q]) * r.meta["scale_trg"], atol=0.01)
    for r in sp["train"]:
        assert not {(r.meta["category"], r.meta["src_image"]), (r.meta["category"], r.meta["trg_image"])} & val_imgs
    assert len(sp["test"]) == 3


# ---------------------------------------------------------------------------- functional correspondence
FC_CFG = {"n_train": 12}  # val and test: every pair (the paper's default)


def test_functional_correspondence(tmp_path):
    raw = tmp_path / "raw"
    base = fx.make_funkpoint(raw / "funkpoint")
    out = tmp_path / "fc"
    functional_correspondence.build(raw, out, FC_CFG, seed=0)
    sp, man = splits(out), manifest(out)
    imgs = {s: set(v) for s, v in man["images"].items()}
    assert not imgs["train"] & imgs["test"] and not imgs["val"] & imgs["test"] and not imgs["train"] & imgs["val"]
    for action in ("Mash_Pound", "Pour"):  # balanced by action: every split has every action
        for s in imgs:
            assert any(k.startswith(action + "/") for k in imgs[s])
    anns = {}
    for action in ("Mash_Pound", "Pour"):
        for row in json.loads((base / "annotations" / f"{action}.json").read_text()):
            anns[f"{action}/{row['image']}"] = row
    for split, recs in sp.items():
        used = [r.meta[k] for r in recs for k in ("image_1", "image_2")]
        assert len(used) == len(set(used)), f"{split}: an image is used twice"  # one use per image
        for r in recs:
            m = r.meta
            assert m["image_1"] in imgs[split] and m["image_2"] in imgs[split]
            assert m["image_1"].split("/")[0] == m["image_2"].split("/")[0] == m["action"]
            assert m["option_kp_indices"]["ABCD".index(r.answer)] == m["ref_kp_index"]
            assert len(set(m["option_kp_indices"])) == 4
            assert anns[m["image_1"]]["keypoints"][m["ref_kp_index"]] is not None
            for k in m["option_kp_indices"]:
                assert anns[m["image_2"]]["keypoints"][k] is not None
            assert m["action"].replace("_", " ") in r.question
    # val / test default to every disjoint pair of their images, per action
    for split in ("val", "test"):
        per_action = Counter(k.split("/")[0] for k in imgs[split])
        assert len(sp[split]) == sum(n // 2 for n in per_action.values()) == man["pair_stats"][split]["pairs"]
    assert len(sp["train"]) == 12 and man["pair_stats"]["train"]["pairs"] == 16
    # pairs join different object categories where the action has them (NOT SPECIFIED choice)
    cross = [r.meta["category_1"] != r.meta["category_2"] for r in sp["train"]]
    assert sum(cross) >= len(cross) - 2


def test_functional_correspondence_refuses_more_examples_than_pairs(tmp_path):
    raw = tmp_path / "raw"
    fx.make_funkpoint(raw / "funkpoint")
    with pytest.raises(InputError, match=r"n_train: 17 examples asked, but the 32 train images make only 16 usable"):
        functional_correspondence.build(raw, tmp_path / "fc", {"n_train": 17}, seed=0)
    assert not (tmp_path / "fc").exists() and not list(tmp_path.glob(".fc.*"))


def test_functional_correspondence_dedup(tmp_path):
    raw = tmp_path / "raw"
    base = fx.make_funkpoint(raw / "funkpoint")
    functional_correspondence.build(raw, tmp_path / "a", FC_CFG, seed=0)
    man = manifest(tmp_path / "a")
    test_key, train_key = man["images"]["test"][0], man["images"]["train"][0]
    shutil.copyfile(base / "images" / test_key, base / "images" / train_key)
    functional_correspondence.build(raw, tmp_path / "b", FC_CFG, seed=0)
    man_b = manifest(tmp_path / "b")
    assert train_key not in man_b["images"]["train"]
    assert any(d["image"] == train_key for d in man_b["dropped"]["dedup_images"])


# ---------------------------------------------------------------------------- relative reflectance
def test_relative_reflectance_labels_follow_the_rule(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    fx.make_mid(raw / "mid", dirs=range(25))
    patch_blink(monkeypatch, relative_reflectance, "relative_reflectance", n_images=1, choices=("a", "b", "c"))
    out = tmp_path / "rr"
    relative_reflectance.build(raw, out, {"n_train": 40, "n_val": 12, "max_side": 90}, seed=0)
    sp, man = splits(out), manifest(out)
    assert man["params"]["photo_directions"] == list(range(25))  # paper: all 25 directions
    assert not set(man["scenes"]["train"]) & set(man["scenes"]["val"])
    assert not any(mid.is_test_scene(s) for s in man["scenes"]["train"] + man["scenes"]["val"])
    for split in ("train", "val"):
        pairs = [(r.meta["scene"], r.meta["direction"]) for r in sp[split]]
        assert len(pairs) == len(set(pairs)), "one example per (photograph, albedo) pair"
        assert all(r.meta["photo"] == f"dir_{r.meta['direction']}_mip2.jpg" for r in sp[split])
    assert {r.meta["direction"] for r in sp["train"]} & set((2, 3, 19, 20, 21, 22, 24))  # frontal flashes too
    for r in sp["train"] + sp["val"]:
        m = r.meta
        # recompute Y from the raw albedo and the 0.10 rule
        Y = mid.luminance(mid.read_albedo(mid.find_albedo(raw / "mid", m["scene"])))
        ya = mid.disk_mean(Y, *m["point_a_albedo"], m["disk_radius"])
        yb = mid.disk_mean(Y, *m["point_b_albedo"], m["disk_radius"])
        assert abs(ya - m["Y_a"]) < 1e-3 * max(ya, 1e-6) and abs(yb - m["Y_b"]) < 1e-3 * max(yb, 1e-6)
        rel = abs(ya - yb) / max(ya, yb, 1e-8)
        expect = "C" if rel <= 0.10 else ("A" if ya < yb else "B")
        assert r.answer == expect
        assert r.choices == ["A is darker", "B is darker", "About the same"]
    c = Counter(r.answer for r in sp["train"])
    assert abs(c["C"] / len(sp["train"]) - 0.25) <= 0.05
    assert abs(c["A"] - c["B"]) <= 2


def test_relative_reflectance_refuses_more_examples_than_photo_albedo_pairs(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    fx.make_mid(raw / "mid", dirs=(0, 1))
    patch_blink(monkeypatch, relative_reflectance, "relative_reflectance", n_images=1, choices=("a", "b", "c"))
    with pytest.raises(InputError, match=r"n_train: 7 examples asked, but its 3 scenes x 2 photo_directions give 6"):
        relative_reflectance.build(raw, tmp_path / "rr", {"n_train": 7, "n_val": 2, "photo_directions": [0, 1]}, seed=0)
    assert not (tmp_path / "rr").exists() and not list(tmp_path.glob(".rr.*"))


# ---------------------------------------------------------------------------- visual similarity
def test_visual_similarity_majority_and_dedup(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    planted = fx.noise_image(424242, 64, 64)
    fx.make_nights(raw / "nights" / "extracted", planted_ref=planted)
    # BLINK test holds a near-duplicate (slightly brightened copy) of NIGHTS triplet 0's reference
    dup = Image.fromarray(np.clip(np.asarray(planted).astype(int) + 3, 0, 255).astype(np.uint8))
    patch_blink(monkeypatch, visual_similarity, "visual_similarity", n_images=3, images=[dup])
    out = tmp_path / "vs"
    # 14 NIGHTS train triplets: 1 has < 6 votes, 1 is a tie, 1 is the planted duplicate -> exactly
    # 11 usable, so every triplet (the planted one included) is examined
    visual_similarity.build(raw, out, {"n_train": 11, "n_val": 4}, seed=0)
    sp, man = splits(out), manifest(out)
    for r in sp["train"] + sp["val"]:
        m = r.meta
        assert m["votes"] >= 6 and m["left_vote"] != m["right_vote"]
        closer = "left" if m["left_vote"] > m["right_vote"] else "right"
        assert m["shown_order"]["AB".index(r.answer)] == closer
        assert r.choices == ["the second image", "the third image"] and len(r.images) == 3
    assert "0" not in {r.meta["nights_id"] for r in sp["train"]}
    assert any(d["image"].startswith("0/") for d in man["dropped"]["dedup_images"])
    c = Counter(r.answer for r in sp["train"])
    assert abs(c["A"] - c["B"]) <= 1
    skipped = man["dropped"]["skipped_triplets"]
    assert skipped["tie"] >= 1 and skipped["few_votes"] >= 1


def test_unknown_parameter_is_rejected(hp_raw, tmp_path):
    with pytest.raises(InputError, match="n_trian"):
        visual_correspondence.build(hp_raw, tmp_path / "x", {"n_trian": 3}, seed=0)


# ---------------------------------------------------------------------------- through blink.py itself
def test_art_style_test_split_through_blink_source(tmp_path, monkeypatch):
    """The BLINK test split comes through livr.data.sources.blink (hub access replaced by a
    parquet fixture in the hub's layout) and a planted near-duplicate of a BLINK image is dropped."""
    import io as _io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from livr.data.sources import blink

    raw = tmp_path / "raw"
    base = fx.make_artbench(raw / "artbench10" / "extracted", per_style=16)
    planted = base / "train" / "baroque" / "artist-baroque_0.jpg"

    def png(img):
        b = _io.BytesIO()
        img.save(b, format="PNG")
        return {"bytes": b.getvalue(), "path": None}

    def fake_hub(repo_id, patterns, local_dir, revision):
        rows = []
        for k in range(2):
            ref = Image.open(planted).convert("RGB") if k == 0 else fx.noise_image(777 + k, 48, 48)
            rows.append(
                {
                    "idx": f"val_Art_Style_{k}",
                    "question": "q",
                    "sub_task": "Art_Style",
                    "choices": ["the second image", "the third image"],
                    "answer": "(B)",
                    "prompt": "BLINK prompt",
                    "image_1": png(ref),
                    "image_2": png(fx.noise_image(900 + k, 48, 48)),
                    "image_3": png(fx.noise_image(950 + k, 48, 48)),
                    "image_4": None,
                }
            )
        d = Path(local_dir) / "Art_Style"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), d / "val-00000-of-00001.parquet")

    monkeypatch.setattr(blink, "hub_snapshot", fake_hub)
    blink.download(raw / "blink", {"configs": ["Art_Style"], "splits": ["val"]})
    out = tmp_path / "as"
    art_style.build(raw, out, {"n_train": 10, "n_val": 4}, seed=0)
    sp, man = splits(out), manifest(out)
    assert [r.answer for r in sp["test"]] == ["B", "B"] and len(sp["test"][0].images) == 3
    used = {r.meta[k]["file"] for r in sp["train"] + sp["val"] for k in ("reference", "positive", "negative")}
    assert planted.name not in used  # dropped when examined (dedup), never shown in train/val
    assert all(d["image"].endswith(planted.name) for d in man["dropped"]["dedup_images"])
