"""FunKPoint (Lai, Purushwalkam & Gupta, "The Functional Correspondence Problem", ICCV 2021).

FunKPoint has ground-truth functional keypoints for 10 tasks (actions) over 20 object
categories. We found no public download URL, checksum or description of its file format
(project page agi-labs.github.io/FuncCorr; the dataset is obtained from the authors), so this
module reads an ASSUMED layout, stated precisely here. Convert the release to it if it differs:

    <raw_dir>/                    (or any single sub-directory of it, e.g. extracted/FunKPoint/)
      images/<action>/<file>      jpg/png; <action> is the action name with spaces as "_"
      annotations/<action>.json   a JSON list, one object per annotated image:
        {"image": "<file under images/<action>/>",
         "category": "<object category, e.g. hammer>",
         "keypoints": [[x, y] | null, ...]}

`keypoints[k]` is the k-th functional keypoint of that action, in pixels (origin top-left),
`null` when the image has no such point. Index k plays the same functional role across all the
images of one action (that is what makes two images' keypoints correspond). The paper annotates
five keypoints per image and action.

`download(raw_dir, cfg)`: with `cfg["url"]` set, fetches that archive (resumable, sha256 checked
when `cfg["sha256"]` is given) and extracts it; without a URL it expects the layout above to be
placed by hand. Either way it validates every annotation and writes the manifest last.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from livr.data.download import write_manifest
from livr.data.sources._common import DOWNLOAD_DEFAULTS, dl_kwargs, fetch_and_extract, find_dir, is_finished

DEFAULTS = {
    "url": None,  # no public URL known; see module docstring
    "sha256": None,
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    if is_finished(raw_dir):
        return raw_dir
    files = []
    if cfg["url"]:
        name = Path(cfg["url"].split("?")[0]).name or "funkpoint_archive"
        files.append(fetch_and_extract(cfg["url"], raw_dir, name, "extracted", cfg["sha256"],
                                       cfg["keep_archive"], **dl_kwargs(cfg)))
    try:
        dataset_root(raw_dir)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{raw_dir}: FunKPoint not found. No public download URL is known: obtain the data from "
            f"the authors, convert it to the layout in livr/data/sources/funkpoint.py "
            f"(images/<action>/..., annotations/<action>.json) under {raw_dir}, or set `url` to an "
            f"archive of that layout; then run the download again.") from None
    anns, dropped = read_annotations(raw_dir, check_files=True)
    counts = {}
    for a in anns:
        counts[a.action] = counts.get(a.action, 0) + 1
    write_manifest(raw_dir, {"source": "funkpoint", "files": files, "format": "assumed (see module docstring)",
                             "counts": {"images_per_action": counts, "images": len(anns)}, "dropped": dropped})
    return raw_dir


def dataset_root(raw_dir) -> Path:
    return find_dir(Path(raw_dir), lambda d: (d / "annotations").is_dir() and (d / "images").is_dir())


@dataclasses.dataclass
class Annotation:
    action: str       # folder / file stem, e.g. "Mash_Pound"
    image: Path
    category: str
    keypoints: list[tuple[float, float] | None]

    @property
    def action_name(self) -> str:
        """Human-readable action for the question ("Mash_Pound" -> "Mash Pound")."""
        return self.action.replace("_", " ")

    @property
    def key(self) -> str:
        return f"{self.action}/{self.image.name}"

    def valid(self) -> list[int]:
        return [k for k, p in enumerate(self.keypoints) if p is not None]


def read_annotations(raw_dir, check_files: bool = False) -> tuple[list[Annotation], list[dict]]:
    root = dataset_root(raw_dir)
    out, dropped = [], []
    files = sorted((root / "annotations").glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{root / 'annotations'}: no <action>.json files")
    for path in files:
        action = path.stem
        rows = json.loads(path.read_text())
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of image annotations")
        for i, row in enumerate(rows):
            where = f"{path} item {i}"
            for key in ("image", "category", "keypoints"):
                if key not in row:
                    raise ValueError(f"{where}: missing key {key!r} (need image, category, keypoints)")
            kps = []
            for p in row["keypoints"]:
                if p is None:
                    kps.append(None)
                elif isinstance(p, (list, tuple)) and len(p) == 2:
                    kps.append((float(p[0]), float(p[1])))
                else:
                    raise ValueError(f"{where}: keypoint {p!r} is neither [x, y] nor null")
            ann = Annotation(action, root / "images" / action / row["image"], str(row["category"]), kps)
            if check_files and not ann.image.is_file():
                dropped.append({"image": ann.key, "reason": "image file missing"})
                continue
            out.append(ann)
    return out, dropped
