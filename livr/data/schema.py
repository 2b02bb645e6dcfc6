"""The one record format every task, real or synthetic, is written in.

A built task lives in one directory:

    <task_dir>/train.jsonl, val.jsonl, test.jsonl   one Record per line
    <task_dir>/images/...                           image files (paths in records are relative
                                                    to <task_dir>)
    <task_dir>/manifest.json                        builder, seed, parameters, counts per split

`question` is the full text shown to the model after the images (choices included, in BLINK's
wording); images always come first in the user turn, in `images` order. `answer` is a bare
letter "A".."E" for choice tasks (the letter indexes `choices`), an integer as text for counting,
or free text for the FREE_TEXT_TASKS.

Two optional fields carry what only the latent-reconstruction methods (LVR, Mirage) read; SFT and
LIVR never see them, and a record without them is written without the key:
- `boxes`: [[x0, y0, x1, y1], ...], the region(s) of images[0] the answer rests on, as fractions
  of that image's width (x) and height (y), origin top-left, 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
  (LVR's convention: its bboxes are multiplied by the patch grid's width and height).
- `helper_image`: a path (relative to the task dir, like `images`) of an image shown to the
  method's training target only, never in the question (Mirage's map with the path drawn).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from livr.data.registry import COMPARISON_SPECS, TASK_SPECS, TRAINING_SETS
from livr.errors import InputError
from livr.io import atomic_dir, json_error, write_json

# The names, in the order of the specs (livr/data/specs/): the paper's nine tasks, then the `task`
# of the comparison experiments' records (training sets and evaluation-only benchmarks).
TASKS = tuple(TASK_SPECS)
COMPARISON_TASKS = tuple(dict.fromkeys(s.task for s in COMPARISON_SPECS.values()))
# Tasks whose answer is free text, not a letter or an integer (Visual-CoT's short answers; Mirage
# VSP's action plan "\boxed{RIGHT, DOWN}", scored by simulating it on the map).
FREE_TEXT_TASKS = tuple(dict.fromkeys(s.task for s in COMPARISON_SPECS.values() if s.free_text))
ALL_TASKS = TASKS + COMPARISON_TASKS
SPLITS = ("train", "val", "test")
LETTERS = "ABCDE"


@dataclasses.dataclass
class Record:
    id: str
    task: str
    split: str
    images: list[str]
    question: str
    choices: list[str]
    answer: str
    source: str
    meta: dict = dataclasses.field(default_factory=dict)
    boxes: list[list[float]] | None = None
    helper_image: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in OPTIONAL_FIELDS or v is not None}


# The optional fields above; `require_fields` checks a training set has the ones a method needs.
OPTIONAL_FIELDS = ("boxes", "helper_image")


class DatasetError(InputError):
    """A built dataset is malformed; the message names the file, row and key."""


def validate_record(rec: Record, where: str, task_dir: Path | None = None) -> None:
    if rec.task not in ALL_TASKS:
        raise DatasetError(f"{where}: key 'task' is {rec.task!r}; valid tasks: {', '.join(ALL_TASKS)}")
    if rec.split not in SPLITS:
        raise DatasetError(f"{where}: key 'split' is {rec.split!r}; valid splits: {', '.join(SPLITS)}")
    if not rec.images:
        raise DatasetError(f"{where}: key 'images' is empty; every record needs at least one image")
    _check_answer(rec, where)
    if rec.boxes is not None:
        _check_boxes(rec, where)
    if rec.helper_image is not None and (not isinstance(rec.helper_image, str) or not rec.helper_image):
        raise DatasetError(f"{where}: key 'helper_image' is {rec.helper_image!r}; it must be an image path")
    if task_dir is not None:
        for rel in rec.images + ([rec.helper_image] if rec.helper_image else []):
            p = task_dir / rel
            if not p.is_file():
                raise DatasetError(f"{where}: image {rel!r} is missing (looked for {p})")


def _check_answer(rec: Record, where: str) -> None:
    """The answer fits the record's kind: free text, a letter among its choices, or an integer."""
    if rec.task in FREE_TEXT_TASKS:
        if rec.choices or not rec.answer.strip():
            raise DatasetError(
                f"{where}: task {rec.task!r} takes a free-text answer and no choices; "
                f"got answer {rec.answer!r}, choices {rec.choices!r}"
            )
    elif rec.choices:
        valid = LETTERS[: len(rec.choices)]
        if rec.answer not in valid:
            raise DatasetError(f"{where}: key 'answer' is {rec.answer!r}, not among its choices {list(valid)}")
    elif not rec.answer.lstrip("-").isdigit():
        raise DatasetError(
            f"{where}: key 'answer' is {rec.answer!r}; an open-ended (no choices) answer must be an integer"
        )


def _check_boxes(rec: Record, where: str) -> None:
    """A non-empty list of [x0, y0, x1, y1] fractions of images[0], each box of positive size."""
    if len(rec.images) != 1:
        raise DatasetError(f"{where}: key 'boxes' needs exactly one image (boxes refer to it); got {len(rec.images)}")
    if not isinstance(rec.boxes, list) or not rec.boxes:
        raise DatasetError(f"{where}: key 'boxes' is {rec.boxes!r}; expected a non-empty list of [x0, y0, x1, y1]")
    for box in rec.boxes:
        ok = (
            isinstance(box, list)
            and len(box) == 4
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
        )
        if not ok or not (0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1):
            raise DatasetError(
                f"{where}: key 'boxes' holds {box!r}; each box is [x0, y0, x1, y1], fractions of the image "
                "with 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1"
            )


def require_fields(task_dir: str | Path, split: str, records: list[Record], fields: list[str]) -> None:
    """Refuse a training set that lacks a field a method trains on (LVR: "boxes", Mirage:
    "helper_image"): one error naming the dataset dir, the first row without it and the field."""
    unknown = sorted(set(fields) - set(OPTIONAL_FIELDS))
    if unknown:
        raise InputError(f"required field(s) {unknown} unknown; valid: {', '.join(OPTIONAL_FIELDS)}")
    for lineno, rec in enumerate(records, 1):
        for field in fields:
            if getattr(rec, field) is None:
                carriers = [n for n, spec in TRAINING_SETS.items() if field in spec.carries]
                raise DatasetError(
                    f"{task_dir}: {split}.jsonl row {lineno} (id {rec.id!r}) has no {field!r}, which this method "
                    f"trains on; training sets that carry it: {', '.join(carriers) or 'none'}"
                )


def read_split(task_dir: str | Path, split: str, check_images: bool = True) -> list[Record]:
    """Read and validate one split; errors name the file, line and key."""
    task_dir = Path(task_dir)
    path = task_dir / f"{split}.jsonl"
    if not path.is_file():
        raise DatasetError(
            f"{path}: split file missing (built task dirs hold {', '.join(s + '.jsonl' for s in SPLITS)})"
        )
    fields = {f.name for f in dataclasses.fields(Record)}
    records, seen = [], {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetError(f"{where}: {json_error(e)}") from None
            missing = fields - {"meta", *OPTIONAL_FIELDS} - row.keys()
            if missing:
                raise DatasetError(f"{where}: missing key(s) {sorted(missing)}")
            unknown = row.keys() - fields
            if unknown:
                raise DatasetError(f"{where}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(fields)}")
            rec = Record(**row)
            validate_record(rec, where, task_dir if check_images else None)
            if rec.id in seen:
                raise DatasetError(f"{where}: duplicate id {rec.id!r} (first on line {seen[rec.id]})")
            seen[rec.id] = lineno
            records.append(rec)
    if not records:
        raise DatasetError(f"{path}: split is empty")
    return records


def write_task_dir(task_dir: str | Path, splits: dict[str, list[Record]], manifest: dict, image_writer) -> None:
    """Write a whole task directory atomically.

    `image_writer(tmp_dir)` is called first to put the images under the temporary directory;
    then the split files and manifest are written and the directory is swapped in.
    """
    task_dir = Path(task_dir)
    with atomic_dir(task_dir) as tmp:
        image_writer(tmp)
        counts = {}
        for split, records in splits.items():
            for i, rec in enumerate(records):
                validate_record(rec, f"{task_dir}/{split}.jsonl record {i}", tmp)
            with open(tmp / f"{split}.jsonl", "w") as f:
                for rec in records:
                    f.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            counts[split] = len(records)
        write_json(tmp / "manifest.json", {**manifest, "counts": counts})
