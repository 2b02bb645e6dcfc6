"""NIGHTS (Fu et al., DreamSim, NeurIPS 2023): 20,019 image triplets with human 2AFC votes.

Layout (DreamSim's dataset/README.md): `nights/` with `ref/<ddd>/<nnn>.png`,
`distort/<ddd>/<nnn>_0.png`, `distort/<ddd>/<nnn>_1.png` (folders 000..099) and `data.csv`. The
CSV columns used here (read by name, as DreamSim's own loaders do): `id`, `ref_path`, `left_path`
(the `_0` distortion), `right_path` (`_1`), `left_vote` (share of the human votes that picked the
left image as closer to the reference, in [0, 1]), `right_vote`, `votes` (number of agreeing
votes; DreamSim's TwoAFCDataset keeps `votes >= 6`), `split` (train/val/test), `is_imagenet`,
`prompt`.

Two ways to fetch it (`mode`), both published by the authors (ssundaram21/dreamsim, dataset/):
- `full`: `https://data.csail.mit.edu/nights/nights.zip` (58 GB unzipped; download_dataset.sh).
- `chunked` (default): one zip per folder for `ref/` and one for `distort/`
  (`.../nights_chunked/{ref,distort}/<ddd>.zip`, download_chunked_dataset.sh, which unzips each
  into ref/ and distort/: the zips hold `<ddd>/...`). That script fetches no `data.csv`
  (dreamsim issue #21), so it is read out of nights.zip itself with HTTP Range requests (the zip's
  central directory, then that one member: a few MB, not 58 GB). Only the folders the builder
  needs are fetched: the fewest folders (greedy, deterministic) that hold `need[split]` usable
  triplets (votes >= `min_votes`, no tie) per split; the visual-similarity builder uses 1,000
  train + 250 val, so the default need adds a margin for near-duplicates of BLINK test images.
The manifest lists the folders fetched; `read_triplets` then reads only the triplets whose images
were fetched.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import shutil
from pathlib import Path, PurePosixPath

from livr.data.download import (
    download_file,
    read_manifest,
    read_remote_zip_member,
    safe_extract,
    sha256_file,
    write_manifest,
)
from livr.data.sources._common import (
    DOWNLOAD_DEFAULTS,
    check_cfg,
    dl_kwargs,
    fetch_and_extract,
    find_dir,
    is_finished,
)
from livr.errors import InputError
from livr.io import replace_dir

SOURCE = "nights"
DEFAULTS = {
    "mode": "chunked",  # chunked: only the folders needed | full: the whole nights.zip
    "url": "https://data.csail.mit.edu/nights/nights.zip",  # full archive (data.csv is read from it either way)
    "chunks_url": "https://data.csail.mit.edu/nights/nights_chunked",  # + /ref/<ddd>.zip, /distort/<ddd>.zip
    "csv_url": None,  # a copy of data.csv elsewhere; None = read it out of `url`
    "need": {"train": 1500, "val": 375},  # chunked: usable triplets per split to fetch (builder: 1000 / 250)
    "min_votes": 6,  # DreamSim's filter (dataset/dataset.py); ties are never usable
    "sha256": None,  # not published by the authors
    "keep_archive": False,
    **DOWNLOAD_DEFAULTS,
}
MODES = ("chunked", "full")
DISK_GB = {"full": 120, "chunked": 25}  # estimate: full = 58 GB zip + 58 GB unzipped; chunked ~ 20 of 100 folders x 2
REQUIRED = ("id", "ref_path", "left_path", "right_path", "left_vote", "votes", "split")


def probe_urls(cfg: dict) -> list[str]:
    """The URLs a pending download starts with (what `livr doctor` probes)."""
    return [cfg["url"]] + ([cfg["chunks_url"]] if cfg["mode"] == "chunked" else [])


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = check_cfg(DEFAULTS, cfg, SOURCE)
    if cfg["mode"] not in MODES:
        raise InputError(f"params.yaml sources.nights.mode: {cfg['mode']!r}; valid: {', '.join(MODES)}")
    if is_finished(raw_dir):
        return raw_dir
    if cfg["mode"] == "full":
        files = [
            fetch_and_extract(cfg["url"], raw_dir, "extracted", cfg["sha256"], cfg["keep_archive"], **dl_kwargs(cfg))
        ]
        extra = {}
    else:
        files, extra = _download_chunks(raw_dir, cfg)
    triplets, dropped = read_triplets(raw_dir, check_files=True, folders=extra.get("folders"))
    counts = dict(sorted(collections.Counter(t.split for t in triplets).items()))
    usable = dict(sorted(collections.Counter(t.split for t in triplets if usable_triplet(t, cfg["min_votes"])).items()))
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "mode": cfg["mode"],
            "files": files,
            "counts": counts,
            "usable": usable,
            "min_votes": cfg["min_votes"],
            "dropped": dropped,
            **extra,
        },
    )
    return raw_dir


def usable_triplet(t: "Triplet", min_votes: int) -> bool:
    return t.votes >= min_votes and t.majority is not None


def _download_chunks(raw_dir: Path, cfg: dict) -> tuple[list, dict]:
    root = raw_dir / "extracted" / "nights"
    csv_path = root / "data.csv"
    if cfg["csv_url"]:
        download_file(cfg["csv_url"], csv_path, **dl_kwargs(cfg))
        csv_entry = {"url": cfg["csv_url"], "sha256": sha256_file(csv_path)}
    elif not csv_path.is_file():
        got = read_remote_zip_member(cfg["url"], "data.csv", csv_path, timeout=cfg["timeout"])
        csv_entry = {"url": cfg["url"], **got, "sha256": sha256_file(csv_path)}
    else:
        csv_entry = {
            "path": str(csv_path.relative_to(raw_dir)),
            "sha256": sha256_file(csv_path),
            "note": "read earlier",
        }
    triplets, _ = read_triplets(raw_dir)
    folders, short = choose_folders(triplets, cfg["need"], cfg["min_votes"])
    files = []
    for folder in folders:
        for part in ("ref", "distort"):
            target = root / part / folder
            url = f"{cfg['chunks_url']}/{part}/{folder}.zip"
            if not target.is_dir():
                _fetch_chunk(url, raw_dir / "chunks" / part / f"{folder}.zip", target, cfg)
            files.append({"url": url, "extracted_to": str(target.relative_to(raw_dir))})
    if not cfg["keep_archive"]:
        shutil.rmtree(raw_dir / "chunks", ignore_errors=True)
    return files, {"csv": csv_entry, "folders": folders, "need": cfg["need"], "short_of_need": short}


def _fetch_chunk(url: str, archive: Path, target: Path, cfg: dict) -> None:
    """One chunk zip into `target` (= ref/<ddd> or distort/<ddd>): the zip holds `<ddd>/*.png`
    (download_chunked_dataset.sh unzips it into ref/); the folder of PNGs is found whatever
    wrapper folders it sits in, and renamed into place only once complete."""
    download_file(url, archive, sha256=None, **dl_kwargs(cfg))
    staged = safe_extract(archive, target.parent / f".{target.name}.chunk")
    try:
        pngs = find_dir(staged, lambda d: any(p.suffix == ".png" for p in d.iterdir()))
        replace_dir(pngs, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def choose_folders(triplets: list["Triplet"], need: dict, min_votes: int) -> tuple[list[str], dict]:
    """The folders to fetch: repeatedly the one holding the most still-needed usable triplets
    (ties: the lower folder id) until every split's need is met. Returns (sorted folders,
    {split: usable triplets still missing} for needs no set of folders can meet)."""
    per_folder: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for t in triplets:
        if usable_triplet(t, min_votes):
            per_folder[folder_of(t)][t.split] += 1
    remaining = {s: int(n) for s, n in need.items()}
    chosen: list[str] = []
    while any(v > 0 for v in remaining.values()):
        gain = {f: sum(min(remaining[s], c[s]) for s in remaining) for f, c in per_folder.items() if f not in chosen}
        best = min(gain, key=lambda f: (-gain[f], f), default=None)
        if best is None or gain[best] == 0:
            break
        chosen.append(best)
        for s in remaining:
            remaining[s] = max(0, remaining[s] - per_folder[best][s])
    return sorted(chosen), {s: n for s, n in remaining.items() if n > 0}


def folder_of(t: "Triplet") -> str:
    """The <ddd> folder of a triplet (ref/<ddd>/<nnn>.png); its distortions share it."""
    return t.ref_rel.parts[1]


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
    ref_rel: PurePosixPath

    @property
    def majority(self) -> str | None:
        """'left' / 'right' by the human vote share; None on an exact tie."""
        if self.left_vote > self.right_vote:
            return "left"
        if self.right_vote > self.left_vote:
            return "right"
        return None


def read_triplets(raw_dir, check_files: bool = False, folders=None) -> tuple[list[Triplet], list[dict]]:
    """The triplets of data.csv (with `dropped` for those whose files are missing when
    `check_files`). Only triplets in `folders` are read; by default those the manifest of a chunked
    download lists (every triplet when there is no such list)."""
    root = dataset_root(raw_dir)
    if folders is None:
        folders = (read_manifest(raw_dir) or {}).get("folders")
    keep = set(folders) if folders is not None else None
    path = root / "data.csv"
    out, dropped = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing}; found {reader.fieldnames}")
        for lineno, row in enumerate(reader, 2):
            try:
                lv = float(row["left_vote"])
                rv = float(row["right_vote"]) if row.get("right_vote") not in (None, "") else 1.0 - lv
                votes = int(float(row["votes"]))
            except ValueError as e:
                raise InputError(f"{path}:{lineno}: bad vote value ({e})") from None
            rel = PurePosixPath(row["ref_path"])
            if len(rel.parts) != 3:
                raise InputError(f"{path}:{lineno}: ref_path {row['ref_path']!r} is not ref/<ddd>/<nnn>.png")
            t = Triplet(
                str(row["id"]),
                root / row["ref_path"],
                root / row["left_path"],
                root / row["right_path"],
                lv,
                rv,
                votes,
                row["split"],
                row.get("prompt", ""),
                rel,
            )
            if keep is not None and folder_of(t) not in keep:
                continue
            if check_files and not all(p.is_file() for p in (t.ref, t.left, t.right)):
                dropped.append({"id": t.id, "reason": "image file missing"})
                continue
            out.append(t)
    return out, dropped
