"""PixMo-Count (Deitke et al., 2024), hub dataset `allenai/pixmo-count`.

The hub holds only annotations: data/{train,validation,test}-00000-of-00001.parquet with columns
image_url, image_sha256, count, points (list of {x, y}), label; the card lists 36,916 / 540 / 540
rows, val and test human-verified with counts 2..10. Images must be fetched from their original
URLs, some of which are dead (the paper: 534 val / 528 test still live).

`download` fetches the parquet files, then the images of the selected rows (all of validation and
test; for train, up to `train_per_count` rows per count in `train_counts`, chosen with
`selection_seed`). The card says image URLs repeat across rows, so each distinct URL is fetched
once (by one worker) and its file is mapped to every row that names it; a file is stored as
images/<h[:2]>/<h>.<ext> with h = sha256 of the URL (Molmo's own cache key). An image is live when
it downloads and decodes; `verify_sha256` also requires it to match the row's published sha256
and `verify_tls` requires a valid TLS certificate. Rows whose image is not live are dropped with
their reason in dropped.jsonl; the manifest records, per split, the rows, distinct URLs, kept rows
and drop reasons under the chosen rule, and how many kept rows match the published sha256 (the
count the stricter rule would keep, short of TLS failures), beside the paper's live counts. The
kept rows are written to rows/<split>.jsonl (split names: train, validation, test).

All hub access goes through `hub_snapshot` (`_common.py`), which tests replace.
"""

from __future__ import annotations

import collections
import hashlib
import json
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from PIL import Image

from livr.data.download import DownloadError, download_file, require_manifest, sha256_file, write_manifest
from livr.data.sources._common import check_cfg, hub_snapshot
from livr.errors import InputError
from livr.io import write_jsonl

SOURCE = "pixmo_count"
SPLITS = ("train", "validation", "test")
DEFAULTS = {
    "repo_id": "allenai/pixmo-count",
    "revision": None,  # a commit sha pins the annotations; None = main
    "splits": list(SPLITS),
    # Train rows whose images are fetched: counts 2..10 (the paper's range), at most this many rows
    # per count (the builder needs ~1000/9 = 111 per count; the margin covers dead URLs and
    # de-duplication). None fetches every train row (36,916 URLs).
    "train_counts": [2, 3, 4, 5, 6, 7, 8, 9, 10],
    "train_per_count": 400,
    "selection_seed": 0,
    # Image fetching: parallel workers, per-request timeout (s), retries / back-off per URL.
    "workers": 16,
    "timeout": 20.0,
    "retries": 2,
    "backoff": 0.5,
    "max_image_pixels": 100_000_000,  # decompression-bomb guard
    # What counts as a live image. Molmo's own PixMo-Count downloader (allenai/molmo,
    # olmo/data/pixmo_datasets.py: PixMoCount.download calls download_pixmo_urls with
    # check_sha=False, verify=False) keeps every image that downloads and decodes, without checking
    # the published sha256 or the TLS certificate, and the card's discussion #2 ("Mismatch
    # image_sha256 field") reports hashes that no longer match the images served today. The
    # paper's 534 val / 528 test live rows are most plausibly counts under that rule, so it is the
    # default; set both true for the strict rule (the manifest counts sha256 matches either way).
    "verify_sha256": False,
    "verify_tls": False,
}
PAPER_LIVE_ROWS = {"validation": 534, "test": 528}  # paper Appendix A
DISK_GB = 3  # estimate: ~4,700 web images (val + test + 9 x 400 train) of ~0.5 MB
EXT = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}


def read_annotations(raw_dir, split: str) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for f in sorted((Path(raw_dir) / "data").glob(f"{split}-*.parquet")):
        t = pq.read_table(f)
        missing = [c for c in ("image_url", "image_sha256", "count", "label") if c not in t.column_names]
        if missing:
            raise InputError(f"{f}: missing PixMo-Count column(s) {missing}; has {t.column_names}")
        rows += t.to_pylist()
    if not rows:
        raise InputError(f"{Path(raw_dir) / 'data'}: no {split}-*.parquet")
    for i, r in enumerate(rows):
        r["row"] = i
    return rows


def select_train(rows: list[dict], counts, per_count: int | None, seed: int) -> list[dict]:
    """Rows with count in `counts`, at most `per_count` each (seeded choice), in row order."""
    if per_count is None:
        return [r for r in rows if r["count"] in set(counts)]
    by = collections.defaultdict(list)
    for r in rows:
        if r["count"] in set(counts):
            by[r["count"]].append(r)
    rng = random.Random(seed)
    out = []
    for c in sorted(by):
        pool = by[c]
        rng.shuffle(pool)
        out += pool[:per_count]
    return sorted(out, key=lambda r: r["row"])


_local = threading.local()


def _session(verify_tls: bool) -> requests.Session:
    if not hasattr(_local, "s"):
        _local.s = requests.Session()
        _local.s.headers["User-Agent"] = "livr-data/0.1 (+research reproduction)"
    _local.s.verify = verify_tls
    return _local.s


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetch_image(url: str, images_dir: Path, cfg: dict) -> tuple[str | None, str | None, str | None]:
    """Fetch one URL's image (or find it fetched before): (path relative to images_dir's parent,
    sha256 of the file, None), or (None, None, reason). Called once per distinct URL."""
    key = url_key(url)
    sub = images_dir / key[:2]
    for p in sorted(sub.glob(f"{key}.*")) if sub.is_dir() else []:
        if not p.name.endswith((".part", ".download")):
            return str(p.relative_to(images_dir.parent)), sha256_file(p), None
    tmp = sub / f"{key}.download"
    try:
        download_file(
            url,
            tmp,
            retries=cfg["retries"],
            backoff=cfg["backoff"],
            timeout=cfg["timeout"],
            session=_session(cfg["verify_tls"]),
        )
    except DownloadError as e:
        if "TLS verification failed" in str(e):
            return None, None, "tls_error"
        m = re.search(r"HTTP (\d{3})", str(e))
        return None, None, f"http_{m.group(1)}" if m else "unreachable"
    except (requests.RequestException, OSError) as e:
        return None, None, f"unreachable ({type(e).__name__})"
    try:
        Image.MAX_IMAGE_PIXELS = cfg["max_image_pixels"]
        with Image.open(tmp) as im:
            fmt = im.format
            im.load()
            if min(im.size) == 0:
                raise ValueError("zero-sized image")
    except Exception:  # noqa: BLE001 - anything PIL cannot decode is a corrupt image
        tmp.unlink(missing_ok=True)
        return None, None, "corrupt_image"
    dest = sub / f"{key}{EXT.get(fmt, '.img')}"
    tmp.replace(dest)
    return str(dest.relative_to(images_dir.parent)), sha256_file(dest), None


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = check_cfg(DEFAULTS, cfg, SOURCE)
    bad = [s for s in cfg["splits"] if s not in SPLITS]
    if bad:
        raise InputError(f"pixmo_count: unknown split(s) {bad}; valid: {', '.join(SPLITS)}")
    if not cfg["verify_tls"]:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # once, not per image
    hub_snapshot(cfg["repo_id"], [f"data/{s}-*.parquet" for s in cfg["splits"]], raw_dir, cfg["revision"])
    images_dir = raw_dir / "images"
    fetched: dict[str, tuple] = {}  # url -> fetch_image result, shared by every row and split naming it
    counts, dropped_all = {}, []
    for split in cfg["splits"]:
        rows = read_annotations(raw_dir, split)
        todo = rows
        if split == "train":
            todo = select_train(rows, cfg["train_counts"], cfg["train_per_count"], cfg["selection_seed"])
        urls = [u for u in dict.fromkeys(r["image_url"] for r in todo) if u not in fetched]
        with ThreadPoolExecutor(max_workers=max(1, int(cfg["workers"]))) as ex:
            fetched.update(zip(urls, ex.map(lambda u: fetch_image(u, images_dir, cfg), urls)))
        kept, reasons, n_match = [], collections.Counter(), 0
        for r in todo:
            path, file_sha, reason = fetched[r["image_url"]]
            match = file_sha is not None and file_sha == (r["image_sha256"] or "").lower()
            if path is not None and cfg["verify_sha256"] and not match:
                reason = "sha256_mismatch"
            if reason is not None:
                reasons[reason.split(" ")[0]] += 1
                dropped_all.append({"split": split, "row": r["row"], "url": r["image_url"], "reason": reason})
                continue
            n_match += match
            kept.append(
                {
                    "row": r["row"],
                    "image_url": r["image_url"],
                    "image_sha256": r["image_sha256"],
                    "file_sha256": file_sha,
                    "sha256_match": match,
                    "count": int(r["count"]),
                    "label": r["label"],
                    "points": r.get("points"),
                    "image": path,
                }
            )
        write_jsonl(raw_dir / "rows" / f"{split}.jsonl", kept)
        counts[split] = {
            "rows": len(rows),
            "attempted": len(todo),
            "distinct_urls": len({r["image_url"] for r in todo}),
            "kept": len(kept),
            "kept_sha256_match": n_match,
            "dropped": dict(sorted(reasons.items())),
        }
    write_jsonl(raw_dir / "dropped.jsonl", dropped_all)
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "params": {k: cfg[k] for k in ("train_counts", "train_per_count", "selection_seed")},
            "rule": {k: cfg[k] for k in ("verify_sha256", "verify_tls")},
            "counts": counts,
            "paper_live_rows": PAPER_LIVE_ROWS,
            "dropped": f"{len(dropped_all)} rows, see dropped.jsonl",
        },
    )
    return raw_dir


def live_rows(raw_dir, split: str) -> list[dict]:
    """Rows of `split` (train / validation / test) whose image was fetched and verified; `image`
    is made an absolute Path."""
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    path = raw_dir / "rows" / f"{split}.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: split {split!r} was not downloaded (valid: {', '.join(SPLITS)})")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in rows:
        r["image"] = raw_dir / r["image"]
    return rows
