"""MMVP (Tong et al., 2024, "Eyes Wide Shut?"), hub dataset `MMVP/MMVP`: 300 two-option questions
on 150 image pairs.

Layout (verified in several public readers, e.g. InternVL's evaluation docs, which clone the hub
repo): `Questions.csv` with columns Index, Question, Options, Correct Answer (e.g. `1, Are the
butterfly's wings closer to being open or closed?, (a) Open (b) Closed, (a)`) and
`MMVP Images/<Index>.jpg` (1.jpg .. 300.jpg). Questions 2k-1 and 2k form a pair (MMVP's
per-pair metric). LVR reads exactly these (VincentLeebang/lvr evaluation/evaluation.py
load_mmvp_dataset).

`download` copies Questions.csv and the images from the hub and writes the manifest (rows, sha256
of the CSV). All hub access goes through `hub_snapshot` (`_common.py`), which tests replace.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from livr.data.download import require_manifest, sha256_file, write_manifest
from livr.data.sources._common import hub_snapshot
from livr.errors import InputError

SOURCE = "mmvp"
# docs/DATA.md says where the revision's sha was found
DEFAULTS = {"repo_id": "MMVP/MMVP", "revision": "37eafecab8a3940c50c2ade5b36de69dbc99a8cf"}
DISK_GB = 0.1  # estimate: 300 JPEGs and Questions.csv
IMAGES = "MMVP Images"
COLUMNS = ("Index", "Question", "Options", "Correct Answer")
_OPTIONS = re.compile(r"^\(a\)\s*(.+?)\s*\(b\)\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    hub_snapshot(cfg["repo_id"], ["Questions.csv", f"{IMAGES}/*"], raw_dir, cfg["revision"])
    rows = read_questions(raw_dir, check_manifest=False)
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "files": [{"path": "Questions.csv", "sha256": sha256_file(raw_dir / "Questions.csv")}],
            "rows": len(rows),
            "dropped": [],
        },
    )
    return raw_dir


def parse_options(options: str, where: str) -> list[str]:
    m = _OPTIONS.match(options.strip())
    if not m:
        raise InputError(f"{where}: Options {options!r} is not '(a) ... (b) ...'")
    return [m.group(1), m.group(2)]


def read_questions(raw_dir, check_manifest: bool = True) -> list[dict]:
    """Rows {index, question, options (raw text), choices, answer ("A"/"B"), image (path)}."""
    raw_dir = Path(raw_dir)
    if check_manifest:
        require_manifest(raw_dir, SOURCE)
    path = raw_dir / "Questions.csv"
    if not path.is_file():
        raise InputError(f"{path}: not found (run `livr data download --source mmvp`)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing}; has {reader.fieldnames}")
        rows = list(reader)
    out = []
    for line, r in enumerate(rows, 2):
        where = f"{path}:{line}"
        idx = int(r["Index"])
        gold = r["Correct Answer"].strip().lower()
        if gold not in ("(a)", "(b)"):
            raise InputError(f"{where}: Correct Answer {r['Correct Answer']!r} is not (a) or (b)")
        image = raw_dir / IMAGES / f"{idx}.jpg"
        if not image.is_file():
            raise InputError(f"{where}: image {image} missing")
        out.append(
            {
                "index": idx,
                "question": r["Question"],
                "options": r["Options"],
                "choices": parse_options(r["Options"], where),
                "answer": gold[1].upper(),
                "image": image,
            }
        )
    return out
