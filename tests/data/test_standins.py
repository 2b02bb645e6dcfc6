"""Offline stand-ins of the comparison data: the record form of each real builder, answers decided
by the pixels, each benchmark's own scorer accepting the target, and bad input named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livr.cli import main as cli
from livr.data import benchmarks as bm
from livr.data.schema import LETTERS, read_split
from livr.data.standins import BLUE, NAMES, RED, TILE, build_standin, subtask_sizes
from livr.errors import InputError

REAL_SUBTASKS = {  # what the real builders write in meta["subtask"]
    "blink3": set(bm.defaults("blink3")["configs"]),
    "blink5": set(bm.defaults("blink5")["configs"]),
    "robospatial_home": set(bm.defaults("robospatial_home")["splits"]),
    "vstar": {"direct_attributes", "relative_position"},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("standins")
    return {n: build_standin(n, root / n, n_train=10, n_val=4, n_test=24, seed=1) for n in NAMES}


def test_every_registry_name_has_a_standin():
    assert set(NAMES) == set(bm.TRAINING_SETS) | set(bm.BENCHMARKS)


@pytest.mark.parametrize("name", NAMES)
def test_splits_tasks_and_targets(built, name):
    if name in bm.TRAINING_SETS:
        assert sorted(p.name for p in built[name].glob("*.jsonl")) == ["train.jsonl", "val.jsonl"]
        splits = {s: read_split(built[name], s) for s in ("train", "val")}
        assert [len(r) for r in splits.values()] == [10, 4]
        task = name
    else:
        assert sorted(p.name for p in built[name].glob("*.jsonl")) == ["test.jsonl"]
        splits = {"test": read_split(built[name], "test")}
        task = bm.BENCHMARKS[name].task
    for records in splits.values():
        assert all(r.task == task and "target" in r.meta for r in records)
        for r in records:  # option-text forms train on the option's text, letter forms on the letter
            option_text = r.choices and name not in ("mmvp", "vstar", "blink5")
            assert r.meta["target"] == (r.choices[LETTERS.index(r.answer)] if option_text else r.answer)
    if name in bm.BENCHMARKS:
        records = splits["test"]
        # the target is right by the benchmark's own scorer, the other option is wrong
        assert bm.summarize(name, bm.score(name, records, [r.meta["target"] for r in records]))["accuracy"] == 100.0
        if records[0].choices:
            wrong = [
                c if r.meta["target"] != r.answer else LETTERS[r.choices.index(c)]
                for r in records
                for c in r.choices
                if c != r.choices[LETTERS.index(r.answer)]
            ]
            assert bm.summarize(name, bm.score(name, records, wrong))["accuracy"] == 0.0


@pytest.mark.parametrize("name", sorted(REAL_SUBTASKS))
def test_subtasks_are_the_real_ones_with_unequal_sizes(built, name):
    records = read_split(built[name], "test")
    sizes = {}
    for r in records:
        sizes[r.meta["subtask"]] = sizes.get(r.meta["subtask"], 0) + 1
    assert set(sizes) == REAL_SUBTASKS[name] and sum(sizes.values()) == 24
    assert len(set(sizes.values())) > 1, "equal sizes would hide the difference between pooled and mean-of-subtasks"


def test_subtask_sizes():
    assert subtask_sizes(24, ("a", "b", "c")) == {"a": 4, "b": 8, "c": 12}
    assert subtask_sizes(5, tuple("abcde")) == dict.fromkeys("abcde", 1)
    with pytest.raises(InputError, match="cannot cover 5 subtasks"):
        subtask_sizes(4, tuple("abcde"))


def test_mmvp_pairs_ask_the_same_relation_about_different_scenes(built):
    records = read_split(built["mmvp"], "test")
    assert [r.meta["pair"] for r in records] == [i // 2 + 1 for i in range(24)]
    assert [r.meta["mmvp_index"] for r in records] == list(range(1, 25))
    for a, b in zip(records[::2], records[1::2]):
        assert a.question == b.question and a.images != b.images
    bm.summarize("mmvp", bm.score("mmvp", records, ["A"] * 24))  # complete pairs: MMVP's pair accuracy is defined


def _centre(img: np.ndarray, colour) -> tuple[float, float, int]:
    ys, xs = np.nonzero((img == np.array(colour)).all(axis=2))
    return xs.mean(), ys.mean(), len(xs)


@pytest.mark.parametrize("name", ["sat32k", "blink3", "robospatial_home", "blink5", "viscot"])
def test_the_answer_is_decided_by_the_pixels(built, name):
    split = "train" if name in bm.TRAINING_SETS else "test"
    for r in read_split(built[name], split):
        img = np.asarray(Image.open(built[name] / r.images[0]).convert("RGB"))
        (rx, ry, ra), (bx, by, ba) = _centre(img, RED), _centre(img, BLUE)
        q = r.question
        truth = {
            "left": rx < bx,
            "right": rx > bx,
            "above": ry < by,
            "below": ry > by,
            "larger": ra > ba,
            "smaller": ra < ba,
        }
        if name == "robospatial_home":
            asked = next(w for w in truth if f" {w} " in q)
            assert r.meta["target"] == ("yes" if truth[asked] else "no"), (r.id, q)
        else:
            said = r.meta["target"] if name != "blink5" else r.choices[LETTERS.index(r.answer)]
            assert truth[said], (r.id, q, said)


@pytest.mark.parametrize("name", ["mirage_vsp", "mirage_vsp_test"])
def test_mirage_maps_are_drawn_as_described_and_plans_reach_the_goal(built, name):
    from livr.data.benchmarks.scoring import mirage_vsp

    split = "train" if name in bm.TRAINING_SETS else "test"
    for r in read_split(built[name], split):
        grid = r.meta["map_desc"]
        img = np.asarray(Image.open(built[name] / r.images[0]).convert("RGB"))
        step = img.shape[0] // len(grid)
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                assert tuple(img[i * step + step // 2, j * step + step // 2]) == TILE[v]
        assert mirage_vsp(r.meta["target"], r)[0] and r.meta["answer_is_reference_plan"] == (split == "test")


@pytest.mark.parametrize("split", ["train", "val"])
def test_viscot_box_is_exactly_the_red_square(built, split):
    for r in read_split(built["viscot"], split):
        img = np.asarray(Image.open(built["viscot"] / r.images[0]).convert("RGB"))
        h, w, _ = img.shape
        (box,) = r.boxes
        x0, y0, x1, y1 = (round(v * n) for v, n in zip(box, (w, h, w, h)))
        assert np.allclose(np.array(box) * [w, h, w, h], [x0, y0, x1, y1])  # pixel edges, not rounded
        inside = np.zeros((h, w), bool)
        inside[y0:y1, x0:x1] = True
        assert np.array_equal(np.all(img == RED, axis=-1), inside), r.id


def _path_cells(grid: list[list[int]], plan: str) -> set[tuple[int, int]]:
    """The cells a plan visits, start included, walked here independently of the stand-in's code."""
    r, c = next((i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if v == 1)
    cells = {(r, c)}
    for word in plan.split(", "):
        dr, dc = {"LEFT": (0, -1), "RIGHT": (0, 1), "UP": (-1, 0), "DOWN": (1, 0)}[word]
        r, c = r + dr, c + dc
        cells.add((r, c))
    return cells


@pytest.mark.parametrize("split", ["train", "val"])
def test_mirage_helper_image_differs_from_the_map_exactly_along_the_path(built, split):
    recs = read_split(built["mirage_vsp"], split)
    assert all(r.helper_image and r.helper_image not in r.images for r in recs)
    for r in recs:
        grid, plan = r.meta["map_desc"], r.meta["target"].removeprefix("\\boxed{").removesuffix("}")
        img = np.asarray(Image.open(built["mirage_vsp"] / r.images[0]).convert("RGB"))
        helper = np.asarray(Image.open(built["mirage_vsp"] / r.helper_image).convert("RGB"))
        step = img.shape[0] // len(grid)
        ys, xs = np.nonzero(np.any(img != helper, axis=-1))
        changed = {(int(y) // step, int(x) // step) for y, x in zip(ys, xs)}
        assert changed == _path_cells(grid, plan), r.id
        for i, j in changed:  # each path cell's own tile colour is still around the mark
            assert tuple(helper[i * step + 2, j * step + 2]) == TILE[grid[i][j]]
    # the benchmark's test rows carry no helper image
    assert all(r.helper_image is None for r in read_split(built["mirage_vsp_test"], "test"))


def test_same_seed_same_files(tmp_path):
    def digest(d: Path) -> dict:
        return {
            p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "manifest.json"
        }

    a = build_standin("blink3", tmp_path / "a", 1, 1, 12, seed=4)
    b = build_standin("blink3", tmp_path / "b", 1, 1, 12, seed=4)
    c = build_standin("blink3", tmp_path / "c", 1, 1, 12, seed=5)
    assert digest(a) == digest(b) != digest(c)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--name", "sat64k"], "unknown comparison set 'sat64k'; valid: sat32k, sat_val"),
        (["--name", "mmvp", "--n-test", "7"], "n_test=7; MMVP's questions come in pairs"),
        (["--name", "blink5", "--n-test", "3"], "3 examples cannot cover 5 subtasks"),
        (["--name", "sat32k", "--n-val", "0"], "n_val=0: every split needs at least one example"),
        (["--name", "sat32k", "--image-size", "100"], "image_size=100: must be a multiple of 28"),
    ],
)
def test_bad_input_is_named(tmp_path, capsys, args, message):
    assert cli(["data", "synth-comparison", *args, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
