"""FunKPoint (Lai, Purushwalkam & Gupta, "The Functional Correspondence Problem", ICCV 2021).

FunKPoint has ground-truth functional keypoints for 10 tasks (actions) over 20 object
categories. It has no public release: the paper and its project page
(https://agi-labs.github.io/FuncCorr) give no download, and the one public LIVR reproduction
dropped the task for that reason. Getting it is a manual step: ask the authors (Zihang Lai,
Senthil Purushwalkam, Abhinav Gupta; Carnegie Mellon University) through the project page, convert
what they send to the layout below, and run

    livr data import funkpoint --from PATH      (PATH: that directory, or a zip/tar of it)

which copies it to data/raw/funkpoint/extracted/, checks every annotation and image, and writes
the manifest (like a download). The layout (ours: the release's own format is not public):

    <PATH>/                       (or any single sub-directory of it)
      images/<action>/<file>      jpg/png; <action> is the action name with spaces as "_"
      annotations/<action>.json   a JSON list, one object per annotated image:
        {"image": "<file under images/<action>/>",
         "category": "<object category, e.g. hammer>",
         "keypoints": [[x, y] | null, ...]}

`keypoints[k]` is the k-th functional keypoint of that action, in pixels (origin top-left),
`null` when the image has no such point. Index k plays the same functional role across all the
images of one action (that is what makes two images' keypoints correspond). The paper annotates
five keypoints per image and action.

`download(raw_dir, cfg)` returns at once when the import was done; with `cfg["url"]` set (a
copy of the data in this layout on a host of yours) it fetches that archive and imports it;
otherwise it fails with a message that names the manual step.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from livr.data.download import write_manifest
from livr.data.sources._common import (
    DOWNLOAD_DEFAULTS,
    ManualDataMissing,
    ManualStep,
    check_cfg,
    dl_kwargs,
    fetch_and_extract,
    find_dir,
    import_entry,
    is_finished,
    stage_copy,
)
from livr.errors import InputError
from livr.io import replace_dir

SOURCE = "funkpoint"
DEFAULTS = {
    "url": None,  # no public release; a mirror of your own of the layout above (zip or tar)
    "sha256": None,
    **DOWNLOAD_DEFAULTS,
}
DISK_GB = 1  # estimate: a few thousand object photos
MANUAL = ManualStep(
    source=SOURCE,
    what="FunKPoint (images + functional keypoint annotations)",
    ask_at="https://agi-labs.github.io/FuncCorr (no public download: ask the authors, Lai, Purushwalkam & Gupta, CMU)",
    layout="images/<action>/<file> and annotations/<action>.json (see livr/data/sources/funkpoint.py)",
)


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = check_cfg(DEFAULTS, cfg, SOURCE)
    if is_finished(raw_dir):
        return raw_dir
    if not cfg["url"]:
        raise MANUAL.error(raw_dir)
    entry = fetch_and_extract(cfg["url"], raw_dir / "fetched", "archive", cfg["sha256"], False, **dl_kwargs(cfg))
    try:
        import_manual(raw_dir, raw_dir / "fetched" / "archive", cfg, origin=entry)
    finally:
        shutil.rmtree(raw_dir / "fetched", ignore_errors=True)
    return raw_dir


def import_manual(raw_dir, src, cfg: dict | None = None, origin: dict | None = None) -> Path:
    """The manual step: copy (or extract) `src` into raw_dir/extracted/, check every annotation
    and that each annotated image exists (missing ones are recorded as dropped), write the manifest."""
    raw_dir, src = Path(raw_dir), Path(src)
    check_cfg(DEFAULTS, cfg, SOURCE)
    staged = stage_copy(src, raw_dir / "extracted")
    try:
        try:
            root = find_dir(staged, _is_root, max_depth=8)
        except InputError:
            raise ManualDataMissing(
                f"{src}: no FunKPoint layout found (need {MANUAL.layout} in it or below it)"
            ) from None
        anns, dropped = read_annotations(root, check_files=True)
        if not anns:
            raise ManualDataMissing(f"{src}: no annotated image found on disk ({len(dropped)} listed but missing)")
        replace_dir(root, raw_dir / "extracted")  # extracted/ is the layout's root, whatever wrapped it
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    counts = {}
    for a in anns:
        counts[a.action] = counts.get(a.action, 0) + 1
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "manual_step": "livr data import funkpoint",
            "files": [origin or import_entry(src)],
            "format": "ours (see module docstring)",
            "counts": {"images_per_action": counts, "images": len(anns)},
            "dropped": dropped,
        },
    )
    return raw_dir


def _is_root(d: Path) -> bool:
    return (d / "annotations").is_dir() and (d / "images").is_dir()


def dataset_root(raw_dir) -> Path:
    return find_dir(Path(raw_dir), _is_root)


@dataclasses.dataclass
class Annotation:
    action: str  # folder / file stem, e.g. "Mash_Pound"
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


def _parse_keypoints(points, where: str) -> list[tuple[float, float] | None]:
    """An annotation's `keypoints` list: each an [x, y] pair, or null for a point the image lacks."""
    kps = []
    for p in points:
        if p is None:
            kps.append(None)
        elif isinstance(p, (list, tuple)) and len(p) == 2:
            kps.append((float(p[0]), float(p[1])))
        else:
            raise InputError(f"{where}: keypoint {p!r} is neither [x, y] nor null")
    return kps


def read_annotations(raw_dir, check_files: bool = False) -> tuple[list[Annotation], list[dict]]:
    root = dataset_root(raw_dir)
    out, dropped = [], []
    files = sorted((root / "annotations").glob("*.json"))
    if not files:
        raise InputError(f"{root / 'annotations'}: no <action>.json files")
    for path in files:
        action = path.stem
        rows = json.loads(path.read_text())
        if not isinstance(rows, list):
            raise InputError(f"{path}: expected a JSON list of image annotations")
        for i, row in enumerate(rows):
            where = f"{path} item {i}"
            for key in ("image", "category", "keypoints"):
                if key not in row:
                    raise InputError(f"{where}: missing key {key!r} (need image, category, keypoints)")
            kps = _parse_keypoints(row["keypoints"], where)
            ann = Annotation(action, root / "images" / action / row["image"], str(row["category"]), kps)
            if check_files and not ann.image.is_file():
                dropped.append({"image": ann.key, "reason": "image file missing"})
                continue
            out.append(ann)
    return out, dropped
