"""NIGHTS (Fu et al., DreamSim, NeurIPS 2023): 20,019 image triplets with human 2AFC votes.

Release: `https://data.csail.mit.edu/nights/nights.zip` (no checksum published) unpacking to
`nights/` with `ref/<ddd>/<nnn>.png`, `distort/<ddd>/<nnn>_0.png`, `distort/<ddd>/<nnn>_1.png` and
`data.csv`. The CSV columns used here (read by name, as DreamSim's own loaders do): `id`,
`ref_path`, `left_path` (the `_0` distortion), `right_path` (`_1`), `left_vote` (share of the
human votes that picked the left image as closer to the reference, in [0, 1]), `right_vote`,
`votes` (number of agreeing votes; DreamSim keeps `votes >= 6`), `split` (train/val/test),
`is_imagenet`, `prompt`.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
from pathlib import Path

from livr.data.sources._common import DOWNLOAD_DEFAULTS, download_archive_source, find_dir

DEFAULTS = {
    "url": "https://data.csail.mit.edu/nights/nights.zip",
    "sha256": None,  # not published by the authors
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}
REQUIRED = ("id", "ref_path", "left_path", "right_path", "left_vote", "votes", "split")


def download(raw_dir, cfg: dict | None = None) -> Path:
    def survey(raw_dir):
        triplets, dropped = read_triplets(raw_dir, check_files=True)
        return dict(collections.Counter(t.split for t in triplets)), dropped

    return download_archive_source(raw_dir, {**DEFAULTS, **(cfg or {})}, "nights", "nights.zip", survey)


def dataset_root(raw_dir) -> Path:
    return find_dir(Path(raw_dir), lambda d: (d / "data.csv").is_file())


@dataclasses.dataclass
class Triplet:
    id: str
    ref: Path
    left: Path
    right: Path
    left_vote: float
    right_vote: float
    votes: int
    split: str
    prompt: str

    @property
    def majority(self) -> str | None:
        """'left' / 'right' by the human vote share; None on an exact tie."""
        if self.left_vote > self.right_vote:
            return "left"
        if self.right_vote > self.left_vote:
            return "right"
        return None


def read_triplets(raw_dir, check_files: bool = False) -> tuple[list[Triplet], list[dict]]:
    root = dataset_root(raw_dir)
    path = root / "data.csv"
    out, dropped = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; found {reader.fieldnames}")
        for lineno, row in enumerate(reader, 2):
            try:
                lv = float(row["left_vote"])
                rv = float(row["right_vote"]) if row.get("right_vote") not in (None, "") else 1.0 - lv
                votes = int(float(row["votes"]))
            except ValueError as e:
                raise ValueError(f"{path}:{lineno}: bad vote value ({e})") from None
            t = Triplet(str(row["id"]), root / row["ref_path"], root / row["left_path"], root / row["right_path"],
                        lv, rv, votes, row["split"], row.get("prompt", ""))
            if check_files and not all(p.is_file() for p in (t.ref, t.left, t.right)):
                dropped.append({"id": t.id, "reason": "image file missing"})
                continue
            out.append(t)
    return out, dropped
