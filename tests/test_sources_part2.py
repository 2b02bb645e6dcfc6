"""Part-2 sources: parsers on fixtures in each source's own layout, and `download` end to end
through a local HTTP server (archive fetched, extracted, manifest written last, idempotent)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _httpserver import Files, serve
from livr.data.download import read_manifest
from livr.data.sources import artbench, funkpoint, hpatches, mid, nights, spair
import part2_fixtures as fx


def tar_gz_of(directory: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(directory, arcname=directory.name)
    return buf.getvalue()


def zip_of(directory: Path, arc_root: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(directory.rglob("*")):
            if p.is_file():
                zf.write(p, str(Path(arc_root or directory.name) / p.relative_to(directory)))
    return buf.getvalue()


# ------------------------------------------------------------------------------------- HPatches
def test_hpatches_parse_and_homography(tmp_path):
    fx.make_hpatches(tmp_path / "raw" / "extracted", n_v=2, n_i=2)
    seqs = hpatches.list_sequences(tmp_path / "raw")
    assert [s.name for s in seqs] == ["i_seq0", "i_seq1", "v_seq0", "v_seq1"] and all(s.complete for s in seqs)
    v = seqs[2]
    H12, H13 = v.homography_1_to(2), v.homography_1_to(3)
    x, y = 30.0, 20.0
    # H_2_3 composes through image 1
    p2 = hpatches.warp_point(H12, x, y)
    assert np.allclose(hpatches.warp_point(v.homography(2, 3), *p2), hpatches.warp_point(H13, x, y), atol=1e-6)
    assert np.allclose(seqs[0].homography(2, 5), np.eye(3))


def test_read_homography_real_format(tmp_path):
    p = tmp_path / "H_1_2"
    p.write_text("0.79208 0.010314 26.019\n-0.023778 0.92337 43.513\n-0.00011513 1.2161e-05 1.0003\n")
    H = hpatches.read_homography(p)
    assert H.shape == (3, 3) and H[0, 2] == pytest.approx(26.019) and H[2, 0] == pytest.approx(-0.00011513)
    p.write_text("1 0 0\n0 1 0\n")
    with pytest.raises(ValueError, match="9 numbers"):
        hpatches.read_homography(p)


def test_hpatches_download_end_to_end(tmp_path):
    src = fx.make_hpatches(tmp_path / "src", n_v=1, n_i=1)
    f = Files()
    f.data["/hp.tar.gz"] = tar_gz_of(src)
    raw = tmp_path / "raw" / "hpatches"
    with serve(f) as base:
        hpatches.download(raw, {"url": f"{base}/hp.tar.gz", "backoff": 0})
        m = read_manifest(raw)
        assert m["counts"] == {"sequences": 2, "viewpoint": 1, "illumination": 1}
        assert len(m["files"][0]["sha256"]) == 64
        n = len(f.requests)
        hpatches.download(raw, {"url": f"{base}/hp.tar.gz"})  # finished: nothing fetched again
        assert len(f.requests) == n
    assert not (raw / "hpatches-sequences-release.tar.gz").exists()  # archive removed by default
    assert len(hpatches.list_sequences(raw)) == 2


# ------------------------------------------------------------------------------------- ArtBench
def test_artbench_parse_and_download(tmp_path):
    src = fx.make_artbench(tmp_path / "src", per_style=2)
    by_style = artbench.list_images(tmp_path / "src", "train")
    assert sorted(by_style) == sorted(artbench.STYLES) and all(len(v) == 2 for v in by_style.values())
    f = Files()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:  # the release is an uncompressed .tar
        tf.add(src, arcname=src.name)
    f.data["/ab.tar"] = buf.getvalue()
    raw = tmp_path / "raw"
    with serve(f) as base:
        artbench.download(raw, {"url": f"{base}/ab.tar", "backoff": 0})
    m = read_manifest(raw)
    assert m["counts"]["train"]["baroque"] == 2 and m["counts"]["test"]["ukiyo_e"] == 2
    (src / "train" / "cubism").mkdir()
    with pytest.raises(ValueError, match="unexpected style folder 'cubism'"):
        artbench.list_images(tmp_path / "src", "train")


# ------------------------------------------------------------------------------------- SPair-71k
def test_spair_parse_and_download(tmp_path):
    src = fx.make_spair(tmp_path / "src")
    pairs = spair.list_pairs(tmp_path / "src", "trn")
    assert len(pairs) == 2 * 10 * 9
    p = pairs[0]
    assert p.src_path.is_file() and p.trg_path.is_file() and p.src_path.parent.name == p.category
    assert len(p.src_kps) == len(p.trg_kps) == len(p.kps_ids)
    assert sum(len(q.src_kps) < 4 for q in pairs) > 0  # fixture has pairs the builder must skip
    f = Files()
    f.data["/sp.tar.gz"] = tar_gz_of(src)
    raw = tmp_path / "raw"
    with serve(f) as base:
        spair.download(raw, {"url": f"{base}/sp.tar.gz", "backoff": 0})
    assert read_manifest(raw)["counts"]["pairs"] == {"trn": 180, "val": 0, "test": 0}
    bad = src / "PairAnnotation" / "trn" / "bad.json"
    bad.write_text(json.dumps({"src_imname": "a", "trg_imname": "b", "category": "cat",
                               "src_kps": [[1, 2]], "trg_kps": []}))
    with pytest.raises(ValueError, match="src_kps has 1 points but trg_kps has 0"):
        spair.read_pair(bad, src)


# ------------------------------------------------------------------------------------- FunKPoint
def test_funkpoint_parse_manual_placement_and_url(tmp_path):
    raw = tmp_path / "raw"
    with pytest.raises(FileNotFoundError, match="No public download URL"):
        funkpoint.download(raw, {})
    fx.make_funkpoint(raw)
    funkpoint.download(raw, {})
    m = read_manifest(raw)
    assert m["counts"]["images"] == 40 and m["format"].startswith("assumed")
    anns, _ = funkpoint.read_annotations(raw)
    a = anns[1]
    assert a.action == "Mash_Pound" and a.action_name == "Mash Pound" and a.keypoints[4] is None
    assert a.valid() == [0, 1, 2, 3]
    # fetched from a URL as an archive of the same layout
    f = Files()
    f.data["/fk.zip"] = zip_of(raw / "FunKPoint")
    raw2 = tmp_path / "raw2"
    with serve(f) as base:
        funkpoint.download(raw2, {"url": f"{base}/fk.zip", "backoff": 0})
    assert read_manifest(raw2)["counts"]["images"] == 40


# ------------------------------------------------------------------------------------- MID
def test_mid_parse_albedo_and_luminance(tmp_path):
    raw = fx.make_mid(tmp_path / "mid")
    scenes = mid.list_scenes(raw)
    assert scenes == [f"main_experiment{i}" for i in range(4)]  # everett_* is MID's test set
    assert mid.photo_path(raw, scenes[0], 1).name == "dir_1_mip2.jpg"
    a_npy = mid.read_albedo(mid.find_albedo(raw, scenes[0]))
    a_png = mid.read_albedo(mid.find_albedo(raw, scenes[1]))
    assert a_npy.shape == a_png.shape == (60, 90, 3) and a_png.max() == pytest.approx(1.0)
    Y = mid.luminance(np.ones((4, 4, 3)))
    assert np.allclose(Y, 1.0)  # Rec.709 weights sum to 1
    Y = np.zeros((20, 20))
    Y[:, 10:] = 1.0
    assert mid.disk_mean(Y, 15, 10, 3) == 1.0 and mid.disk_mean(Y, 4, 10, 3) == 0.0
    assert 0.3 < mid.disk_mean(Y, 10, 10, 4) < 0.7


def test_mid_download_end_to_end(tmp_path):
    src = fx.make_mid(tmp_path / "src")
    f = Files()
    f.data["/scenes.json"] = (src / "scenes.json").read_bytes()
    for s in json.loads((src / "scenes.json").read_text()):
        name = s["name"]
        f.data[f"/multilum/{name}/{name}_mip2_jpg.zip"] = zip_of(src / "scenes" / name / name, arc_root=name)
    f.data["/albedo.zip"] = zip_of(src / "albedo", arc_root=".")
    raw = tmp_path / "raw"
    with serve(f) as base:
        cfg = {"base_url": f"{base}/multilum", "scenes_url": f"{base}/scenes.json",
               "albedo_url": f"{base}/albedo.zip", "backoff": 0}
        mid.download(raw, cfg)
        asked = {p for p, _ in f.requests}
    assert "/multilum/everett_kitchen1/everett_kitchen1_mip2_jpg.zip" not in asked  # test scenes skipped
    m = read_manifest(raw)
    assert m["counts"] == {"train_scenes_listed": 4, "scenes_usable": 4}
    assert mid.list_scenes(raw) == [f"main_experiment{i}" for i in range(4)]


def test_mid_download_without_albedo_says_how(tmp_path):
    src = fx.make_mid(tmp_path / "src")
    f = Files()
    f.data["/scenes.json"] = (src / "scenes.json").read_bytes()
    with serve(f) as base, pytest.raises(FileNotFoundError, match="MIDIntrinsics albedo missing"):
        mid.download(tmp_path / "raw", {"scenes_url": f"{base}/scenes.json", "backoff": 0})
    assert read_manifest(tmp_path / "raw") is None


# ------------------------------------------------------------------------------------- NIGHTS
def test_nights_parse_and_download(tmp_path):
    src = fx.make_nights(tmp_path / "src")
    trips, dropped = nights.read_triplets(tmp_path / "src", check_files=True)
    assert len(trips) == 22 and not dropped
    t = trips[2]  # left_vote 0.8333
    assert t.majority == "left" and t.left.name.endswith("_0.png") and t.ref.is_file()
    assert trips[1].majority == "right" and trips[5].majority is None
    f = Files()
    f.data["/nights.zip"] = zip_of(src)
    raw = tmp_path / "raw"
    with serve(f) as base:
        nights.download(raw, {"url": f"{base}/nights.zip", "backoff": 0})
    assert read_manifest(raw)["counts"] == {"train": 14, "val": 6, "test": 2}
    (src / "data.csv").write_text("id,ref_path\n0,ref/000/000.png\n")
    with pytest.raises(ValueError, match="missing column"):
        nights.read_triplets(tmp_path / "src")
