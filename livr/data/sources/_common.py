"""Small pieces the source modules share: archive download (from a list of mirrors) + extract,
root discovery, config checking, and the manual step of sources nobody can download for you."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from livr.data.download import (
    ArchiveError,
    DownloadError,
    download_file,
    read_manifest,
    safe_extract,
    sha256_file,
    write_manifest,
)
from livr.errors import InputError

log = logging.getLogger(__name__)


def check_cfg(defaults: dict, cfg: dict | None, source: str) -> dict:
    """DEFAULTS overlaid with params.yaml `sources.<source>`; an unknown key is an error naming the valid ones."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise InputError(
            f"params.yaml sources.{source}: unknown key(s) {unknown}; valid keys: {', '.join(sorted(defaults))}"
        )
    return {**defaults, **cfg}


def hub_snapshot(repo_id: str, patterns: list[str], local_dir: Path, revision: str | None) -> None:
    """The files of a Hugging Face dataset repo that match `patterns`, into local_dir (resumable:
    huggingface_hub skips what is already there). Source modules call it as `hub_snapshot`, which
    tests replace with a copy from a local fixture repo."""
    from huggingface_hub import snapshot_download

    snapshot_download(
        repo_id=repo_id, repo_type="dataset", allow_patterns=patterns, local_dir=str(local_dir), revision=revision
    )


def as_list(urls) -> list[str]:
    return [urls] if isinstance(urls, str) else list(urls or [])


def _archive_name(url: str) -> str:
    # One file per mirror: a partial download from one host is never resumed from another.
    base = Path(url.split("?")[0]).name or "archive"
    return f"{hashlib.sha256(url.encode()).hexdigest()[:8]}-{base}"


def fetch_and_extract(
    urls, raw_dir: Path, extract_name: str, sha256: str | None, keep_archive: bool = True, **dl
) -> dict:
    """Download the archive from the first of `urls` that serves a valid one (resumable, verified
    when sha256 is given) into raw_dir/archives/ and extract it to raw_dir/extract_name unless that
    directory already exists. The archive type comes from its content (zip or tar), never from the
    URL. Returns the manifest entry: the URL used and the mirrors that failed, with why."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / extract_name
    urls = as_list(urls)
    if not urls:
        raise InputError(f"{raw_dir}: no URL configured")
    if target.is_dir():
        return {"urls": urls, "extracted_to": extract_name, "note": "already extracted"}
    failed = []
    for url in urls:
        archive = raw_dir / "archives" / _archive_name(url)
        try:
            download_file(url, archive, sha256=sha256, **dl)
            entry = {"url": url, "archive": archive.name, "sha256": sha256_file(archive), "extracted_to": extract_name}
            safe_extract(archive, target)
        except (DownloadError, ArchiveError) as e:
            # A dead host, an HTML error page or a corrupt file: try the next mirror.
            error = str(e) if isinstance(e, DownloadError) else f"{url}: {e}"  # download errors name the URL already
            log.warning("%s; trying the next mirror", error)
            failed.append({"url": url, "error": error})
            if isinstance(e, ArchiveError):
                archive.unlink(missing_ok=True)
            continue
        if not keep_archive:  # this archive and the partial files of mirrors that failed
            shutil.rmtree(raw_dir / "archives", ignore_errors=True)
        return {**entry, "failed_mirrors": failed}
    raise DownloadError(f"{raw_dir.name}: every mirror failed: " + "; ".join(f["error"] for f in failed))


def download_archive_source(raw_dir, cfg: dict, source: str, survey: Callable[[Path], tuple[dict, list]]) -> Path:
    """`download()` of a source published as one archive (cfg["urls"]: mirrors tried in order):
    fetch and extract it once, then record in the manifest what `survey(raw_dir)` counts and
    drops (-> counts, dropped)."""
    raw_dir = Path(raw_dir)
    if is_finished(raw_dir):
        return raw_dir
    entry = fetch_and_extract(cfg["urls"], raw_dir, "extracted", cfg["sha256"], cfg["keep_archive"], **dl_kwargs(cfg))
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
    raise InputError(f"{base}: no directory matching the expected layout within depth {max_depth}")


def is_finished(raw_dir: Path) -> bool:
    return read_manifest(raw_dir) is not None


def dl_kwargs(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("retries", "backoff", "timeout") if k in cfg}


DOWNLOAD_DEFAULTS = {"retries": 5, "backoff": 1.0, "timeout": 60.0}


# ------------------------------------------------------------------------------------ manual data
class ManualDataMissing(InputError):
    """Data that only a person can obtain is not in place; the message names the manual step."""


@dataclasses.dataclass(frozen=True)
class ManualStep:
    """Data no script can download (no public release, or a link that needs a browser): what it
    is, where to ask for it, the layout `livr data import` expects, and where it lands."""

    source: str
    what: str
    ask_at: str
    layout: str
    subdir: str = ""  # under data/raw/<source>/ ("" = the source directory itself)
    docs: str = "docs/DATA.md"

    def done(self, raw_dir) -> bool:
        """The import (or a download of a copy) finished: its manifest exists."""
        return read_manifest(Path(raw_dir) / self.subdir) is not None

    def command(self, raw_root) -> str:
        return f"livr data import {self.source} --from PATH --raw-dir {raw_root}"

    def error(self, raw_dir: Path) -> ManualDataMissing:
        return ManualDataMissing(
            f"{raw_dir}: {self.what} not found. This is a manual step: obtain the data at {self.ask_at}, "
            f"then run `{self.command(raw_dir.parent)}` (PATH: a directory or a zip/tar archive holding "
            f"{self.layout}); see {self.docs}"
        )


def stage_copy(src: Path, dest: Path) -> Path:
    """Copy a directory or extract an archive (zip/tar, type from content) at `src` into a fresh
    temporary sibling of `dest` and return it; the caller checks it, then renames it into place."""
    src = Path(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".import", dir=dest.parent))
    try:
        if src.is_dir():
            shutil.copytree(src, tmp / src.name, symlinks=False)
        elif src.is_file():
            safe_extract(src, tmp / "archive")
        else:
            raise InputError(f"{src}: no such file or directory (give a directory or a zip/tar archive)")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def import_entry(src: Path) -> dict:
    """What the manifest records of an imported path: where it came from and, for an archive, its sha256."""
    src = Path(src).resolve()
    return {"imported_from": str(src), "sha256": sha256_file(src) if src.is_file() else None}
