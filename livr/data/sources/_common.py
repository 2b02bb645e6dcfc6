"""Small pieces the source modules share: archive download + extract, root discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from livr.data.download import download_file, read_manifest, safe_extract, sha256_file, write_manifest


def fetch_and_extract(url: str, raw_dir: Path, archive_name: str, extract_name: str,
                      sha256: str | None, keep_archive: bool = True, **dl) -> dict:
    """Download `url` to raw_dir/archive_name (resumable, verified when sha256 is given) and
    extract it to raw_dir/extract_name unless that directory already exists.
    Returns the manifest entry for the file."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / extract_name
    archive = raw_dir / archive_name
    entry = {"url": url, "archive": archive_name, "extracted_to": extract_name}
    if target.is_dir() and not archive.exists():
        entry["sha256"] = None
        entry["note"] = "already extracted; archive removed earlier"
        return entry
    download_file(url, archive, sha256=sha256, **dl)
    entry["sha256"] = sha256_file(archive)
    if sha256 is not None and entry["sha256"] != sha256.lower():
        raise RuntimeError(f"{archive}: sha256 {entry['sha256']} differs from the configured {sha256}")
    if not target.is_dir():
        safe_extract(archive, target)
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return entry


def download_archive_source(raw_dir, cfg: dict, source: str, archive_name: str,
                            survey: Callable[[Path], tuple[dict, list]]) -> Path:
    """`download()` of a source published as one archive: fetch and extract it once, then record
    in the manifest what `survey(raw_dir)` counts and drops (-> counts, dropped)."""
    raw_dir = Path(raw_dir)
    if is_finished(raw_dir):
        return raw_dir
    entry = fetch_and_extract(cfg["url"], raw_dir, archive_name, "extracted", cfg["sha256"],
                              cfg["keep_archive"], **dl_kwargs(cfg))
    counts, dropped = survey(raw_dir)
    write_manifest(raw_dir, {"source": source, "files": [entry], "counts": counts, "dropped": dropped})
    return raw_dir


def find_dir(base: Path, predicate: Callable[[Path], bool], max_depth: int = 4) -> Path:
    """The shallowest directory under (and including) `base` satisfying `predicate`."""
    base = Path(base)
    frontier = [base]
    for _ in range(max_depth + 1):
        nxt = []
        for d in frontier:
            if d.is_dir() and predicate(d):
                return d
            if d.is_dir():
                nxt.extend(sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")))
        frontier = nxt
    raise FileNotFoundError(f"{base}: no directory matching the expected layout within depth {max_depth}")


def is_finished(raw_dir: Path) -> bool:
    return read_manifest(raw_dir) is not None


def dl_kwargs(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("retries", "backoff", "timeout") if k in cfg}


DOWNLOAD_DEFAULTS = {"retries": 5, "backoff": 1.0, "timeout": 60.0}
