"""BLINK (Fu et al., 2024), hub dataset `BLINK-Benchmark/BLINK`: the test sets of most tasks.

The hub repository holds one folder per subtask config with `val-00000-of-00001.parquet` and
`test-00000-of-00001.parquet` (test answers hidden). Row fields: idx, question, sub_task,
image_1..image_4 (datasets `Image` feature: struct {bytes, path}, null when absent), choices
(list of strings), answer ("(A)"), prompt (question + "Select from the following choices." +
"(A) ..." lines, the text BLINK's own evaluation gives the model), explanation.

`download` copies the parquet files of the configured subtasks/splits into
data/raw/blink/<Config>/<split>-*.parquet and writes the manifest (files, sha256, rows).
`test_records(raw_root, task)` turns a subtask's `val` split into this project's test split.

All hub access goes through `hub_snapshot` (`_common.py`), which tests replace.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from livr.data.download import require_manifest, sha256_file, write_manifest
from livr.data.registry import task_spec
from livr.data.schema import LETTERS, Record
from livr.data.sources._common import hub_snapshot
from livr.errors import InputError

SOURCE = "blink"
DEFAULTS = {
    "repo_id": "BLINK-Benchmark/BLINK",
    # the commit with every subtask as the papers of 2024-25 had it; None = the hub's main branch (docs/DATA.md)
    "revision": "cbb5717ea541ba92bbf9a63b99972493a1a133b8",
    # The nine subtasks the paper uses (Counting is downloaded for completeness; the paper's
    # counting test set is PixMo-Count).
    "configs": [
        "Counting",
        "Jigsaw",
        "Object_Localization",
        "Visual_Correspondence",
        "Art_Style",
        "Semantic_Correspondence",
        "Functional_Correspondence",
        "Relative_Reflectance",
        "Visual_Similarity",
    ],
    "splits": ["val"],  # `test` has hidden answers; add it only for leaderboard submissions
}
DISK_GB = 1  # estimate: the val parquet files of nine subtasks (images embedded)
IMAGE_KEYS = ("image_1", "image_2", "image_3", "image_4")
REQUIRED = ("idx", "prompt", "choices", "answer", "image_1")


def parquet_files(raw_dir, config: str, split: str = "val") -> list[Path]:
    return sorted((Path(raw_dir) / config).glob(f"{split}-*.parquet"))


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    patterns = [f"{c}/{s}-*.parquet" for c in cfg["configs"] for s in cfg["splits"]]
    hub_snapshot(cfg["repo_id"], patterns, raw_dir, cfg["revision"])
    files, rows = [], {}
    for c in cfg["configs"]:
        for s in cfg["splits"]:
            found = parquet_files(raw_dir, c, s)
            if not found:
                raise InputError(
                    f"{raw_dir}/{c}: no {s}-*.parquet after fetching {cfg['repo_id']}; "
                    f"valid configs include: {', '.join(DEFAULTS['configs'])}"
                )
            rows[f"{c}/{s}"] = len(read_rows(raw_dir, c, s, decode=False))
            files += [{"path": str(p.relative_to(raw_dir)), "sha256": sha256_file(p)} for p in found]
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "files": files,
            "rows": rows,
            "dropped": [],
        },
    )
    return raw_dir


def read_rows(raw_dir, config: str, split: str = "val", decode: bool = True) -> list[dict]:
    """Rows of one subtask split; with `decode`, image_k become PIL images (or None)."""
    import pyarrow.parquet as pq

    files = parquet_files(raw_dir, config, split)
    if not files:
        raise InputError(f"{Path(raw_dir) / config}: no {split}-*.parquet (run `livr data download --source blink`)")
    out = []
    for f in files:
        table = pq.read_table(f)
        missing = [k for k in REQUIRED if k not in table.column_names]
        if missing:
            raise InputError(f"{f}: missing BLINK column(s) {missing}; has {table.column_names}")
        for i, row in enumerate(table.to_pylist()):
            if decode:
                for k in IMAGE_KEYS:
                    row[k] = _decode(row.get(k), f"{f} row {i} {k}")
            row["_file"] = str(f)
            out.append(row)
    return out


def _decode(cell, where: str) -> Image.Image | None:
    if cell is None:
        return None
    data = cell.get("bytes") if isinstance(cell, dict) else cell
    if not data:
        return None
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as e:  # noqa: BLE001 - any decoder failure is a corrupt cell
        raise InputError(f"{where}: image bytes do not decode ({e})") from None
    return im.convert("RGB")


def answer_letter(answer: str, n_choices: int, where: str) -> str:
    """'(A)' / 'A' -> 'A', checked against the number of choices."""
    a = answer.strip().strip("()").strip()
    if len(a) != 1 or a not in LETTERS[:n_choices]:
        raise InputError(f"{where}: answer {answer!r} is not one of {[f'({c})' for c in LETTERS[:n_choices]]}")
    return a


def test_records(raw_root, task: str) -> tuple[list[Record], dict[str, Image.Image]]:
    """BLINK `val` of `task`'s subtask as test Records (answer a bare letter, question = BLINK's
    `prompt`, images under images/test/) plus {relative path: PIL image} to write."""
    config = task_spec(task).blink_subtask
    raw_dir = Path(raw_root) / SOURCE
    require_manifest(raw_dir, SOURCE)
    records, images = [], {}
    for i, row in enumerate(read_rows(raw_dir, config, "val")):
        where = f"{row['_file']} row {i} (idx {row['idx']})"
        choices = list(row["choices"] or [])
        idx = str(row["idx"])
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in idx)
        rels = []
        for k in IMAGE_KEYS:
            if row.get(k) is not None:
                rel = f"images/test/{safe}_{k}.png"
                images[rel] = row[k]
                rels.append(rel)
        if not rels:
            raise InputError(f"{where}: no images")
        records.append(
            Record(
                id=f"blink-{config}-{safe}",
                task=task,
                split="test",
                images=rels,
                question=row["prompt"],
                choices=choices,
                answer=answer_letter(row["answer"], len(choices), where),
                source=f"blink:{config}/val",
                meta={"blink_idx": idx, "blink_question": row.get("question"), "sub_task": row.get("sub_task")},
            )
        )
    return records, images
