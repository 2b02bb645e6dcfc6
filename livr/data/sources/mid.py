"""Multi-Illumination Dataset (MID; Murmann et al., ICCV 2019) with MIDIntrinsics albedo.

Photographs: per scene, `https://data.csail.mit.edu/multilum/<scene>/<scene>_mip2_jpg.zip`
(the authors' SDK URL pattern) holding `<scene>/dir_<d>_mip2.jpg` for the 25 flash directions
d = 0..24 at 1500x1000 (mip 2; tonemapped sRGB JPEG). The scene list is the SDK's `scenes.json`
(name, room, building, room_type); test scenes are those whose name starts with "everett", every
other scene is train (the SDK's own `train_scenes()` rule).

Albedo: MID itself ships no albedo. "Albedo in linear RGB" comes from MIDIntrinsics (Careaga &
Aksoy, TOG 2023; github.com/compphoto/MIDIntrinsics): `generate_albedo.py` writes
`<scene>/albedo.exr`, the median over lighting directions of the estimated albedo of the linear
(HDR, white-balanced) mip-2 images, i.e. linear RGB at the same 1500x1000 grid as
`dir_<d>_mip2.jpg` (with `--png` it writes `albedo.png`, the same linear values min-max normalised
to 8 bits, no gamma). The released albedo (`midi_train_albedo.zip`, meant to be unzipped "directly
into the MID directory structure", i.e. `<scene>/albedo.exr`) sits behind a SharePoint folder
link (MIDIntrinsics README, "Data") that only a browser can follow. That is a manual step:

    livr data import mid --from midi_train_albedo.zip      (or a directory holding <scene>/albedo.*)

copies every `<scene>/albedo.{exr,npy,png,tif}` found at any depth (wrapper folders are fine) to
data/raw/mid/albedo/<scene>/ and writes data/raw/mid/albedo/manifest.json (where it came from,
its sha256, the scenes). `download` then fetches the photographs of the train scenes that have an
albedo; without the import it fails naming this step (`albedo_url` instead fetches such an
archive from a host of yours and imports it). Reading `.exr` needs the `OpenEXR` package
(imported only when an EXR is read).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from livr.data.download import download_file, read_manifest, safe_extract, sha256_file, write_manifest
from livr.data.sources._common import (
    DOWNLOAD_DEFAULTS,
    ManualDataMissing,
    ManualStep,
    check_cfg,
    dl_kwargs,
    fetch_and_extract,
    import_entry,
    is_finished,
    stage_copy,
)
from livr.errors import InputError
from livr.io import replace_dir

DEFAULTS = {
    "base_url": "https://data.csail.mit.edu/multilum",
    "scenes_url": "https://raw.githubusercontent.com/lmurmann/multi_illumination/master/scenes.json",
    "mip": 2,
    "max_scenes": None,  # None = every train scene
    "albedo_url": None,  # a copy of the MIDIntrinsics albedo archive on a host of yours; see module docstring
    "albedo_sha256": None,
    "keep_archives": False,
    **DOWNLOAD_DEFAULTS,
}
DISK_GB = 20  # estimate: ~1,000 train scenes x 25 mip-2 JPEGs (~12 MB a scene) + the albedo images
MIDI_DATA = (
    "https://1sfu-my.sharepoint.com/:f:/g/personal/ctc32_sfu_ca/EjZMBeiaFehHiRh0pBCNcDoBLA-e4g5prym4zjIfIiRCUA?e=UFNUsZ"
)
MANUAL = ManualStep(
    source="mid",
    what="MIDIntrinsics albedo (data/raw/mid/albedo/manifest.json)",
    ask_at=f"{MIDI_DATA} (file midi_train_albedo.zip; project page https://yaksoy.github.io/MIDIntrinsics/)",
    layout="<scene>/albedo.exr (or .png/.npy/.tif) per MID train scene, at any depth",
    subdir="albedo",
)
ALBEDO_NAMES = ("albedo.exr", "albedo.npy", "albedo.png", "albedo.tif", "albedo.tiff")
N_DIRECTIONS = 25


def is_test_scene(name: str) -> bool:
    return name.startswith("everett")


def probe_urls(cfg: dict) -> list[str]:
    """The URLs a pending download starts with (what `livr doctor` probes)."""
    return [cfg["scenes_url"], cfg["base_url"]]


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = check_cfg(DEFAULTS, cfg, "mid")
    if is_finished(raw_dir):
        return raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    dl = dl_kwargs(cfg)
    if read_manifest(raw_dir / "albedo") is None:
        if not cfg["albedo_url"]:
            raise MANUAL.error(raw_dir)
        entry = fetch_and_extract(cfg["albedo_url"], raw_dir / "fetched", "albedo", cfg["albedo_sha256"], False, **dl)
        try:
            import_manual(raw_dir, raw_dir / "fetched" / "albedo", cfg, origin=entry)
        finally:
            shutil.rmtree(raw_dir / "fetched", ignore_errors=True)
    files = []
    scenes_json = download_file(cfg["scenes_url"], raw_dir / "scenes.json", **dl)
    files.append({"url": cfg["scenes_url"], "path": "scenes.json", "sha256": sha256_file(scenes_json)})
    scenes = [s["name"] for s in json.loads(scenes_json.read_text()) if not is_test_scene(s["name"])]
    if cfg["max_scenes"] is not None:
        scenes = scenes[: int(cfg["max_scenes"])]

    albedo = albedo_index(raw_dir)
    dropped = []
    mip = int(cfg["mip"])
    for scene in scenes:
        if scene not in albedo:
            dropped.append({"scene": scene, "reason": "no MIDIntrinsics albedo"})
            continue
        target = raw_dir / "scenes" / scene
        if target.is_dir():
            continue
        url = f"{cfg['base_url']}/{scene}/{scene}_mip{mip}_jpg.zip"
        zpath = raw_dir / "zips" / f"{scene}_mip{mip}_jpg.zip"
        try:
            download_file(url, zpath, **dl)
        except Exception as e:  # a scene that cannot be fetched is recorded, not fatal
            dropped.append({"scene": scene, "reason": f"download failed: {e}"})
            continue
        safe_extract(zpath, target)
        if not cfg["keep_archives"]:
            zpath.unlink(missing_ok=True)
    kept = list_scenes(raw_dir, mip)
    write_manifest(
        raw_dir,
        {
            "source": "mid",
            "files": files,
            "mip": mip,
            "albedo": read_manifest(raw_dir / "albedo"),
            "counts": {"train_scenes_listed": len(scenes), "scenes_usable": len(kept)},
            "dropped": dropped,
        },
    )
    return raw_dir


def import_manual(raw_dir, src, cfg: dict | None = None, origin: dict | None = None) -> Path:
    """The manual step: copy every `<scene>/albedo.*` under `src` (a directory, e.g. the MID tree
    the albedo zip was unpacked into, or the zip/tar itself; at any depth) to
    raw_dir/albedo/<scene>/ and write raw_dir/albedo/manifest.json last."""
    raw_dir, src = Path(raw_dir), Path(src)
    check_cfg(DEFAULTS, cfg, "mid")
    # Only the albedo files are copied out of a directory (it may be the whole MID tree).
    staged = None if src.is_dir() else stage_copy(src, raw_dir / "albedo")
    raw_dir.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".albedo.", suffix=".import", dir=raw_dir))
    try:
        found = albedo_files(src if staged is None else staged)
        if not found:
            raise ManualDataMissing(
                f"{src}: no <scene>/albedo.{{exr,npy,png,tif}} file found at any depth "
                f"(expected {MANUAL.layout}; MIDIntrinsics: {MIDI_DATA})"
            )
        for scene, path in found.items():
            (out / scene).mkdir()
            (shutil.copy2 if staged is None else shutil.move)(str(path), out / scene / path.name)
        n_test = sum(is_test_scene(s) for s in found)
        write_manifest(
            out,
            {
                "source": "mid",
                "part": "MIDIntrinsics albedo",
                "manual_step": "livr data import mid",
                "files": [origin or import_entry(src)],
                "scenes": len(found),
                "train_scenes": len(found) - n_test,
                "formats": sorted({p.suffix for p in found.values()}),
            },
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
    replace_dir(out, raw_dir / "albedo")
    return raw_dir


def albedo_files(base) -> dict[str, Path]:
    """scene -> its albedo file, found at any depth under `base` as <scene>/albedo.<ext> (the
    preferred extension first when a scene has several; the shallowest when it sits twice)."""
    found: dict[str, tuple] = {}
    base = Path(base)
    if not base.is_dir():
        return {}
    for rank, name in enumerate(ALBEDO_NAMES):
        for p in base.rglob(name):
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(base).parts):
                key = (rank, len(p.parts), str(p))
                if p.parent.name not in found or key < found[p.parent.name][0]:
                    found[p.parent.name] = (key, p)
    return {scene: v[1] for scene, v in sorted(found.items())}


def albedo_index(raw_dir) -> dict[str, Path]:
    """scene -> albedo file under raw_dir/albedo/ (imported, or placed there by hand at any depth)."""
    return albedo_files(Path(raw_dir) / "albedo")


def find_albedo(raw_dir, scene: str) -> Path | None:
    return albedo_index(raw_dir).get(scene)


def photo_path(raw_dir, scene: str, direction: int, mip: int = 2) -> Path:
    base = Path(raw_dir) / "scenes" / scene
    name = f"dir_{direction}_mip{mip}.jpg"
    hits = [base / name] if (base / name).is_file() else sorted(base.rglob(name))
    if not hits:
        raise InputError(f"{base}: {name} not found")
    return hits[0]


def list_scenes(raw_dir, mip: int = 2) -> list[str]:
    """Train scenes that have both the photographs and an albedo file."""
    base = Path(raw_dir) / "scenes"
    if not base.is_dir():
        return []
    albedo = albedo_index(raw_dir)
    out = []
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        if is_test_scene(d.name) or d.name not in albedo:
            continue
        if any(d.rglob(f"dir_*_mip{mip}.jpg")):
            out.append(d.name)
    return out


def read_albedo(path) -> np.ndarray:
    """Linear-RGB albedo as float32 HxWx3 (scale arbitrary; only ratios are used)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = np.load(path).astype(np.float32)
    elif suffix == ".exr":
        arr = _read_exr(path)
    else:
        im = Image.open(path)
        arr = np.asarray(im, dtype=np.float32)
        if im.mode in ("I;16", "I;16B", "I"):
            arr = arr / 65535.0
        else:
            arr = arr / 255.0  # MIDIntrinsics --png output: linear values, min-max normalised
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise InputError(f"{path}: albedo must be HxWx3, got shape {arr.shape}")
    return arr[..., :3]


def _read_exr(path: Path) -> np.ndarray:
    try:
        import OpenEXR
    except ImportError as e:
        raise ImportError(f"{path}: reading EXR albedo needs the OpenEXR package (pip install OpenEXR)") from e
    fh = OpenEXR.InputFile(str(path))
    dw = fh.header()["dataWindow"]
    w, h = dw.max.x - dw.min.x + 1, dw.max.y - dw.min.y + 1
    import Imath

    pt = Imath.PixelType(Imath.PixelType.FLOAT)
    return np.stack([np.frombuffer(fh.channel(c, pt), dtype=np.float32).reshape(h, w) for c in "RGB"], axis=-1)


# Rec. 709 / sRGB primaries: relative luminance of LINEAR RGB.
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float64)


def luminance(albedo: np.ndarray) -> np.ndarray:
    return albedo.astype(np.float64) @ LUMA


def disk_mean(Y: np.ndarray, x: float, y: float, radius: float) -> float:
    """Mean of Y over the pixels whose centres lie within `radius` of (x, y) (pixel coords)."""
    h, w = Y.shape
    x0, x1 = max(0, int(np.floor(x - radius))), min(w, int(np.ceil(x + radius)) + 1)
    y0, y1 = max(0, int(np.floor(y - radius))), min(h, int(np.ceil(y + radius)) + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    m = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= radius**2
    if not m.any():
        raise ValueError(f"disk at ({x}, {y}) r={radius} covers no pixel of a {w}x{h} image")
    return float(Y[y0:y1, x0:x1][m].mean())
