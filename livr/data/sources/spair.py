"""SPair-71k (Min et al., 2019).

Release: `SPair-71k.tar.gz` (no checksum published) unpacking to `SPair-71k/` with
`JPEGImages/<category>/<name>.jpg`, `ImageAnnotation/<category>/<name>.json`,
`PairAnnotation/{trn,val,test}/<pair_id>-<src>-<trg>:<category>.json`, `Layout/`, `Segmentation/`.
A pair file holds `src_imname`, `trg_imname`, `category`, `src_kps` / `trg_kps` (lists of [x, y]
in pixels, only the keypoints visible in BOTH images, in matching order), `kps_ids`,
`src_bndbox`, `trg_bndbox`, `src_imsize`, `trg_imsize` and viewpoint/scale/truncation attributes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from livr.data.sources._common import DOWNLOAD_DEFAULTS, check_cfg, download_archive_source, find_dir
from livr.errors import InputError

DEFAULTS = {
    "urls": ["http://cvlab.postech.ac.kr/research/SPair-71k/data/SPair-71k.tar.gz"],  # mirrors, in order
    "sha256": None,  # not published by the authors
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}
DISK_GB = 1  # estimate: the ~0.2 GB archive plus its extracted copy


def download(raw_dir, cfg: dict | None = None) -> Path:
    def survey(raw_dir):
        root = dataset_root(raw_dir)
        return {
            "pairs": {s: len(list((root / "PairAnnotation" / s).glob("*.json"))) for s in ("trn", "val", "test")}
        }, []

    return download_archive_source(raw_dir, check_cfg(DEFAULTS, cfg, "spair71k"), "spair71k", survey)


def dataset_root(raw_dir) -> Path:
    return find_dir(Path(raw_dir), lambda d: (d / "PairAnnotation").is_dir() and (d / "JPEGImages").is_dir())


@dataclasses.dataclass
class Pair:
    pair_file: str
    category: str
    src_path: Path
    trg_path: Path
    src_kps: list[tuple[float, float]]
    trg_kps: list[tuple[float, float]]
    kps_ids: list[str]


def _kps(v, where: str) -> list[tuple[float, float]]:
    out = []
    for p in v:
        if p is None or len(p) != 2:
            raise InputError(f"{where}: keypoint {p!r} is not [x, y]")
        out.append((float(p[0]), float(p[1])))
    return out


def read_pair(path, root: Path) -> Pair:
    path = Path(path)
    ann = json.loads(path.read_text())
    for key in ("src_imname", "trg_imname", "category", "src_kps", "trg_kps"):
        if key not in ann:
            raise InputError(f"{path}: missing key {key!r}")
    src, trg = _kps(ann["src_kps"], f"{path} src_kps"), _kps(ann["trg_kps"], f"{path} trg_kps")
    if len(src) != len(trg):
        raise InputError(f"{path}: src_kps has {len(src)} points but trg_kps has {len(trg)}")
    ids = [str(i) for i in ann.get("kps_ids", range(len(src)))]
    cat = ann["category"]
    return Pair(
        path.name,
        cat,
        root / "JPEGImages" / cat / ann["src_imname"],
        root / "JPEGImages" / cat / ann["trg_imname"],
        src,
        trg,
        ids,
    )


def list_pairs(raw_dir, split: str = "trn") -> list[Pair]:
    root = dataset_root(raw_dir)
    d = root / "PairAnnotation" / split
    if not d.is_dir():
        raise InputError(f"{d}: no such split directory (SPair-71k splits: trn, val, test)")
    return [read_pair(p, root) for p in sorted(d.glob("*.json"))]
