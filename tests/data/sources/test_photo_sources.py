"""The sources of the counting, jigsaw and localization tasks and of every BLINK test split
(PixMo-Count, COCO 2017, BLINK): download, checksum and parsing on fixtures in their own formats."""

import hashlib
import json
from collections import Counter

import numpy as np
import pytest
from _httpserver import Files, serve
from photo_fixtures import (
    fake_hub_snapshot,
    natural,
    write_blink_hub,
    write_coco,
    write_pixmo_hub,
    zip_dir,
)
from PIL import Image

from livr.data.download import ChecksumError, read_manifest
from livr.data.sources import blink, coco, pixmo_count
from livr.errors import InputError

FAST = {"workers": 4, "retries": 0, "backoff": 0, "timeout": 5}


def _pixmo(tmp_path, monkeypatch, files, base, counts, cfg, **kw):
    rows = write_pixmo_hub(tmp_path / "hub", files.data, base, counts, **kw)
    monkeypatch.setattr(pixmo_count, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    raw = tmp_path / "raw" / "pixmo_count"
    pixmo_count.download(raw, {**FAST, **cfg})
    return raw, rows


def test_pixmo_download_drops_dead_corrupt_and_mismatching(tmp_path, monkeypatch):
    files = Files()
    with serve(files) as base:
        counts = {
            "train": [c for c in range(2, 11) for _ in range(3)] + [1, 15],
            "validation": [2, 3, 4],
            "test": [5, 6],
        }
        raw, _ = _pixmo(
            tmp_path,
            monkeypatch,
            files,
            base,
            counts,
            {"train_per_count": None, "verify_sha256": True, "verify_tls": True},
            n_dead=2,
            n_corrupt=2,
            n_mismatch=1,
        )
    m = read_manifest(raw)
    assert m["rule"] == {"verify_sha256": True, "verify_tls": True}
    tr = m["counts"]["train"]
    # counts 1 and 15 are outside train_counts 2..10 and never fetched
    assert tr["rows"] == 29 and tr["attempted"] == 27
    assert tr["dropped"] == {"corrupt_image": 2, "http_404": 2, "sha256_mismatch": 1}
    assert tr["kept"] == 22 and tr["kept_sha256_match"] == 22
    assert m["counts"]["validation"]["kept"] == 3 and m["counts"]["test"]["kept"] == 2
    assert m["paper_live_rows"] == {"validation": 534, "test": 528}
    dropped = [json.loads(line) for line in (raw / "dropped.jsonl").read_text().splitlines()]
    assert len(dropped) == 5 and all(d["url"].startswith("http://127.0.0.1") for d in dropped)
    live = pixmo_count.live_rows(raw, "train")
    for r in live:
        assert hashlib.sha256(r["image"].read_bytes()).hexdigest() == r["image_sha256"]
        assert r["image"].suffix == ".jpg" and 2 <= r["count"] <= 10
    assert {r["row"] for r in live}.isdisjoint({0, 1, 2, 3, 4})


def test_pixmo_default_rule_keeps_a_live_image_whose_hash_changed(tmp_path, monkeypatch):
    """Molmo's rule (the default): an image that downloads and decodes is live even when the
    published sha256 no longer matches; the manifest still counts the matches."""
    files = Files()
    with serve(files) as base:
        counts = {"train": [2, 3, 4, 5], "validation": [2], "test": [3]}
        raw, _ = _pixmo(tmp_path, monkeypatch, files, base, counts, {}, n_dead=1, n_mismatch=1)
    m = read_manifest(raw)
    assert m["rule"] == {"verify_sha256": False, "verify_tls": False}
    tr = m["counts"]["train"]
    assert tr["kept"] == 3 and tr["kept_sha256_match"] == 2 and tr["dropped"] == {"http_404": 1}
    live = pixmo_count.live_rows(raw, "train")
    assert [r["sha256_match"] for r in live] == [False, True, True]
    assert all(hashlib.sha256(r["image"].read_bytes()).hexdigest() == r["file_sha256"] for r in live)


def test_pixmo_repeated_urls_fetched_once_and_mapped_to_every_row(tmp_path, monkeypatch):
    """Rows sharing an image URL (within a split and across splits) each get the image; each
    distinct URL is requested once however many workers run."""
    files = Files()
    shared = {("train", 0), ("train", 1), ("train", 2), ("train", 3), ("validation", 0), ("test", 1)}
    path_for = lambda split, i: "/img/shared.jpg" if (split, i) in shared else f"/img/{split}/{i}.jpg"  # noqa: E731
    with serve(files) as base:
        counts = {"train": [2, 2, 3, 4, 5, 6], "validation": [2, 3], "test": [4, 5]}
        raw, rows = _pixmo(
            tmp_path,
            monkeypatch,
            files,
            base,
            counts,
            {"workers": 8, "train_per_count": None, "verify_sha256": True},
            path_for=path_for,
        )
    asked = Counter(p for p, _ in files.requests)
    assert asked["/img/shared.jpg"] == 1 and set(asked.values()) == {1}
    m = read_manifest(raw)
    assert m["counts"]["train"]["distinct_urls"] == 3 and m["counts"]["train"]["kept"] == 6
    assert {s: m["counts"][s]["kept"] for s in ("validation", "test")} == {"validation": 2, "test": 2}
    assert not (raw / "dropped.jsonl").read_text()
    live = {s: pixmo_count.live_rows(raw, s) for s in ("train", "validation", "test")}
    same = [r["image"] for s, rs in live.items() for r in rs if (s, r["row"]) in shared]
    assert len(same) == 6 and len(set(same)) == 1 and same[0].is_file()
    assert not list((raw / "images").rglob("*.download*")) and not list((raw / "images").rglob("*.part"))


def test_pixmo_train_selection_caps_rows_per_count(tmp_path, monkeypatch):
    files = Files()
    with serve(files) as base:
        counts = {"train": [c for c in (2, 3) for _ in range(6)], "validation": [2], "test": [3]}
        write_pixmo_hub(tmp_path / "hub", files.data, base, counts)
        monkeypatch.setattr(pixmo_count, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
        raw = tmp_path / "raw" / "pixmo_count"
        pixmo_count.download(raw, {**FAST, "train_per_count": 2})
    live = pixmo_count.live_rows(raw, "train")
    assert sorted(r["count"] for r in live) == [2, 2, 3, 3]


def test_pixmo_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="valid: train, validation, test"):
        pixmo_count.download(tmp_path, {"splits": ["val"]})


def _coco_zips(tmp_path):
    src = tmp_path / "coco_src"
    for split, n, start in (("train2017", 3, 1), ("val2017", 2, 100)):
        write_coco(
            src,
            split,
            [natural(start + i) for i in range(n)],
            lambda i, w, h: [((20, 30, 100, 80), 0.7, 0, 1), ((0, 0, 50, 50), 1.0, 1, 2)],
            start_id=start,
        )
    zips = tmp_path / "zips"
    zips.mkdir()
    out = {}
    for name, folder in (("train2017", "train2017"), ("val2017", "val2017"), ("annotations", "annotations")):
        z = zip_dir(
            src / folder, folder, zips / (f"{name}.zip" if name != "annotations" else "annotations_trainval2017.zip")
        )
        out[name] = z
    return out


def test_coco_download_extract_and_parse(tmp_path):
    zips = _coco_zips(tmp_path)
    files = Files()
    for z in zips.values():
        files.data[f"/{z.name}"] = z.read_bytes()
    with serve(files) as base:
        spec = {n: {"url": f"{base}/{z.name}", "md5": hashlib.md5(z.read_bytes()).hexdigest()} for n, z in zips.items()}
        raw = tmp_path / "raw" / "coco2017"
        coco.download(raw, {"files": spec, "retries": 0, "backoff": 0})
    assert (raw / "train2017" / "000000000001.jpg").is_file()
    assert (raw / "annotations" / "instances_val2017.json").is_file()
    assert not (raw / "zips" / "train2017.zip").exists()  # keep_archives False
    m = read_manifest(raw)
    assert m["counts"]["train2017"]["images"] == 3 and m["counts"]["val2017"]["images"] == 2
    inst = coco.load_instances(raw, "val2017")
    assert sorted(inst.images) == [100, 101] and inst.categories[1] == "dog"
    assert inst.image_path(100).is_file()
    a = [x for x in inst.annotations if not x["iscrowd"]][0]
    assert a["bbox"] == [20, 30, 100, 80] and "segmentation" in a and "area" in a
    assert coco.mask_fill_ratio(a) == pytest.approx(0.7, abs=0.05)
    assert len(inst.by_image()[100]) == 2


def test_coco_md5_mismatch_is_an_error(tmp_path):
    zips = _coco_zips(tmp_path)
    files = Files()
    files.data["/annotations_trainval2017.zip"] = zips["annotations"].read_bytes()
    with serve(files) as base:
        spec = {"annotations": {"url": f"{base}/annotations_trainval2017.zip", "md5": "0" * 32}}
        with pytest.raises(ChecksumError, match="md5 mismatch"):
            coco.download(tmp_path / "raw", {"files": spec, "fetch": ["annotations"], "retries": 0})
    assert read_manifest(tmp_path / "raw") is None
    assert not (tmp_path / "raw" / "annotations").exists()


def test_mask_fill_polygon_and_rle():
    tri = {"bbox": [0, 0, 100, 100], "segmentation": [[0, 0, 100, 0, 0, 100]], "area": 5000.0}
    assert coco.mask_fill_ratio(tri) == pytest.approx(0.5, abs=0.03)
    m = np.zeros((10, 20), dtype=bool)
    m[2:6, 4:12] = True
    flat = m.T.flatten()
    counts, cur, run = [], False, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    seg = {"counts": counts, "size": [10, 20]}
    assert (coco.rle_decode_uncompressed(seg) == m).all()
    assert coco.mask_fill_ratio({"bbox": [4, 2, 8, 4], "segmentation": seg}) == pytest.approx(1.0)


def test_blink_download_and_test_records(tmp_path, monkeypatch):
    rows = {
        "Jigsaw": [[natural(i), natural(i + 10), natural(i + 20)] for i in range(3)],
        "Object_Localization": [[natural(40 + i)] for i in range(2)],
    }
    write_blink_hub(tmp_path / "hub", rows)
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    raw = tmp_path / "raw"
    blink.download(raw / "blink", {"configs": ["Jigsaw", "Object_Localization"]})
    m = read_manifest(raw / "blink")
    assert m["rows"] == {"Jigsaw/val": 3, "Object_Localization/val": 2}
    assert all(len(f["sha256"]) == 64 for f in m["files"])
    recs, imgs = blink.test_records(raw, "jigsaw")
    assert [r.answer for r in recs] == ["A", "B", "A"]
    assert all(r.split == "test" and r.task == "jigsaw" and len(r.images) == 3 for r in recs)
    assert recs[0].question.startswith("Given the first image with the lower right corner missing")
    assert all(p.startswith("images/test/") and p in imgs for r in recs for p in r.images)
    assert isinstance(imgs[recs[0].images[0]], Image.Image)
    recs, imgs = blink.test_records(raw, "localization")
    assert len(recs) == 2 and len(recs[0].images) == 1
    with pytest.raises(InputError, match="Art_Style"):
        blink.test_records(raw, "art_style")
    with pytest.raises(ValueError, match="valid tasks"):
        blink.test_records(raw, "nope")


def test_blink_missing_config_after_fetch_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "hub").mkdir()
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    with pytest.raises(InputError, match="Jigsaw"):
        blink.download(tmp_path / "raw", {"configs": ["Jigsaw"]})
    assert read_manifest(tmp_path / "raw") is None


def test_blink_answer_letter():
    assert blink.answer_letter("(B)", 2, "x") == "B"
    with pytest.raises(ValueError, match="x: answer"):
        blink.answer_letter("(C)", 2, "x")


def test_pixmo_tls_failures_are_their_own_reason(tmp_path, monkeypatch):
    """With verify_tls a certificate that does not verify drops the row as tls_error (not
    'unreachable'), and the session verifies certificates; without it, it does not."""
    from livr.data.download import DownloadError

    real = pixmo_count.download_file
    seen = []

    def fake(url, dest, session=None, **kw):
        seen.append(session.verify)
        if url.endswith("/img/train/1.jpg"):
            raise DownloadError(f"{url}: TLS verification failed (CERTIFICATE_VERIFY_FAILED)")
        return real(url, dest, session=session, **kw)

    monkeypatch.setattr(pixmo_count, "download_file", fake)
    files = Files()
    with serve(files) as base:
        raw, _ = _pixmo(
            tmp_path,
            monkeypatch,
            files,
            base,
            {"train": [2, 3, 4], "validation": [2], "test": [3]},
            {"verify_tls": True, "train_per_count": None},
        )
    m = read_manifest(raw)
    assert m["counts"]["train"]["dropped"] == {"tls_error": 1} and set(seen) == {True}
    assert pixmo_count._session(False).verify is False
