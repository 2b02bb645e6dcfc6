"""RoboSpatial-Home (Song et al., CVPR 2025), hub dataset `chanhee-luke/RoboSpatial-Home`.

Verified: the hub dataset loads with `datasets.load_dataset` into splits `context` (122, pointing),
`compatibility` (105) and `configuration` (123) (the hub viewer); the benchmark's own download
script reads the row fields category, question, answer, img, depth_image, mask
(chanhee-luke/RoboSpatial-Eval download_benchmark.py), and its scorer treats configuration and
compatibility answers as "yes"/"no" (evaluation.py: correct when the response starts with the
gold word). The paper uses configuration + compatibility: 228 questions. A re-hosted copy names
the image column `image`; both names are accepted.

`download` loads the configured splits through `_hub_load` (tests replace it), writes each RGB
image to images/<split>/<i>.png and the rows to rows/<split>.jsonl, then the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

from livr.data.download import require_manifest, write_manifest
from livr.errors import InputError
from livr.io import write_jsonl

SOURCE = "robospatial_home"
DEFAULTS = {
    "repo_id": "chanhee-luke/RoboSpatial-Home",
    "revision": "7ef1b43b20087ef284e0e9017ef51dd143814c59",  # docs/DATA.md: where the sha is from
    "splits": ["configuration", "compatibility"],
}  # the paper's 228 VQA questions
DISK_GB = 1  # estimate: the images of the configured splits, re-saved as PNG
SPLITS = ("configuration", "compatibility", "context")


def _hub_load(repo_id: str, revision: str | None):
    """The hub dataset as a DatasetDict (split -> rows with decoded PIL images)."""
    import datasets

    return datasets.load_dataset(repo_id, revision=revision)


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    bad = [s for s in cfg["splits"] if s not in SPLITS]
    if bad:
        raise InputError(f"sources.robospatial_home.splits: unknown {bad}; valid: {', '.join(SPLITS)}")
    ds = _hub_load(cfg["repo_id"], cfg["revision"])
    counts = {}
    for split in cfg["splits"]:
        if split not in ds:
            raise InputError(f"{cfg['repo_id']}: no split {split!r}; it has {sorted(ds)}")
        rows = []
        for i, r in enumerate(ds[split]):
            img = r.get("img", r.get("image"))
            if img is None:
                raise InputError(f"{cfg['repo_id']} {split} row {i}: no 'img' (or 'image'); keys {sorted(r)}")
            rel = f"images/{split}/{i}.png"
            (raw_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            img.convert("RGB").save(raw_dir / rel)
            rows.append(
                {
                    "row": i,
                    "category": r.get("category", split),
                    "question": r["question"],
                    "answer": str(r["answer"]),
                    "image": rel,
                }
            )
        write_jsonl(raw_dir / "rows" / f"{split}.jsonl", rows)
        counts[split] = len(rows)
    write_manifest(
        raw_dir,
        {"source": SOURCE, "repo_id": cfg["repo_id"], "revision": cfg["revision"], "rows": counts, "dropped": []},
    )
    return raw_dir


def read_rows(raw_dir, split: str) -> list[dict]:
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    path = raw_dir / "rows" / f"{split}.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: split {split!r} was not downloaded (sources.robospatial_home.splits)")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in rows:
        r["image"] = raw_dir / r["image"]
    return rows
