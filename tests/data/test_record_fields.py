"""The record fields only the latent-reconstruction methods read (`boxes`, `helper_image`): written
only when present, checked when present, and a training set without the one a method needs is
refused with one error naming the dataset dir, the row and the field."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from livr.data.registry import TRAINING_SETS
from livr.data.schema import OPTIONAL_FIELDS, DatasetError, Record, read_split, require_fields, write_task_dir
from livr.data.standins import build_standin
from livr.errors import InputError


def _rec(i: int, **extra) -> Record:
    return Record(
        id=f"r{i}",
        task="viscot",
        split="train",
        images=["images/a.png"],
        question="What colour?",
        choices=[],
        answer="red",
        source="test",
        **extra,
    )


def _write(task_dir, records):
    def images(tmp):
        (tmp / "images").mkdir()
        for name in ("a.png", "h.png"):
            Image.new("RGB", (8, 8)).save(tmp / "images" / name)

    write_task_dir(task_dir, {"train": records}, {"builder": "test"}, images)


def test_optional_fields_are_written_only_when_present_and_read_back(tmp_path):
    _write(tmp_path / "t", [_rec(0), _rec(1, boxes=[[0.0, 0.25, 0.5, 1.0]], helper_image="images/h.png")])
    lines = [json.loads(x) for x in (tmp_path / "t" / "train.jsonl").read_text().splitlines()]
    assert not set(OPTIONAL_FIELDS) & lines[0].keys()
    back = read_split(tmp_path / "t", "train")
    assert (back[0].boxes, back[0].helper_image) == (None, None)
    assert (back[1].boxes, back[1].helper_image) == ([[0.0, 0.25, 0.5, 1.0]], "images/h.png")


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"boxes": []}, r"key 'boxes' is \[\]; expected a non-empty list"),
        ({"boxes": [[0.5, 0.1, 0.4, 0.9]]}, r"key 'boxes' holds \[0.5, 0.1, 0.4, 0.9\]; each box is"),
        ({"boxes": [[0, 0, 2, 1]]}, "fractions of the image with 0 <= x0 < x1 <= 1"),
        ({"boxes": [[0, 0, 1]]}, r"key 'boxes' holds \[0, 0, 1\]"),
        ({"boxes": [[0, 0, True, 1]]}, "key 'boxes' holds"),
        ({"helper_image": ""}, "key 'helper_image' is ''; it must be an image path"),
        ({"helper_image": "images/nope.png"}, "image 'images/nope.png' is missing"),
    ],
)
def test_bad_optional_fields_are_named(tmp_path, extra, message):
    with pytest.raises(DatasetError, match=r"train.jsonl record 0: .*" + message):
        _write(tmp_path / "t", [_rec(0, **extra)])


def test_boxes_need_exactly_one_image(tmp_path):
    rec = _rec(0, boxes=[[0, 0, 1, 1]])
    rec.images = ["images/a.png", "images/h.png"]
    with pytest.raises(DatasetError, match="key 'boxes' needs exactly one image"):
        _write(tmp_path / "t", [rec])


def test_require_fields_names_dir_row_and_field(tmp_path):
    _write(tmp_path / "t", [_rec(0, boxes=[[0, 0, 1, 1]]), _rec(1), _rec(2)])
    recs = read_split(tmp_path / "t", "train")
    require_fields(tmp_path / "t", "train", recs[:1], ["boxes"])  # every row has it: no error
    with pytest.raises(DatasetError) as e:
        require_fields(tmp_path / "t", "train", recs, ["boxes"])
    assert str(e.value) == (
        f"{tmp_path / 't'}: train.jsonl row 2 (id 'r1') has no 'boxes', which this method trains on; "
        "training sets that carry it: viscot"
    )
    with pytest.raises(DatasetError, match="row 1 \\(id 'r0'\\) has no 'helper_image'.*carry it: mirage_vsp"):
        require_fields(tmp_path / "t", "train", recs, ["helper_image"])
    with pytest.raises(InputError, match=r"required field\(s\) \['box'\] unknown; valid: boxes, helper_image"):
        require_fields(tmp_path / "t", "train", recs, ["box"])


def test_every_training_set_carries_what_it_says(tmp_path):
    """Each training set's stand-in (what `ci` trains on) has on every row the fields its spec
    declares; one that declares none is refused for either field."""
    for name, spec in TRAINING_SETS.items():
        assert set(spec.carries) <= set(OPTIONAL_FIELDS), name
        out = build_standin(name, tmp_path / name, n_train=3, n_val=2, n_test=1, seed=0)
        for split in ("train", "val"):
            recs = read_split(out, split)
            require_fields(out, split, recs, list(spec.carries))
            for field in set(OPTIONAL_FIELDS) - set(spec.carries):
                with pytest.raises(DatasetError, match=f"row 1 .* has no '{field}'"):
                    require_fields(out, split, recs, [field])
