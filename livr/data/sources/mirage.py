"""Mirage's Visual Spatial Planning (VSP) data (Yang et al., 2025, "Machine Mental Imagery"),
released inside the GitHub repository UMass-Embodied-AGI/Mirage.

Verified in the repository (commit 53f26de2682025e146781c5b198ec93bdfe4c4d6):
- data/vsp_spatial_planning/vsp_spatial_planning.tar.gz (train) and
  vsp_spatial_planning_test.tar.gz (test), extracted in that folder (README "Data Preparation").
- The test archive (2,932,686 bytes, sha256 0272164f...) holds test_direct.jsonl (400 rows: 100
  maps each of size 3..6) and imgs_test/level{3..6}/{img,pure_text,table}/; a row is
  {text_input, image_input: "./data/vsp_spatial_planning/imgs_test/level3/img/31.png", map_id,
  map_desc: [[...]]} with 1 = start, 2 = goal, -1 = hole, 0 = ice.
- train_direct.jsonl (as committed at e24a33e, 1,000 rows) has the same keys plus text_output,
  the plan as "\\boxed{LEFT, UP}", and image_output, Mirage's helper image (the map with the
  path drawn: ./data/vsp_spatial_planning/img/level_5/<id>/map_reasoning_path.png beside the
  question's map_5x5_step_0.png). Mirage's src/task.py puts it in the assistant turn before the
  plan; its stage 1 encodes it as the latent target. `read_rows` gives it as `helper`. That the
  current train archive holds this train_direct.jsonl and img/ tree is NOT verified (the archive
  is too large for the snapshot we could read); `read_rows` names what it finds when the expected
  file is missing.

`download` fetches both archives from raw.githubusercontent.com at a pinned commit with livr's
resumable downloader (sha256-checked where known), extracts them into data/raw/mirage/extracted/
(train) and extracted_test/, and writes the manifest.
"""

from __future__ import annotations

from pathlib import Path

from livr.data.download import require_manifest, write_manifest
from livr.data.sources._common import dl_kwargs, fetch_and_extract, is_finished
from livr.errors import InputError
from livr.io import json_lines

SOURCE = "mirage"
REPO_PREFIX = "./data/vsp_spatial_planning/"  # how Mirage's jsonl rows spell image paths
DEFAULTS = {
    "base_url": "https://raw.githubusercontent.com/UMass-Embodied-AGI/Mirage",
    "revision": "53f26de2682025e146781c5b198ec93bdfe4c4d6",
    "train_archive": "data/vsp_spatial_planning/vsp_spatial_planning.tar.gz",
    "test_archive": "data/vsp_spatial_planning/vsp_spatial_planning_test.tar.gz",
    # GitHub publishes no checksums: the test archive's sha256 was computed from the git blob at
    # the pinned revision; the train archive's could not be read offline (null = not checked).
    "train_sha256": None,
    "test_sha256": "0272164f29dbed8b191977f7fa71cff8964b701bb84af293bf7525ada8394956",
    "keep_archive": False,
    "retries": 5,
    "backoff": 1.0,
    "timeout": 60.0,
}
DISK_GB = 1  # estimate: the two VSP archives and their extracted images
SPLIT_DIRS = {"train": "extracted", "test": "extracted_test"}
SPLIT_FILES = {"train": "train_direct.jsonl", "test": "test_direct.jsonl"}


def archive_url(cfg: dict, split: str) -> str:
    return f"{cfg['base_url']}/{cfg['revision']}/{cfg[f'{split}_archive']}"


def probe_urls(cfg: dict) -> list[str]:
    """The URLs a pending download starts with (what `livr doctor` probes)."""
    return [archive_url(cfg, "test")]


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    if is_finished(raw_dir):
        return raw_dir
    files, rows = [], {}
    for split in ("train", "test"):
        files.append(
            fetch_and_extract(
                archive_url(cfg, split),
                raw_dir,
                SPLIT_DIRS[split],
                cfg[f"{split}_sha256"],
                cfg["keep_archive"],
                **dl_kwargs(cfg),
            )
        )
        for p in sorted((raw_dir / SPLIT_DIRS[split]).rglob("*.jsonl")):
            rows[str(p.relative_to(raw_dir))] = sum(1 for line in p.read_text().splitlines() if line.strip())
    write_manifest(
        raw_dir, {"source": SOURCE, "revision": cfg["revision"], "files": files, "jsonl_rows": rows, "dropped": []}
    )
    return raw_dir


def read_rows(raw_dir, split: str) -> list[dict]:
    """Rows of train_direct.jsonl / test_direct.jsonl with `image` (and, for train, the helper
    image `helper`) as absolute paths."""
    if split not in SPLIT_FILES:
        raise InputError(f"mirage: unknown split {split!r}; valid: {', '.join(SPLIT_FILES)}")
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    base = raw_dir / SPLIT_DIRS[split]
    found = sorted(base.rglob(SPLIT_FILES[split]))
    if not found:
        have = sorted(str(p.relative_to(base)) for p in base.rglob("*.jsonl"))
        raise InputError(
            f"{base}: no {SPLIT_FILES[split]} in the Mirage archive; it holds: {', '.join(have) or 'no .jsonl'}"
        )
    path = found[0]
    out = []
    for i, (where, row) in enumerate(json_lines(path)):
        missing = [
            k
            for k in ("text_input", "image_input", "map_desc")
            + (("text_output", "image_output") if split == "train" else ())
            if k not in row
        ]
        if missing:
            raise InputError(f"{where}: missing key(s) {missing}; has {sorted(row)}")
        found = {"image": _local(path, row["image_input"], where)}
        if split == "train":
            found["helper"] = _local(path, row["image_output"], where)
        out.append({**row, "row": i, **found})
    return out


def _local(jsonl: Path, repo_path: str, where: str) -> Path:
    """A row's "./data/vsp_spatial_planning/..." image path, found beside the extracted jsonl."""
    image = jsonl.parent / repo_path.removeprefix(REPO_PREFIX)
    if not image.is_file():
        raise InputError(f"{where}: image {repo_path!r} not found (looked for {image})")
    return image
