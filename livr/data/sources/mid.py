"""Multi-Illumination Dataset (MID; Murmann et al., ICCV 2019) with MIDIntrinsics albedo.

Photographs: per scene, `https://data.csail.mit.edu/multilum/<scene>/<scene>_mip2_jpg.zip`
(the authors' SDK URL pattern) holding `<scene>/dir_<d>_mip2.jpg` for the 25 flash directions
d = 0..24 at 1500x1000 (mip 2; tonemapped sRGB JPEG). The scene list is the SDK's `scenes.json`
(name, room, building, room_type); test scenes are those whose name starts with "everett", every
other scene is train (the SDK's own `train_scenes()` rule).

Albedo: MID itself ships no albedo. "Albedo in linear RGB" comes from MIDIntrinsics (Careaga &
Aksoy, TOG 2023): `generate_albedo.py` writes `<scene>/albedo.exr`, the median over lighting
directions of the estimated albedo of the linear (HDR, white-balanced) mip-2 images, i.e. linear
RGB at the same 1500x1000 grid as `dir_<d>_mip2.jpg` (with `--png` it writes `albedo.png`, the
same linear values min-max normalised to 8 bits, no gamma). The released MIDIntrinsics data sit
behind a SharePoint link with no stable direct URL, so `albedo_url` must be configured (any zip
or tar holding `<scene>/albedo.{exr,png}` or `.npy`) or the files placed by hand under
`<raw_dir>/albedo/<scene>/` before `download` is run; `download` then checks and records them.
Reading `.exr` needs the `OpenEXR` package (imported only when an EXR is read).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from livr.data.download import download_file, safe_extract, sha256_file, write_manifest
from livr.data.sources._common import DOWNLOAD_DEFAULTS, dl_kwargs, is_finished

DEFAULTS = {
    "base_url": "https://data.csail.mit.edu/multilum",
    "scenes_url": "https://raw.githubusercontent.com/lmurmann/multi_illumination/master/scenes.json",
    "mip": 2,
    "max_scenes": None,  # None = every train scene
    "albedo_url": None,  # MIDIntrinsics archive; see module docstring
    "albedo_sha256": None,
    "keep_archives": False,
    **DOWNLOAD_DEFAULTS,
}
ALBEDO_NAMES = ("albedo.exr", "albedo.npy", "albedo.png", "albedo.tif", "albedo.tiff")
N_DIRECTIONS = 25
# Directions where the flash is directly visible in the photo (from the MID SDK).
FRONTAL_DIRECTIONS = (2, 3, 19, 20, 21, 22, 24)


def is_test_scene(name: str) -> bool:
    return name.startswith("everett")


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    if is_finished(raw_dir):
        return raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    dl = dl_kwargs(cfg)
    files = []
    scenes_json = download_file(cfg["scenes_url"], raw_dir / "scenes.json", **dl)
    files.append({"url": cfg["scenes_url"], "path": "scenes.json", "sha256": sha256_file(scenes_json)})
    scenes = [s["name"] for s in json.loads(scenes_json.read_text()) if not is_test_scene(s["name"])]
    if cfg["max_scenes"] is not None:
        scenes = scenes[: int(cfg["max_scenes"])]

    albedo_dir = raw_dir / "albedo"
    if cfg["albedo_url"]:
        archive = raw_dir / ("albedo_archive" + Path(cfg["albedo_url"].split("?")[0]).suffix)
        download_file(cfg["albedo_url"], archive, sha256=cfg["albedo_sha256"], **dl)
        files.append({"url": cfg["albedo_url"], "path": archive.name, "sha256": sha256_file(archive)})
        if not albedo_dir.is_dir():
            safe_extract(archive, albedo_dir)
        if not cfg["keep_archives"]:
            archive.unlink(missing_ok=True)
    if not albedo_dir.is_dir():
        raise FileNotFoundError(
            f"{albedo_dir}: MIDIntrinsics albedo missing. Set `albedo_url` to an archive of "
            f"<scene>/albedo.exr files, or place them under {albedo_dir}/<scene>/ and run again.")

    dropped = []
    mip = int(cfg["mip"])
    for scene in scenes:
        if find_albedo(raw_dir, scene) is None:
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
    kept = [s for s in list_scenes(raw_dir, mip)]
    write_manifest(raw_dir, {"source": "mid", "files": files, "mip": mip,
                             "counts": {"train_scenes_listed": len(scenes), "scenes_usable": len(kept)},
                             "dropped": dropped})
    return raw_dir


def find_albedo(raw_dir, scene: str) -> Path | None:
    base = Path(raw_dir) / "albedo"
    for cand in (base / scene, *base.glob(f"*/{scene}")):
        for name in ALBEDO_NAMES:
            if (cand / name).is_file():
                return cand / name
    return None


def photo_path(raw_dir, scene: str, direction: int, mip: int = 2) -> Path:
    base = Path(raw_dir) / "scenes" / scene
    name = f"dir_{direction}_mip{mip}.jpg"
    hits = [base / name] if (base / name).is_file() else sorted(base.rglob(name))
    if not hits:
        raise FileNotFoundError(f"{base}: {name} not found")
    return hits[0]


def list_scenes(raw_dir, mip: int = 2) -> list[str]:
    """Train scenes that have both the photographs and an albedo file."""
    base = Path(raw_dir) / "scenes"
    if not base.is_dir():
        return []
    out = []
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        if is_test_scene(d.name) or find_albedo(raw_dir, d.name) is None:
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
        raise ValueError(f"{path}: albedo must be HxWx3, got shape {arr.shape}")
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
    m = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= radius ** 2
    if not m.any():
        raise ValueError(f"disk at ({x}, {y}) r={radius} covers no pixel of a {w}x{h} image")
    return float(Y[y0:y1, x0:x1][m].mean())
