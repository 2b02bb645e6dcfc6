"""V* Bench (Wu & Xie, 2023), hub dataset `craigwu/vstar_bench`: 191 high-resolution questions,
115 direct_attributes + 76 relative_position.

Layout (verified in public readers of the hub snapshot): `test_questions.jsonl` with rows
{question_id, image: "direct_attributes/sa_10033.jpg", text, category, label}, where `text` is the
question, one "(A) option" line per choice and "Answer with the option's letter from the given
choices directly.", and `label` the gold letter; images (with a per-image .json of V*'s own) in
direct_attributes/ and relative_position/. LVR evaluates these rows as they are (VincentLeebang/lvr
evaluation/evaluation.py: load_dataset("craigwu/vstar_bench")["test"], text + its instruction).
V*'s own script (penghao-wu/vstar vstar_bench_eval.py) instead reads the options from each image's
.json (gold first) and counts an item right when the gold option has the highest likelihood; the
paper's V* rows come from LVR, so LVR's generation protocol is the one reproduced.

`download` copies the jsonl and the images and writes the manifest. All hub access goes through
`hub_snapshot` (`_common.py`), which tests replace.
"""

from __future__ import annotations

import re
from pathlib import Path

from livr.data.download import require_manifest, sha256_file, write_manifest
from livr.data.sources._common import hub_snapshot
from livr.errors import InputError
from livr.io import json_lines

SOURCE = "vstar"
# main at the ground-truth label commit of May 2024 (PR #3); earlier commits lack those labels
DEFAULTS = {"repo_id": "craigwu/vstar_bench", "revision": "d9ae62c903da0c98336e85c5ee89cd863b04b4da"}
DISK_GB = 0.5  # estimate: 191 high-resolution images with their .json files
CATEGORIES = ("direct_attributes", "relative_position")
_CHOICE = re.compile(r"^\(([A-E])\)\s*(.*)$")


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    hub_snapshot(cfg["repo_id"], ["test_questions.jsonl", *(f"{c}/*" for c in CATEGORIES)], raw_dir, cfg["revision"])
    rows = read_questions(raw_dir, check_manifest=False)
    counts = {c: sum(r["category"] == c for r in rows) for c in CATEGORIES}
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "files": [{"path": "test_questions.jsonl", "sha256": sha256_file(raw_dir / "test_questions.jsonl")}],
            "rows": len(rows),
            "categories": counts,
            "dropped": [],
        },
    )
    return raw_dir


def parse_choices(text: str, where: str) -> list[str]:
    choices = []
    for line in text.splitlines():
        m = _CHOICE.match(line.strip())
        if m:
            if m.group(1) != "ABCDE"[len(choices)]:
                raise InputError(f"{where}: option line {line!r} out of order")
            choices.append(m.group(2).strip())
    if len(choices) < 2:
        raise InputError(f"{where}: fewer than 2 '(X) option' lines in {text[:160]!r}")
    return choices


def read_questions(raw_dir, check_manifest: bool = True) -> list[dict]:
    raw_dir = Path(raw_dir)
    if check_manifest:
        require_manifest(raw_dir, SOURCE)
    path = raw_dir / "test_questions.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: not found (run `livr data download --source vstar`)")
    out = []
    for where, row in json_lines(path):
        missing = [k for k in ("question_id", "image", "text", "category", "label") if k not in row]
        if missing:
            raise InputError(f"{where}: missing key(s) {missing}")
        if row["category"] not in CATEGORIES:
            raise InputError(f"{where}: category {row['category']!r}; valid: {', '.join(CATEGORIES)}")
        choices = parse_choices(row["text"], where)
        if row["label"] not in "ABCDE"[: len(choices)]:
            raise InputError(f"{where}: label {row['label']!r} is not among {list('ABCDE'[: len(choices)])}")
        image = raw_dir / row["image"]
        if not image.is_file():
            raise InputError(f"{where}: image {image} missing")
        out.append({**row, "question_id": str(row["question_id"]), "choices": choices, "image_path": image})
    return out
