"""ArtBench-10 (Liao et al., 2022), the 256x256 ImageFolder release with the official split.

Release: `artbench-10-imagefolder-split.tar` (no checksum published). It unpacks to
`artbench-10-imagefolder-split/{train,test}/<style>/<image>.jpg` with ten style folders
(5,000 train + 1,000 test images each): art_nouveau, baroque, expressionism, impressionism,
post_impressionism, realism, renaissance, romanticism, surrealism, ukiyo_e.
"""

from __future__ import annotations

from pathlib import Path

from livr.data.sources._common import DOWNLOAD_DEFAULTS, check_cfg, download_archive_source, find_dir
from livr.errors import InputError

STYLES = (
    "art_nouveau",
    "baroque",
    "expressionism",
    "impressionism",
    "post_impressionism",
    "realism",
    "renaissance",
    "romanticism",
    "surrealism",
    "ukiyo_e",
)
IMAGE_EXTS = {".jpg", ".jpeg", ".png"}
DEFAULTS = {
    "urls": ["https://artbench.eecs.berkeley.edu/files/artbench-10-imagefolder-split.tar"],  # mirrors, in order
    "sha256": None,  # not published by the authors
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}
DISK_GB = 3  # estimate: 60,000 256x256 JPEGs, archive plus extracted copy


def download(raw_dir, cfg: dict | None = None) -> Path:
    def survey(raw_dir):
        return {split: {s: len(v) for s, v in list_images(raw_dir, split).items()} for split in ("train", "test")}, []

    return download_archive_source(raw_dir, check_cfg(DEFAULTS, cfg, "artbench10"), "artbench10", survey)


def split_root(raw_dir, split: str) -> Path:
    root = find_dir(Path(raw_dir), lambda d: (d / "train").is_dir() and (d / "test").is_dir())
    return root / split


def list_images(raw_dir, split: str = "train") -> dict[str, list[Path]]:
    """style -> sorted image paths for one split. Unknown folder names are an error."""
    root = split_root(raw_dir, split)
    out: dict[str, list[Path]] = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        if d.name not in STYLES:
            raise InputError(f"{d}: unexpected style folder {d.name!r}; ArtBench-10 styles: {', '.join(STYLES)}")
        out[d.name] = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not out:
        raise InputError(f"{root}: no style folders")
    return out
