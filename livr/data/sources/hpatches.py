"""HPatches full image sequences (Balntas et al., CVPR 2017).

Release ("HPatches full sequences", ~1.3 GB, no checksum published). The original host
icvl.ee.ic.ac.uk stopped answering in 2024 (hpatches/hpatches-dataset issues #10 and #11; the
maintainer answered "New links added" in March 2025); the hub copy the authors now link is
`https://huggingface.co/datasets/vbalnt/hpatches/resolve/main/hpatches-sequences-release.zip`
(also what e.g. LiftFeat's and qai-hub-models' loaders fetch). `urls` lists mirrors tried in order:
that zip, then the old tar.gz; the archive type is read from the content, not the name. Either
unpacks to `hpatches-sequences-release/<seq>/` with 116 sequences: 57 `i_*` (illumination change,
identity homographies) and 59 `v_*` (viewpoint change). Each holds `1.ppm` .. `6.ppm` and the
plain-text 3x3 homographies `H_1_2` .. `H_1_6` mapping pixel coordinates of image 1 to image j
(x_j ~ H_1_j @ [x_1, y_1, 1]).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from livr.data.sources._common import DOWNLOAD_DEFAULTS, check_cfg, download_archive_source, find_dir
from livr.errors import InputError

DEFAULTS = {
    "urls": [  # mirrors, tried in order
        "https://huggingface.co/datasets/vbalnt/hpatches/resolve/main/hpatches-sequences-release.zip",
        "http://icvl.ee.ic.ac.uk/vbalnt/hpatches/hpatches-sequences-release.tar.gz",
    ],
    "sha256": None,  # not published by the authors (the same value would not fit both mirrors)
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}
DISK_GB = 6  # estimate: the 1.3 GB archive plus the uncompressed PPM images it unpacks to
N_IMAGES = 6


def download(raw_dir, cfg: dict | None = None) -> Path:
    def survey(raw_dir):
        seqs = list_sequences(raw_dir)
        counts = {
            "sequences": len(seqs),
            "viewpoint": sum(s.kind == "v" for s in seqs),
            "illumination": sum(s.kind == "i" for s in seqs),
        }
        return counts, [
            {"sequence": s.name, "reason": "missing images or homographies"} for s in seqs if not s.complete
        ]

    return download_archive_source(raw_dir, check_cfg(DEFAULTS, cfg, "hpatches"), "hpatches", survey)


@dataclasses.dataclass
class Sequence:
    name: str
    kind: str  # "v" viewpoint or "i" illumination
    path: Path
    complete: bool

    def image_path(self, k: int) -> Path:
        return self.path / f"{k}.ppm"

    def homography_1_to(self, k: int) -> np.ndarray:
        """H_1_k (identity for k == 1)."""
        if k == 1:
            return np.eye(3)
        return read_homography(self.path / f"H_1_{k}")

    def homography(self, i: int, j: int) -> np.ndarray:
        """H_i_j = H_1_j @ inv(H_1_i): maps pixels of image i to image j."""
        H = self.homography_1_to(j) @ np.linalg.inv(self.homography_1_to(i))
        return H / H[2, 2]

    def image(self, k: int) -> Image.Image:
        return Image.open(self.image_path(k)).convert("RGB")


def read_homography(path) -> np.ndarray:
    """Parse a whitespace-separated 3x3 HPatches homography file."""
    path = Path(path)
    vals = path.read_text().split()
    if len(vals) != 9:
        raise InputError(f"{path}: expected 9 numbers for a 3x3 homography, found {len(vals)}")
    return np.array([float(v) for v in vals], dtype=np.float64).reshape(3, 3)


def warp_point(H: np.ndarray, x: float, y: float) -> tuple[float, float]:
    p = H @ np.array([x, y, 1.0])
    return float(p[0] / p[2]), float(p[1] / p[2])


def sequences_root(raw_dir) -> Path:
    def ok(d: Path) -> bool:
        return any(c.is_dir() and c.name[:2] in ("v_", "i_") for c in d.iterdir())

    return find_dir(Path(raw_dir), ok)


def list_sequences(raw_dir) -> list[Sequence]:
    root = sequences_root(raw_dir)
    out = []
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name[:2] not in ("v_", "i_"):
            continue
        complete = all((d / f"{k}.ppm").is_file() for k in range(1, N_IMAGES + 1)) and all(
            (d / f"H_1_{k}").is_file() for k in range(2, N_IMAGES + 1)
        )
        out.append(Sequence(d.name, d.name[0], d, complete))
    return out
