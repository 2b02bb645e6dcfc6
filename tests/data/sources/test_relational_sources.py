"""The sources of the correspondence, art, reflectance and similarity tasks (HPatches, ArtBench-10,
SPair-71k, FunKPoint, MID, NIGHTS): parsers on fixtures in each source's own layout, and `download` end to end
through a local HTTP server (archive fetched, extracted, manifest written last, idempotent)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
import relational_fixtures as fx
from _httpserver import Files, serve

from livr.data.download import DownloadError, RemoteFile, read_manifest
from livr.data.sources import artbench, funkpoint, hpatches, mid, nights, spair
from livr.data.sources._common import ManualDataMissing
from livr.errors import InputError


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


HUB_ZIP = "/datasets/vbalnt/hpatches/resolve/main/hpatches-sequences-release.zip"


def test_hpatches_download_from_hub_zip_after_dead_mirrors(tmp_path):
    """The hub zip (top folder hpatches-sequences-release/, as the authors now publish it) is
    reached after a dead host (404) and a host that answers with an HTML page; the archive type
    comes from the content (the zip is served under a .tar.gz name too)."""
    src = fx.make_hpatches(tmp_path / "src", n_v=1, n_i=1)
    f = Files()
    f.data[HUB_ZIP] = fx.zip_bytes(src, "hpatches-sequences-release")
    f.data["/error-page/hpatches.zip"] = b"<html><body>Service moved</body></html>"
    raw = tmp_path / "raw" / "hpatches"
    with serve(f) as base:
        urls = [f"{base}/gone/hpatches-sequences-release.tar.gz", f"{base}/error-page/hpatches.zip", base + HUB_ZIP]
        hpatches.download(raw, {"urls": urls, "backoff": 0, "retries": 0})
        m = read_manifest(raw)
        assert m["counts"] == {"sequences": 2, "viewpoint": 1, "illumination": 1}
        entry = m["files"][0]
        assert entry["url"] == base + HUB_ZIP and len(entry["sha256"]) == 64
        assert [x["url"] for x in entry["failed_mirrors"]] == urls[:2]
        assert "HTTP 404" in entry["failed_mirrors"][0]["error"]
        assert "not a zip or tar" in entry["failed_mirrors"][1]["error"]
        n = len(f.requests)
        hpatches.download(raw, {"urls": urls})  # finished: nothing fetched again
        assert len(f.requests) == n
    assert not (raw / "archives").exists()  # archives (and failed mirrors' leftovers) removed by default
    assert len(hpatches.list_sequences(raw)) == 2
    # the same zip under a tar.gz name: extracted by content
    f2 = Files()
    f2.data["/hp.tar.gz"] = f.data[HUB_ZIP]
    with serve(f2) as base:
        hpatches.download(tmp_path / "raw2", {"urls": [f"{base}/hp.tar.gz"], "backoff": 0})
    assert [s.name for s in hpatches.list_sequences(tmp_path / "raw2")] == ["i_seq0", "v_seq0"]


def test_hpatches_every_mirror_dead_names_each(tmp_path):
    f = Files()
    with serve(f) as base:
        urls = [f"{base}/a.zip", f"{base}/b.tar.gz"]
        with pytest.raises(DownloadError, match="every mirror failed") as err:
            hpatches.download(tmp_path / "raw", {"urls": urls, "backoff": 0, "retries": 0})
    assert all(u in str(err.value) for u in urls)
    assert read_manifest(tmp_path / "raw") is None


def test_hpatches_default_mirrors_start_with_the_hub_zip():
    assert hpatches.DEFAULTS["urls"][0] == "https://huggingface.co" + HUB_ZIP
    with pytest.raises(InputError, match=r"sources.hpatches: unknown key\(s\) \['url'\]; valid keys: .*urls"):
        hpatches.download("/nonexistent", {"url": "http://x"})


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
        artbench.download(raw, {"urls": [f"{base}/ab.tar"], "backoff": 0})
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
        spair.download(raw, {"urls": [f"{base}/sp.tar.gz"], "backoff": 0})
    assert read_manifest(raw)["counts"]["pairs"] == {"trn": 180, "val": 0, "test": 0}
    bad = src / "PairAnnotation" / "trn" / "bad.json"
    bad.write_text(
        json.dumps({"src_imname": "a", "trg_imname": "b", "category": "cat", "src_kps": [[1, 2]], "trg_kps": []})
    )
    with pytest.raises(ValueError, match="src_kps has 1 points but trg_kps has 0"):
        spair.read_pair(bad, src)


# ------------------------------------------------------------------------------------- FunKPoint
def test_funkpoint_without_import_names_the_manual_step(tmp_path):
    with pytest.raises(ManualDataMissing) as err:
        funkpoint.download(tmp_path / "raw" / "funkpoint", {})
    msg = str(err.value)
    assert "livr data import funkpoint --from PATH" in msg and "agi-labs.github.io/FuncCorr" in msg
    assert "images/<action>/<file> and annotations/<action>.json" in msg and "docs/DATA.md" in msg
    assert isinstance(err.value, InputError)


@pytest.mark.parametrize("as_archive", [False, True])
def test_funkpoint_import_from_directory_or_archive(tmp_path, as_archive):
    src = fx.make_funkpoint(tmp_path / "given" / "wrapper")  # one wrapper folder above the layout
    missing = src / "images" / "Pour" / "kettle_000.jpg"
    missing.unlink()  # annotated but absent: recorded, not fatal
    if as_archive:
        with tarfile.open(tmp_path / "fk.tar", "w") as tf:
            tf.add(tmp_path / "given", arcname="given")
        src_path = tmp_path / "fk.tar"
    else:
        src_path = tmp_path / "given"
    raw = tmp_path / "raw" / "funkpoint"
    funkpoint.import_manual(raw, src_path, {})
    m = read_manifest(raw)
    assert m["counts"]["images"] == 39 and m["counts"]["images_per_action"] == {"Mash_Pound": 20, "Pour": 19}
    assert m["dropped"] == [{"image": "Pour/kettle_000.jpg", "reason": "image file missing"}]
    assert m["files"][0]["imported_from"] == str(src_path.resolve())
    assert (m["files"][0]["sha256"] is not None) == as_archive
    anns, _ = funkpoint.read_annotations(raw)
    a = anns[1]
    assert a.action == "Mash_Pound" and a.action_name == "Mash Pound" and a.keypoints[4] is None
    assert a.valid() == [0, 1, 2, 3] and a.image.is_file()
    funkpoint.download(raw, {})  # imported: the download step is done


def test_funkpoint_import_of_a_wrong_layout_leaves_nothing(tmp_path):
    (tmp_path / "given" / "photos").mkdir(parents=True)
    raw = tmp_path / "raw" / "funkpoint"
    with pytest.raises(ManualDataMissing, match="no FunKPoint layout found"):
        funkpoint.import_manual(raw, tmp_path / "given", {})
    assert read_manifest(raw) is None and not (raw / "extracted").exists()
    assert [p.name for p in raw.iterdir()] == []  # no staging directory left behind


def test_funkpoint_from_a_mirror_url(tmp_path):
    src = fx.make_funkpoint(tmp_path / "src")
    f = Files()
    f.data["/fk.zip"] = zip_of(src)
    raw = tmp_path / "raw"
    with serve(f) as base:
        funkpoint.download(raw, {"url": f"{base}/fk.zip", "backoff": 0})
    m = read_manifest(raw)
    assert m["counts"]["images"] == 40 and m["files"][0]["url"].endswith("/fk.zip")
    assert not (raw / "fetched").exists()


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


def _mid_server(src: Path) -> Files:
    f = Files()
    f.data["/scenes.json"] = (src / "scenes.json").read_bytes()
    for s in json.loads((src / "scenes.json").read_text()):
        name = s["name"]
        f.data[f"/multilum/{name}/{name}_mip2_jpg.zip"] = zip_of(src / "scenes" / name / name, arc_root=name)
    return f


def test_mid_albedo_found_at_any_depth(tmp_path):
    raw = fx.make_mid(tmp_path / "mid")
    deep = raw / "albedo" / "midi_train_albedo" / "multi_illumination_train_mip2_exr"
    deep.mkdir(parents=True)
    for scene in ("main_experiment0", "main_experiment2"):
        (raw / "albedo" / scene).rename(deep / scene)
    assert mid.find_albedo(raw, "main_experiment0") == deep / "main_experiment0" / "albedo.npy"
    assert mid.list_scenes(raw) == [f"main_experiment{i}" for i in range(4)]
    # a scene with two albedo files: EXR preferred, then the listed order
    np.save(raw / "albedo" / "main_experiment1" / "albedo.npy", np.ones((2, 2, 3), np.float32))
    assert mid.find_albedo(raw, "main_experiment1").name == "albedo.npy"


def test_mid_download_without_albedo_names_the_manual_step(tmp_path):
    with pytest.raises(ManualDataMissing) as err:
        mid.download(tmp_path / "raw" / "mid", {})
    msg = str(err.value)
    assert "livr data import mid --from PATH" in msg and "1sfu-my.sharepoint.com" in msg
    assert "midi_train_albedo.zip" in msg and "<scene>/albedo.exr" in msg
    assert read_manifest(tmp_path / "raw" / "mid") is None


def test_mid_import_zip_with_wrappers_then_download(tmp_path):
    src = fx.make_mid(tmp_path / "src")
    # the albedo archive as released: <scene>/albedo.* under wrapper folders
    archive = tmp_path / "midi_train_albedo.zip"
    archive.write_bytes(fx.zip_bytes(src / "albedo", "midi/multi_illumination_train_mip2_exr"))
    raw = tmp_path / "raw" / "mid"
    mid.import_manual(raw, archive, {})
    am = read_manifest(raw / "albedo")
    assert am["scenes"] == 5 and am["train_scenes"] == 4 and am["formats"] == [".npy", ".png"]
    assert am["files"][0]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert sorted(p.name for p in (raw / "albedo").iterdir()) == sorted(
        ["manifest.json", "everett_kitchen1"] + [f"main_experiment{i}" for i in range(4)]
    )
    f = _mid_server(src)
    with serve(f) as base:
        mid.download(raw, {"base_url": f"{base}/multilum", "scenes_url": f"{base}/scenes.json", "backoff": 0})
        asked = {p for p, _ in f.requests}
    assert "/multilum/everett_kitchen1/everett_kitchen1_mip2_jpg.zip" not in asked  # test scenes skipped
    m = read_manifest(raw)
    assert m["counts"] == {"train_scenes_listed": 4, "scenes_usable": 4} and m["albedo"]["scenes"] == 5
    assert mid.list_scenes(raw) == [f"main_experiment{i}" for i in range(4)]


def test_mid_import_from_the_mid_tree_copies_only_albedo(tmp_path):
    src = fx.make_mid(tmp_path / "src")
    tree = tmp_path / "multi_illumination_train_mip2_exr"  # albedo unzipped into the MID tree, as the README says
    for scene in (src / "albedo").iterdir():
        (tree / scene.name).mkdir(parents=True)
        for f in scene.iterdir():
            (tree / scene.name / f.name).write_bytes(f.read_bytes())
        (tree / scene.name / "dir_0_mip2.exr").write_bytes(b"photo, not albedo")
    raw = tmp_path / "raw" / "mid"
    mid.import_manual(raw, tree, {})
    copied = sorted(p.name for p in (raw / "albedo").rglob("*") if p.is_file())
    assert "dir_0_mip2.exr" not in copied and copied.count("albedo.npy") == 4 and copied.count("albedo.png") == 1
    assert (tree / "main_experiment0" / "albedo.npy").is_file()  # the source is left as it was


def test_mid_import_without_albedo_files_fails_and_leaves_nothing(tmp_path):
    (tmp_path / "empty" / "scene").mkdir(parents=True)
    raw = tmp_path / "raw" / "mid"
    with pytest.raises(ManualDataMissing, match="no <scene>/albedo"):
        mid.import_manual(raw, tmp_path / "empty", {})
    assert [p.name for p in raw.iterdir()] == []


def test_mid_albedo_from_a_mirror_url(tmp_path):
    src = fx.make_mid(tmp_path / "src")
    f = _mid_server(src)
    f.data["/albedo.zip"] = zip_of(src / "albedo", arc_root="wrapped")
    raw = tmp_path / "raw"
    with serve(f) as base:
        mid.download(
            raw,
            {
                "base_url": f"{base}/multilum",
                "scenes_url": f"{base}/scenes.json",
                "albedo_url": f"{base}/albedo.zip",
                "backoff": 0,
            },
        )
    assert read_manifest(raw)["counts"] == {"train_scenes_listed": 4, "scenes_usable": 4}
    assert read_manifest(raw / "albedo")["files"][0]["url"].endswith("/albedo.zip")


# ------------------------------------------------------------------------------------- NIGHTS
def test_nights_parse_and_full_download(tmp_path):
    src = fx.make_nights(tmp_path / "src")
    trips, dropped = nights.read_triplets(tmp_path / "src", check_files=True)
    assert len(trips) == 22 and not dropped
    t = trips[2]  # left_vote 0.8333
    assert t.majority == "left" and t.left.name.endswith("_0.png") and t.ref.is_file()
    assert trips[1].majority == "right" and trips[5].majority is None
    f = Files()
    f.data.update(fx.nights_served(src))
    raw = tmp_path / "raw"
    with serve(f) as base:
        nights.download(raw, {"mode": "full", "url": f"{base}/nights/nights.zip", "backoff": 0})
    m = read_manifest(raw)
    assert m["counts"] == {"test": 2, "train": 14, "val": 6} and m["mode"] == "full"
    (src / "data.csv").write_text("id,ref_path\n0,ref/000/000.png\n")
    with pytest.raises(ValueError, match="missing column"):
        nights.read_triplets(tmp_path / "src")


def _usable_by_folder(src):
    trips, _ = nights.read_triplets(src)
    out = {}
    for t in trips:
        if nights.usable_triplet(t, 6):
            out.setdefault(nights.folder_of(t), Counter())[t.split] += 1
    return out


def test_nights_chunked_fetches_only_the_folders_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(RemoteFile, "block", 1 << 14)  # the fixture archive is 1 MB, not 58 GB
    src = fx.make_nights(tmp_path / "src", n={"train": 24, "val": 12, "test": 8}, per_folder=4)
    f = Files()
    f.data.update(fx.nights_served(src))
    raw = tmp_path / "raw"
    need = {"train": 6, "val": 3}
    with serve(f) as base:
        nights.download(
            raw,
            {
                "url": f"{base}/nights/nights.zip",
                "chunks_url": f"{base}/nights/nights_chunked",
                "need": need,
                "backoff": 0,
            },
        )
    m = read_manifest(raw)
    by_folder = _usable_by_folder(src)
    # the folders chosen cover the need, and no chosen folder could be left out
    chosen = m["folders"]
    got = {s: sum(by_folder.get(d, Counter())[s] for d in chosen) for s in need}
    assert all(got[s] >= need[s] for s in need) and m["short_of_need"] == {}
    for d in chosen:
        rest = [x for x in chosen if x != d]
        assert any(sum(by_folder.get(x, Counter())[s] for x in rest) < need[s] for s in need), d
    assert len(chosen) < len(by_folder)
    # only those folders' chunks were requested; data.csv came out of nights.zip by Range requests
    asked = {p for p, _ in f.requests if "nights_chunked" in p}
    assert asked == {f"/nights/nights_chunked/{part}/{d}.zip" for d in chosen for part in ("ref", "distort")}
    assert all(rng is not None for p, rng in f.requests if p == "/nights/nights.zip")
    assert f.sent["/nights/nights.zip"] < len(f.data["/nights/nights.zip"]) / 10
    assert m["csv"]["member"] == "nights/data.csv" and m["csv"]["transferred"] == f.sent["/nights/nights.zip"]
    # the triplets read are exactly those of the fetched folders, files present
    trips, dropped = nights.read_triplets(raw, check_files=True)
    assert not dropped and {nights.folder_of(t) for t in trips} == set(chosen)
    usable = Counter(t.split for t in trips if nights.usable_triplet(t, 6))
    assert m["usable"] == dict(sorted(usable.items()))
    assert (raw / "extracted" / "nights" / "ref" / chosen[0] / "000.png").is_file()
    assert not (raw / "chunks").exists()


def test_nights_chunked_needs_range_support(tmp_path):
    src = fx.make_nights(tmp_path / "src")
    f = Files()
    f.data.update(fx.nights_served(src))
    f.ignore_range = True
    with serve(f) as base, pytest.raises(DownloadError, match="Range request"):
        nights.download(
            tmp_path / "raw",
            {"url": f"{base}/nights/nights.zip", "chunks_url": f"{base}/nights/nights_chunked", "backoff": 0},
        )


def test_nights_choose_folders_reports_what_no_folder_can_give():
    trips = [
        nights.Triplet(
            str(i),
            Path("r"),
            Path("l"),
            Path("x"),
            1.0,
            0.0,
            6,
            "train",
            "",
            PurePosixPath(f"ref/{i // 2:03d}/{i % 2:03d}.png"),
        )
        for i in range(6)
    ]
    folders, short = nights.choose_folders(trips, {"train": 4, "val": 2}, 6)
    assert len(folders) == 2 and short == {"val": 2}
    folders, short = nights.choose_folders(trips, {"train": 6}, 6)
    assert folders == ["000", "001", "002"] and short == {}
