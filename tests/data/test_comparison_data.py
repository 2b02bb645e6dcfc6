"""Comparison sources and builders: download on fixtures in each source's own layout (hub stand-ins,
the local HTTP server for plain URLs: resume, checksum), then every builder's output recomputed
from what it records in meta."""

from __future__ import annotations

import json
from pathlib import Path

import comparison_fixtures as cf
import pytest
from _httpserver import Files, serve
from photo_fixtures import fake_hub_snapshot, natural, write_blink_hub

from livr.data import benchmarks as bm
from livr.data.benchmarks import scoring
from livr.data.download import DownloadError, read_manifest
from livr.data.schema import LETTERS, read_split
from livr.data.sources import SOURCES, blink, mirage, mmvp, robospatial_home, vigorl, visual_cot, vstar
from livr.errors import InputError


def test_sources_are_registered():
    for name in ("vigorl", "robospatial_home", "mmvp", "vstar", "visual_cot", "mirage"):
        assert name in SOURCES


# ---------------------------------------------------------------------------------------- ViGoRL
@pytest.fixture
def vigorl_raw(tmp_path, monkeypatch):
    written = cf.make_vigorl_hub(tmp_path / "hub")
    calls = []
    monkeypatch.setattr(vigorl, "_hub_file", cf.fake_hub_file(tmp_path / "hub", calls))
    raw = tmp_path / "raw"
    vigorl.download(raw / "vigorl")
    return raw, written, calls


def test_vigorl_download_manifest_and_rows(vigorl_raw):
    raw, _, calls = vigorl_raw
    m = read_manifest(raw / "vigorl")
    assert calls == ["spatial_reasoning.tar"]
    assert m["jsonl_rows"] == {
        "extracted_spatial_reasoning/spatial_reasoning/sat2_test/sat2_test.jsonl": 3,
        "extracted_spatial_reasoning/spatial_reasoning/vigorl_sat2_train_RL.jsonl": 6,
        "extracted_spatial_reasoning/spatial_reasoning/vigorl_sat2_val_RL.jsonl": 3,
    }
    assert len(m["files"][0]["sha256"]) == 64 and not (raw / "vigorl" / "spatial_reasoning.tar").exists()
    vigorl.download(raw / "vigorl")  # finished: nothing fetched again
    assert calls == ["spatial_reasoning.tar"]
    rows = vigorl.read_rows(raw / "vigorl", "spatial_reasoning/vigorl_sat2_val_RL.jsonl")  # `image_paths` rows
    q, ch, gold, n_images = cf.SAT_ROWS[1]
    assert (rows[1]["question"], rows[1]["choices"], rows[1]["answer_text"], len(rows[1]["images"])) == (
        q,
        ch,
        gold,
        n_images,
    )
    assert rows[1]["prompt"].startswith("Question: How did") and rows[1]["prompt"].endswith("text of the option.")
    conv = vigorl.read_rows(raw / "vigorl", "spatial_reasoning/sat2_test/sat2_test.jsonl")
    assert conv[0]["answer_text"] == "left" and conv[0]["images"][0].name == "0_merged.png"


def test_vigorl_bad_rows_are_named(vigorl_raw, tmp_path):
    raw, _, _ = vigorl_raw
    with pytest.raises(InputError, match="nope.jsonl: not found; the ViGoRL download holds: .*vigorl_sat2_train_RL"):
        vigorl.read_rows(raw / "vigorl", "spatial_reasoning/nope.jsonl")
    root = vigorl.data_root(raw / "vigorl")
    bad = root / "spatial_reasoning" / "bad.jsonl"
    bad.write_text(
        json.dumps(
            {
                "problem": cf.sat_problem("q?", ["a", "b"], 1),
                "answer": "c",
                "images": ["spatial_reasoning/sat2/images/train_0_0.png"],
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match=r"bad.jsonl:1: answer 'c' is not one of its choices \['a', 'b'\]"):
        vigorl.read_rows(raw / "vigorl", "spatial_reasoning/bad.jsonl")
    bad.write_text(json.dumps({"problem": "Question: q? A. a B. b", "answer": "a", "images": ["x.png"]}) + "\n")
    with pytest.raises(InputError, match="no 'Answer Choices:'"):
        vigorl.read_rows(raw / "vigorl", "spatial_reasoning/bad.jsonl")


def test_vigorl_checksum_mismatch_removes_the_archive(tmp_path, monkeypatch):
    cf.make_vigorl_hub(tmp_path / "hub", n_train=2, n_val=1)
    monkeypatch.setattr(vigorl, "_hub_file", cf.fake_hub_file(tmp_path / "hub"))
    with pytest.raises(InputError, match="sources.vigorl.sha256.spatial_reasoning.tar"):
        vigorl.download(tmp_path / "raw" / "vigorl", {"sha256": {"spatial_reasoning.tar": "0" * 64}})
    assert read_manifest(tmp_path / "raw" / "vigorl") is None
    assert not (tmp_path / "raw" / "vigorl" / "spatial_reasoning.tar").exists()


def test_sat_builders_recompute_from_source(vigorl_raw, tmp_path):
    raw, written, _ = vigorl_raw
    out = bm.build_training_set("sat32k", raw, tmp_path / "sat32k", {"n_val": 2}, seed=3)
    train, val = read_split(out, "train"), read_split(out, "val")
    assert (len(train), len(val)) == (4, 2)
    rows = {r.meta["vigorl_row"]: r for r in train + val}
    assert sorted(rows) == list(range(6))  # disjoint, together every source row
    for i, rec in rows.items():
        src = written["train"][i]
        assert rec.choices[LETTERS.index(rec.answer)] == src["answer"] == rec.meta["target"]
        assert rec.question == src["problem"].replace("<image>", "").strip()
        assert len(rec.images) == len(src["images"]) and all((out / p).is_file() for p in rec.images)
    again = bm.build_training_set("sat32k", raw, tmp_path / "again", {"n_val": 2}, seed=3)
    assert [r.id for r in read_split(again, "val")] == [r.id for r in val]  # deterministic in the seed
    test = read_split(bm.build_benchmark("sat_val", raw, tmp_path / "satval", None, seed=0), "test")
    # "SAT Val" is the file ViGoRL's evaluation scores (sat2_test.jsonl), not the RL val file
    assert [r.meta["target"] for r in test] == [r["conversations"][1]["value"] for r in written["conv"]]
    assert all(r.source == "vigorl:spatial_reasoning/sat2_test/sat2_test.jsonl" for r in test)
    assert not (tmp_path / "satval" / "train.jsonl").exists()
    with pytest.raises(InputError, match=r"paper_data.sat32k: unknown key\(s\) \['n_tset'\]"):
        bm.build_training_set("sat32k", raw, tmp_path / "x", {"n_tset": 1}, seed=0)
    with pytest.raises(InputError, match="6 rows, fewer than n_val \\+ n_train = 10"):
        bm.build_training_set("sat32k", raw, tmp_path / "x", {"n_val": 5, "n_train": 5}, seed=0)


# ---------------------------------------------------------------------------------------- Mirage
PLANS = ["LEFT, LEFT", "UP", "RIGHT, RIGHT, UP", "RIGHT, RIGHT", "DOWN, DOWN"]


def _mirage_server(tmp_path):
    train_tar, test_tar = cf.make_mirage_archives(tmp_path / "stage", PLANS)
    f = Files()
    f.data["/rev/train.tar.gz"] = train_tar
    f.data["/rev/test.tar.gz"] = test_tar
    cfg = {
        "base_url": None,
        "revision": "rev",
        "train_archive": "train.tar.gz",
        "test_archive": "test.tar.gz",
        "test_sha256": __import__("hashlib").sha256(test_tar).hexdigest(),
        "backoff": 0,
    }
    return f, cfg


def test_mirage_download_resumes_checks_and_builds(tmp_path):
    f, cfg = _mirage_server(tmp_path)
    f.script["/rev/train.tar.gz"] = ["cut"]  # the first transfer breaks: retried (resume: tests/data/test_download.py)
    raw = tmp_path / "raw"
    with serve(f) as base:
        mirage.download(raw / "mirage", {**cfg, "base_url": base})
    assert [r[0] for r in f.requests] == ["/rev/train.tar.gz"] * 2 + ["/rev/test.tar.gz"]
    m = read_manifest(raw / "mirage")
    assert m["jsonl_rows"] == {"extracted/train_direct.jsonl": 5, "extracted_test/test_direct.jsonl": 5}
    out = bm.build_training_set("mirage_vsp", raw, tmp_path / "vsp", {"n_val": 1}, seed=0)
    recs = read_split(out, "train") + read_split(out, "val")
    assert len(recs) == 5
    for r in recs:
        i = int(r.meta["map_id"])
        assert r.answer == r.meta["target"] == "\\boxed{" + PLANS[i] + "}" and "<image>" not in r.question
        assert r.meta["map_desc"] == cf.MAPS[i % len(cf.MAPS)]
        # the helper image is Mirage's map_reasoning_path.png, kept outside `images`
        assert len(r.images) == 1 and r.helper_image not in r.images
        assert (out / r.helper_image).read_bytes() == (
            raw / "mirage" / "extracted" / f"img/level_{len(r.meta['map_desc'])}/{i}/map_reasoning_path.png"
        ).read_bytes()
    test = read_split(bm.build_benchmark("mirage_vsp_test", raw, tmp_path / "vsp_test", None, 0), "test")
    assert len(test) == 5 and all(r.task == "mirage_vsp" and r.helper_image is None for r in test)
    for r in test:  # the reference plan is a shortest safe plan
        assert scoring.mirage_vsp(r.answer, r)[0]
    assert [r.answer for r in test][:2] == ["\\boxed{DOWN, LEFT, LEFT, UP}", "\\boxed{UP}"]


def test_mirage_bad_checksum(tmp_path):
    f, cfg = _mirage_server(tmp_path)
    with serve(f) as base, pytest.raises(DownloadError, match="sha256 mismatch"):  # the one mirror failed
        mirage.download(tmp_path / "raw" / "mirage", {**cfg, "base_url": base, "test_sha256": "1" * 64})
    assert read_manifest(tmp_path / "raw" / "mirage") is None


# ------------------------------------------------------------------------------------ MMVP and V*
def test_mmvp_download_and_build(tmp_path, monkeypatch):
    written = cf.make_mmvp_hub(tmp_path / "hub")
    monkeypatch.setattr(mmvp, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    mmvp.download(tmp_path / "raw" / "mmvp")
    assert read_manifest(tmp_path / "raw" / "mmvp")["rows"] == 6
    test = read_split(bm.build_benchmark("mmvp", tmp_path / "raw", tmp_path / "mmvp", None, 0), "test")
    for r, src in zip(test, written):
        assert r.question == (
            src["Question"] + "\nOptions:\nA. Open B. Closed"
            "\nAnswer with the option's letter from the given choices directly."
        )
        assert r.choices == ["Open", "Closed"] and r.answer == src["Correct Answer"][1].upper()
        assert r.meta["pair"] == (int(src["Index"]) + 1) // 2
    csv = tmp_path / "raw" / "mmvp" / "Questions.csv"
    csv.write_text(csv.read_text().replace(",(a)\n", ",(c)\n", 1))
    with pytest.raises(InputError, match=r"Questions.csv:2: Correct Answer '\(c\)'"):
        mmvp.read_questions(tmp_path / "raw" / "mmvp")


def test_vstar_download_and_build(tmp_path, monkeypatch):
    written = cf.make_vstar_hub(tmp_path / "hub")
    monkeypatch.setattr(vstar, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    vstar.download(tmp_path / "raw" / "vstar")
    assert read_manifest(tmp_path / "raw" / "vstar")["categories"] == {"direct_attributes": 3, "relative_position": 2}
    out = bm.build_benchmark("vstar", tmp_path / "raw", tmp_path / "vstar", None, 0)
    test = read_split(out, "test")
    for r, src in zip(test, written):
        assert r.question == src["text"] + "\nAnswer with the option's letter from the given choices directly."
        assert r.answer == src["label"] and r.meta["subtask"] == src["category"]
    assert json.loads((out / "manifest.json").read_text())["subtask_sizes"] == {
        "direct_attributes": 3,
        "relative_position": 2,
    }


# ------------------------------------------------------------------------------ RoboSpatial-Home
def test_robospatial_download_and_build(tmp_path, monkeypatch):
    ds = cf.robospatial_dataset()
    monkeypatch.setattr(robospatial_home, "_hub_load", lambda repo_id, revision: ds)
    robospatial_home.download(tmp_path / "raw" / "robospatial_home")
    assert read_manifest(tmp_path / "raw" / "robospatial_home")["rows"] == {"configuration": 3, "compatibility": 2}
    test = read_split(bm.build_benchmark("robospatial_home", tmp_path / "raw", tmp_path / "rs", None, 0), "test")
    assert len(test) == 5
    for r in test:
        split, i = r.meta["subtask"], int(r.id.rsplit("-", 1)[1])
        assert r.meta["target"] == ds[split][i]["answer"].lower() == r.choices[LETTERS.index(r.answer)]
    with pytest.raises(InputError, match="unknown \\['kitchen'\\]"):
        robospatial_home.download(tmp_path / "raw2", {"splits": ["kitchen"]})


# ----------------------------------------------------------------------------------- BLINK subsets
DEPTH_Q = "Which point is closer to the camera?"
BLINK_QUESTIONS = {
    "Relative_Depth": [DEPTH_Q] * 3,  # as in BLINK: every Relative_Depth question alike
    "Spatial_Relation": ["Is the car left of the man?", "Is the cup on the table?"],
    "Multi-view_Reasoning": ["How did the camera move?"],
}
CHOICES = ["choice 0", "choice 1"]
VIGORL_BLINK = [  # (id, question, choices, gold) in ViGoRL's blink_validation.jsonl
    ("val_Spatial_Relation_2", "Is the cup on the table?", CHOICES, "choice 1"),  # its id is a BLINK idx
    ("17", "which point is  CLOSER to the camera?", CHOICES, "choice 0"),  # text only: case, spacing
    ("18", "Is the car left of the man?", CHOICES, "choice 1"),
    ("19", "How did the camera move?", CHOICES, "choice 0"),
    ("20", "Which painting shares the style?", CHOICES, "choice 1"),  # another BLINK subtask: left out
]


def test_blink3_is_vigorl_own_file_joined_to_blink_subtasks(tmp_path, monkeypatch):
    write_blink_hub(
        tmp_path / "hub",
        {
            c: [[natural(i + 10 * k, (48, 40))] for i in range(len(q))]
            for k, (c, q) in enumerate(BLINK_QUESTIONS.items())
        },
        questions=BLINK_QUESTIONS,
    )
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    blink.download(tmp_path / "raw" / "blink", {"configs": list(BLINK_QUESTIONS)})
    written = cf.make_vigorl_hub(tmp_path / "vhub", n_train=1, n_val=1, blink=VIGORL_BLINK)
    monkeypatch.setattr(vigorl, "_hub_file", cf.fake_hub_file(tmp_path / "vhub"))
    vigorl.download(tmp_path / "raw" / "vigorl")
    out = bm.build_benchmark("blink3", tmp_path / "raw", tmp_path / "b3", None, 0)
    recs = {r.meta["vigorl_id"]: r for r in read_split(out, "test")}
    assert {k: (r.meta["subtask"], r.meta["blink_idx"]) for k, r in recs.items()} == {
        "17": ("Relative_Depth", None),  # fits all three Relative_Depth rows: subtask, no single idx
        "val_Spatial_Relation_2": ("Spatial_Relation", "val_Spatial_Relation_2"),
        "18": ("Spatial_Relation", "val_Spatial_Relation_1"),
        "19": ("Multi-view_Reasoning", "val_Multi-view_Reasoning_1"),
    }
    source = {row["id"]: row for row in written["blink"]}
    for key, r in recs.items():  # ViGoRL's own prompt, gold text and image, untouched
        row = source[key]
        assert r.question == row["conversations"][0]["value"].replace("<image>", "").strip()
        assert r.meta["target"] == row["conversations"][1]["value"] == r.choices[LETTERS.index(r.answer)]
        extracted = vigorl.data_root(tmp_path / "raw" / "vigorl") / row["image"]
        assert [(out / p).read_bytes() for p in r.images] == [extracted.read_bytes()]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows_of_other_subtasks"] == 1
    assert manifest["subtask_sizes"] == {"Relative_Depth": 1, "Multi-view_Reasoning": 1, "Spatial_Relation": 2}
    with pytest.raises(InputError, match=r"blink/Counting: no val-\*.parquet"):
        bm.build_benchmark("blink3", tmp_path / "raw", tmp_path / "x", {"configs": ["Counting"]}, 0)


def test_blink3_join_refuses_a_row_that_fits_two_subtasks():
    from livr.data.benchmarks.blink_subsets import _text_key, match_subtask

    row = {"id": "5", "question": "Which is closer?", "choices": ["A", "B"]}
    by_text = {_text_key("which is closer?", ["a", "b"]): {"Relative_Depth": ["d1"], "Spatial_Relation": ["s1"]}}
    with pytest.raises(InputError, match="f:1: question 'Which is closer\\?'.*Relative_Depth, Spatial_Relation"):
        match_subtask(row, {}, by_text, "f:1")
    assert match_subtask(row, {}, {}, "f:1") is None


def test_blink3_names_a_subtask_without_rows(tmp_path, monkeypatch):
    write_blink_hub(tmp_path / "hub", {"Spatial_Relation": [[natural(1, (48, 40))]]})
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    blink.download(tmp_path / "raw" / "blink", {"configs": ["Spatial_Relation"]})
    cf.make_vigorl_hub(tmp_path / "vhub", n_train=1, n_val=1, blink=[("3", "Other?", CHOICES, "choice 0")])
    monkeypatch.setattr(vigorl, "_hub_file", cf.fake_hub_file(tmp_path / "vhub"))
    vigorl.download(tmp_path / "raw" / "vigorl")
    with pytest.raises(
        InputError,
        match="no row of spatial_reasoning/blink/blink_validation.jsonl matches a BLINK "
        "val row of Spatial_Relation .*1 of 1 rows matched none",
    ):
        bm.build_benchmark("blink3", tmp_path / "raw", tmp_path / "x", {"configs": ["Spatial_Relation"]}, 0)


def test_blink5_builder(tmp_path, monkeypatch):
    write_blink_hub(
        tmp_path / "hub", {"Counting": [[natural(i, (48, 40))] for i in range(4)]}, n_choices={"Counting": 4}
    )
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    blink.download(tmp_path / "raw" / "blink", {"configs": ["Counting"]})
    recs5 = read_split(
        bm.build_benchmark("blink5", tmp_path / "raw", tmp_path / "b5", {"configs": ["Counting"]}, 0), "test"
    )
    assert recs5[3].question == (
        "question 3\nOptions:\nA. choice 0\nB. choice 1\nC. choice 2\nD. choice 3\n"
        "\nAnswer with the option's letter from the given choices directly."
    )
    assert recs5[3].answer == recs5[3].meta["target"] == "D"
    with pytest.raises(InputError, match="IQ_Test"):  # a config the blink download lacks
        bm.build_benchmark("blink5", tmp_path / "raw", tmp_path / "b5x", None, 0)


# ------------------------------------------------------------------------------- LVR Visual-CoT
def test_visual_cot_download_selects_subset_and_streams_parts(tmp_path, monkeypatch):
    ann, _ = cf.make_visual_cot(tmp_path / "hub", n=6, n_parts=3, missing=1)
    calls = []
    monkeypatch.setattr(visual_cot, "_hub_file", cf.fake_hub_file(tmp_path / "hub", calls))
    f = Files()
    f.data["/lvr.json"] = ann
    raw = tmp_path / "raw" / "visual_cot"
    parts = [f"cot_images_tar_split/cot_images_{k:02d}" for k in range(3)]
    with serve(f) as base:
        visual_cot.download(
            raw, {"annotations_url": f"{base}/lvr.json", "subset_size": None, "image_parts": parts, "backoff": 0}
        )
    assert calls == parts and not [p for p in (raw / "parts").rglob("cot_images_*") if p.is_file()]  # deleted
    m = read_manifest(raw)
    assert m["counts"] == {"annotation_rows": 6, "selected": 6, "kept": 5, "images": 5}
    assert [d["id"] for d in m["dropped"]] == ["gqa-5"]
    kept = visual_cot.read_rows(raw)
    assert (
        kept[0]["question"] == "What is object 0?\nProvide a short and direct response."
        and kept[0]["answer"] == "thing 0"
    )
    assert kept[0]["images"][0] == raw / "images" / "flickr30k" / "1000.jpg"
    out = bm.build_training_set("viscot", tmp_path / "raw", tmp_path / "viscot", {"n_val": 1}, seed=0)
    recs = read_split(out, "train") + read_split(out, "val")
    assert sorted(r.meta["lvr_id"] for r in recs) == sorted(r["id"] for r in kept)
    assert all(r.choices == [] and r.answer == r.meta["target"] and "bbox" not in r.question for r in recs)
    # each record keeps its own LVR row's box, as given (fractions of the image)
    by_id = {f"{row['dataset']}-{row['question_id']}": row["bboxes"] for row in json.loads(ann)}
    assert all(r.boxes == by_id[r.meta["lvr_id"]] for r in recs) and len({str(r.boxes) for r in recs}) == len(recs)
    assert '"boxes"' in (out / "train.jsonl").read_text()


def test_visual_cot_subset_only_extracts_needed_images(tmp_path, monkeypatch):
    ann, _ = cf.make_visual_cot(tmp_path / "hub", n=6, n_parts=2, missing=0)
    raw = tmp_path / "raw" / "visual_cot"
    raw.mkdir(parents=True)
    (raw / "lvr_viscot_train.json").write_bytes(ann)  # placed by hand: used as is, nothing fetched
    monkeypatch.setattr(visual_cot, "_hub_file", cf.fake_hub_file(tmp_path / "hub"))
    visual_cot.download(
        raw,
        {
            "annotations_url": "http://127.0.0.1:9/unused",
            "subset_size": 2,
            "image_parts": [f"cot_images_tar_split/cot_images_{k:02d}" for k in range(2)],
            "keep_parts": True,
        },
    )
    assert len(list((raw / "images").rglob("*.jpg"))) == 2 == read_manifest(raw)["counts"]["kept"]
    assert len([p for p in (raw / "parts").rglob("cot_images_*") if p.is_file()]) == 2


def test_visual_cot_rejects_rows_without_the_lvr_form():
    with pytest.raises(InputError, match=r"x:0: expected conversations \[human, gpt\]"):
        visual_cot.parse_row({"image": ["viscot/a/b.jpg"], "conversations": [{"from": "gpt", "value": "x"}]}, "x:0")
    assert visual_cot.image_key("viscot/textvqa/train_images/1.jpg") == "textvqa/train_images/1.jpg"
    row = {
        "image": ["viscot/a/b.jpg"],
        "conversations": [{"from": "human", "value": "<image>\nq?"}, {"from": "gpt", "value": "<lvr>\na"}],
    }
    assert visual_cot.parse_row({**row, "bboxes": [[0, 0.5, 1, 1]]}, "x:0")["boxes"] == [[0.0, 0.5, 1.0, 1.0]]
    for bad, why in (
        (None, "'bboxes' is None; expected a non-empty list"),
        ([[0.2, 0.1, 0.1, 0.5]], r"box \[0.2, 0.1, 0.1, 0.5\] is not a non-empty box in \[0, 1\]"),
        ([[10, 20, 30, 40]], "is not a non-empty box in"),  # pixels, not fractions
        ([[0.1, 0.2, 0.3]], "is not \\[x0, y0, x1, y1\\]"),
    ):
        with pytest.raises(InputError, match="x:7: .*" + why):
            visual_cot.parse_row({**row, "bboxes": bad}, "x:7")


def test_unknown_benchmark_names_the_valid_ones():
    with pytest.raises(InputError, match="unknown benchmark 'mmvp2'; valid benchmarks: sat_val, blink3"):
        bm.build_benchmark("mmvp2", "raw", "out", None, 0)


# ------------------------------------------------------------------------------------ params.yaml
def test_params_mirror_the_comparison_builders_and_sources():
    import importlib

    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    for name in list(bm.TRAINING_SETS) + list(bm.BENCHMARKS):
        kind = "training set" if name in bm.TRAINING_SETS else "benchmark"
        defaults = bm.defaults(name, kind)
        if defaults:  # params.yaml states every parameter with the code's default
            assert raw["paper_data"][name] == defaults, name
    for name in ("vigorl", "robospatial_home", "mmvp", "vstar", "visual_cot", "mirage"):
        module_defaults = importlib.import_module(SOURCES[name]).DEFAULTS
        section = raw["sources"][name]
        assert set(section) <= set(module_defaults), name
        assert {k: v for k, v in section.items() if k in module_defaults} == {k: module_defaults[k] for k in section}, (
            name
        )
    needed = set(bm.defaults("blink3")["configs"]) | set(bm.defaults("blink5")["configs"])
    assert needed <= set(raw["sources"]["blink"]["configs"])


def test_cli_builds_a_comparison_set(vigorl_raw, tmp_path, capsys):
    from livr.cli import main

    raw, _, _ = vigorl_raw
    params = tmp_path / "params.yaml"
    params.write_text("paper_data:\n  seed: 1\n  sat_val: {n_test: 2}\n")
    assert (
        main(
            [
                "data",
                "build-comparison",
                "--name",
                "sat_val",
                "--raw-root",
                str(raw),
                "--out",
                str(tmp_path / "sv"),
                "--params",
                str(params),
            ]
        )
        == 0
    )
    assert len(read_split(tmp_path / "sv", "test")) == 2
    assert main(["data", "build-comparison", "--name", "sat", "--out", str(tmp_path / "x")]) == 2
    assert (
        "unknown comparison set 'sat'; valid training sets: sat32k, viscot, mirage_vsp; benchmarks: sat_val"
        in capsys.readouterr().err
    )
