"""LVR's Visual-CoT training set (Li et al., 2025, "Latent Visual Reasoning"), the training data of
the paper's Table 4, with images from Visual-CoT (Shao et al., 2024), hub dataset
`deepcs233/Visual-CoT`.

Verified:
- LVR distributes its formatted training json through a Google Drive link (file id
  1RUbKMQU3H7u8iWDqpDv8aiYDMlUaDIlE, VincentLeebang/lvr README "Dataset Preparation"); a row is
  {dataset, split, question_id, image: ["viscot/flickr30k/2618322793.jpg"], conversations:
  [{from: human, value: "<image>\\n<question>\\nProvide a short and direct response."},
  {from: gpt, value: "<lvr>\\n<answer> <answer text> </answer>"}], bboxes: [[x0, y0, x1, y1]]}
  (same README). The boxes are fractions of the image: LVR's bbox_to_token_idxs
  (src/dataset/lvr_sft_dataset_packed.py @637a9f7) multiplies x by the 14 px patch grid's width and
  y by its height (floor for x0/y0, ceil for x1/y1), so they are resolution-free, origin top-left.
  Its rows put one `<lvr>` in the answer and its code pairs placeholders with boxes in order, so
  only a row's first box is ever used. LIVR drops the `<lvr>` part (a record is the question and
  the answer text); the rows keep the boxes for LVR (record field `boxes`, which SFT/LIVR never read).
- Visual-CoT's images are one tar split into 13 parts of ~10.7 GB,
  cot_images_tar_split/cot_images_00 .. _12 (hub file listing).
NOT verified offline: that Google Drive serves the json at the URL below without a browser (set
`annotations_url`, or put the file at data/raw/visual_cot/<annotations_file> by hand: it is then
used as is); the json's exact name and whether it comes zipped (a zip is extracted and its one
.json used); the member paths inside the image tar. Images are matched by the LVR path minus its
first folder ("flickr30k/2618322793.jpg"), against any trailing part of a tar member's path.

The training set is very large: `subset_size` rows (seeded) are selected first, and only their
images are extracted. The tar parts are downloaded one at a time (huggingface_hub resumes them),
read as one stream, and deleted after reading unless `keep_parts` (a killed job re-reads from the
first part; extracted images are kept and skipped). Rows whose image is not in the tar are dropped
and listed in the manifest. All hub access goes through `_hub_file`, which tests replace.
"""

from __future__ import annotations

import io
import json
import os
import random
import tarfile
from pathlib import Path, PurePosixPath

from livr.data.download import download_file, require_manifest, safe_extract, sha256_file, write_manifest
from livr.data.sources._common import is_finished
from livr.errors import InputError
from livr.io import write_jsonl

SOURCE = "visual_cot"
DEFAULTS = {
    "annotations_url": "https://drive.usercontent.google.com/download?id=1RUbKMQU3H7u8iWDqpDv8aiYDMlUaDIlE"
    "&export=download&confirm=t",
    "annotations_file": "lvr_viscot_train.json",
    "annotations_sha256": None,  # Google Drive publishes none
    "repo_id": "deepcs233/Visual-CoT",
    "revision": "041786024efbac07ab71767ee080c4cbbfb82400",  # the commit that uploaded cot_images_tar_split/
    "image_parts": [f"cot_images_tar_split/cot_images_{i:02d}" for i in range(13)],
    "subset_size": 20000,  # NOT SPECIFIED by the paper: rows kept (seeded); null = every row
    "selection_seed": 0,
    "keep_parts": False,
    "retries": 5,
    "backoff": 1.0,
    "timeout": 60.0,
}
DISK_GB = 25  # estimate: one ~10.7 GB tar part at a time plus the kept rows' images; keep_parts adds ~139 GB


def _hub_file(repo_id: str, filename: str, local_dir: Path, revision: str | None) -> Path:
    from huggingface_hub import hf_hub_download

    return Path(
        hf_hub_download(
            repo_id=repo_id, filename=filename, repo_type="dataset", local_dir=str(local_dir), revision=revision
        )
    )


def image_key(lvr_path: str) -> str:
    """LVR's "viscot/flickr30k/x.jpg" -> "flickr30k/x.jpg"."""
    parts = PurePosixPath(lvr_path).parts
    if len(parts) < 2:
        raise InputError(f"LVR image path {lvr_path!r} has no folder to strip")
    return str(PurePosixPath(*parts[1:]))


def parse_boxes(bboxes, where: str) -> list[list[float]]:
    """LVR's `bboxes` -> [[x0, y0, x1, y1], ...] fractions of the image; anything else is an error."""
    if not isinstance(bboxes, list) or not bboxes:
        raise InputError(f"{where}: 'bboxes' is {bboxes!r}; expected a non-empty list of [x0, y0, x1, y1]")
    out = []
    for box in bboxes:
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            raise InputError(f"{where}: box {box!r} is not [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise InputError(f"{where}: box {box!r} is not a non-empty box in [0, 1] fractions of the image")
        out.append([x0, y0, x1, y1])
    return out


def parse_row(row: dict, where: str) -> dict:
    """One LVR row -> {id, dataset, question, answer, images (LVR paths), boxes}; <lvr> dropped."""
    conv = row.get("conversations") or []
    if len(conv) < 2 or conv[0].get("from") != "human" or conv[1].get("from") != "gpt":
        raise InputError(f"{where}: expected conversations [human, gpt], got {[c.get('from') for c in conv]}")
    images = row.get("image")
    images = [images] if isinstance(images, str) else list(images or [])
    if not images:
        raise InputError(f"{where}: no 'image'")
    question = conv[0]["value"].replace("<image>", "").strip()
    answer = conv[1]["value"].replace("<lvr>", "")
    if "<answer>" in answer:
        answer = answer.split("<answer>", 1)[1].split("</answer>", 1)[0]
    answer = answer.strip()
    if not question or not answer:
        raise InputError(f"{where}: empty question or answer")
    qid = f"{row.get('dataset', 'viscot')}-{row.get('question_id', where.rsplit(':', 1)[-1])}"
    return {
        "id": qid,
        "dataset": row.get("dataset"),
        "question": question,
        "answer": answer,
        "images": images,
        "boxes": parse_boxes(row.get("bboxes"), where),
    }


def _annotations(raw_dir: Path, cfg: dict) -> Path:
    path = raw_dir / cfg["annotations_file"]
    if not path.is_file():
        download_file(
            cfg["annotations_url"],
            path,
            sha256=cfg["annotations_sha256"],
            retries=cfg["retries"],
            backoff=cfg["backoff"],
            timeout=cfg["timeout"],
        )
    if path.read_bytes()[:2] == b"PK":  # a zip: use its one json
        target = safe_extract(path, raw_dir / "annotations_extracted")
        found = sorted(target.rglob("*.json"))
        if len(found) != 1:
            raise InputError(f"{path}: the zip should hold one .json, holds {[p.name for p in found]}")
        return found[0]
    return path


class _PartsReader(io.RawIOBase):
    """The split tar's parts read as one stream, each fetched when reached and deleted after."""

    def __init__(self, fetch_part, names: list[str], keep: bool):
        self.fetch_part, self.names, self.keep = fetch_part, list(names), keep
        self.current, self.path = None, None

    def readable(self):
        return True

    def readinto(self, b):
        while True:
            if self.current is None:
                if not self.names:
                    return 0
                self.path = self.fetch_part(self.names.pop(0))
                self.current = open(self.path, "rb")
            n = self.current.readinto(b)
            if n:
                return n
            self.close_part()

    def close_part(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
            if not self.keep:
                self.path.unlink(missing_ok=True)


def _extract_needed(stream, needed: set[str], images_dir: Path) -> set[str]:
    """Stream the tar and write members whose trailing path is in `needed`; the keys found."""
    found = set()
    with tarfile.open(fileobj=stream, mode="r|*") as tf:
        for m in tf:
            if not m.isfile():
                continue
            parts = PurePosixPath(m.name.replace("\\", "/")).parts
            if ".." in parts or m.name.startswith("/"):
                raise InputError(f"Visual-CoT image tar: member {m.name!r} would land outside the target")
            key = next(
                (str(PurePosixPath(*parts[i:])) for i in range(len(parts)) if str(PurePosixPath(*parts[i:])) in needed),
                None,
            )
            if key is None:
                continue
            dest = images_dir / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".part")
            with tf.extractfile(m) as src, open(tmp, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, dest)
            found.add(key)
    return found


def probe_urls(cfg: dict) -> list[str]:
    """The URLs a pending download starts with (what `livr doctor` probes)."""
    return [cfg["annotations_url"]]  # the image parts come from the hub, the annotations from Google Drive


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    if is_finished(raw_dir):
        return raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    ann = _annotations(raw_dir, cfg)
    data = json.loads(ann.read_text())
    if not isinstance(data, list):
        raise InputError(f"{ann}: expected a JSON list of LVR rows, got {type(data).__name__}")
    rows = [parse_row(r, f"{ann}:{i}") for i, r in enumerate(data)]
    if cfg["subset_size"] is not None and cfg["subset_size"] < len(rows):
        keep = sorted(random.Random(cfg["selection_seed"]).sample(range(len(rows)), cfg["subset_size"]))
        rows = [rows[i] for i in keep]
    images_dir = raw_dir / "images"
    needed = {image_key(p) for r in rows for p in r["images"]}
    have = {k for k in needed if (images_dir / k).is_file()}
    if needed - have:
        reader = _PartsReader(
            lambda name: _hub_file(cfg["repo_id"], name, raw_dir / "parts", cfg["revision"]),
            cfg["image_parts"],
            cfg["keep_parts"],
        )
        try:
            have |= _extract_needed(io.BufferedReader(reader, 1 << 20), needed - have, images_dir)
        finally:
            reader.close_part()  # the tar may end before its last part is read to the end
    kept, dropped = [], []
    for r in rows:
        missing = [p for p in r["images"] if image_key(p) not in have]
        if missing:
            dropped.append({"id": r["id"], "reason": "image not in the Visual-CoT tar", "images": missing})
        else:
            kept.append({**r, "images": [f"images/{image_key(p)}" for p in r["images"]]})
    write_jsonl(raw_dir / "rows" / "train.jsonl", kept)
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "files": [{"path": str(ann.relative_to(raw_dir)), "sha256": sha256_file(ann)}],
            "params": {k: cfg[k] for k in ("subset_size", "selection_seed", "image_parts")},
            "counts": {"annotation_rows": len(data), "selected": len(rows), "kept": len(kept), "images": len(have)},
            "dropped": dropped,
        },
    )
    return raw_dir


def read_rows(raw_dir) -> list[dict]:
    """The kept rows {id, dataset, question, answer, images (absolute paths), boxes}."""
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    rows = [json.loads(line) for line in (raw_dir / "rows" / "train.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        r["images"] = [raw_dir / p for p in r["images"]]
    return rows
