"""`livr doctor --experiment NAME`: a preflight of everything the experiment's jobs need, in seconds.

One table, a row per check: backbone weights and released checkpoints' (methods' `weights_from`; in
the Hugging Face cache, else is the hub reachable), each data source (downloaded; else is its host
reachable, or is its manual step done), the built datasets,
GPUs against each backbone's memory need (livr/ops/job_memory.py) and free disk for what is still to
be downloaded. Status: `ready`; `pending` (the workflow will fetch or build it, nothing blocks);
`WARNING` (does not block, but a job is likely to fail: e.g. under `--gpus cluster`, a training job
estimated above one 80 GB GPU; the row says what to do); `MISSING` (blocks: the row says the exact
command or edit that fixes it). Exit status 1 when
anything is MISSING, 0 otherwise; `--stamp PATH` writes a small JSON file only when nothing is
missing (the Snakemake rule `doctor` makes the GPU jobs of real backbones wait for it).

Network probes are HEAD requests with short timeouts, run in daemon threads joined with a
deadline, so an offline machine (or a hanging DNS) answers in seconds. `HF_HUB_OFFLINE=1` is
honoured: the hub is then not probed, and weights must be in the cache.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

from livr import config as lc
from livr.data.registry import hub_sources, spec_of
from livr.data.sources import MANUAL_SOURCES, SOURCES
from livr.model.backbones import REGISTRY
from livr.model.pretrained import shipped_dir
from livr.settings import resolve_training

READY, PENDING, WARNING, MISSING = "ready", "pending", "WARNING", "MISSING"
HUB_SOURCES = hub_sources()  # sources whose files come from the hub (their specs' hub_sources)
PROBE_TIMEOUT = 5.0


@dataclasses.dataclass
class Check:
    area: str
    item: str
    status: str
    detail: str
    fix: str = ""


# ------------------------------------------------------------------------------------ probes
def probe(url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when `url` answers below HTTP 400 (HEAD, redirects followed), else why not. Never
    takes much longer than `timeout` (DNS included): the request runs in a daemon thread."""
    result: list[str | None] = ["no answer within %.0f s" % timeout]

    def go():
        import requests

        try:
            r = requests.head(url, timeout=(timeout, timeout), allow_redirects=True)
            if r.status_code == 405:  # HEAD not allowed: ask for the first byte instead
                r = requests.get(url, headers={"Range": "bytes=0-0"}, timeout=(timeout, timeout), stream=True)
                r.close()
            result[0] = None if r.status_code < 400 else f"HTTP {r.status_code}"
        except Exception as e:  # noqa: BLE001 - any failure to reach the host is the answer
            result[0] = short_error(e)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout * 2 + 1)
    return result[0]


def short_error(e: Exception) -> str:
    text = str(e)
    for needle, says in (
        ("NameResolution", "name resolution failed"),
        ("Name or service not known", "name resolution failed"),
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate did not verify"),
        ("Network is unreachable", "network unreachable"),
    ):
        if needle in text:
            return says
    return f"{type(e).__name__}: {text[:100]}"


def probe_all(urls: list[str]) -> dict[str, str | None]:
    """probe() of every URL at once (one deadline for all)."""
    out: dict[str, str | None] = {}
    threads = [threading.Thread(target=lambda u=u: out.__setitem__(u, probe(u)), daemon=True) for u in set(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PROBE_TIMEOUT * 2 + 2)
    return {u: out.get(u, "no answer") for u in urls}


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT", constants.ENDPOINT).rstrip("/")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def visible_gpus() -> list[float]:
    """Total memory (GiB) of each CUDA device this process can see."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_properties(i).total_memory / 1024**3 for i in range(torch.cuda.device_count())]


# ------------------------------------------------------------------------------------ weights
def cached_weights(repo_id: str) -> str | None:
    """The snapshot directory when config.json and every weight file of `repo_id` are in the HF
    cache (model.safetensors, or every shard its index lists), else None."""
    from huggingface_hub import constants, try_to_load_from_cache

    def cached(name):
        p = try_to_load_from_cache(repo_id, name, cache_dir=constants.HF_HUB_CACHE)
        return p if isinstance(p, str) else None

    config = cached("config.json")
    if config is None:
        return None
    if cached("model.safetensors"):
        return str(Path(config).parent)
    index = cached("model.safetensors.index.json")
    if index is None:
        return None
    shards = set(json.loads(Path(index).read_text()).get("weight_map", {}).values())
    return str(Path(config).parent) if shards and all(cached(s) for s in shards) else None


def hub_state() -> str | None:
    """None when the hub answers; else why it cannot be used (HF_HUB_OFFLINE, or the probe's error)."""
    if hub_offline():
        return "HF_HUB_OFFLINE=1"
    err = probe(f"{hub_endpoint()}/api/models/Qwen/Qwen3-VL-4B-Instruct")
    return None if err is None else f"unreachable: {err}"


def _hub_check(area: str, item: str, repo_id: str, hub_error: str | None) -> Check:
    from huggingface_hub import constants

    path = cached_weights(repo_id)
    if path:
        return Check(area, item, READY, f"{repo_id} in the HF cache ({path})")
    if hub_error:
        return Check(
            area,
            item,
            MISSING,
            f"{repo_id} not in the HF cache and the hub cannot be used ({hub_error})",
            f"hf download {repo_id}   (where the hub is reachable, into this cache: {constants.HF_HUB_CACHE})",
        )
    return Check(area, item, PENDING, f"{repo_id} not cached yet; downloaded from {hub_endpoint()} on first use")


# ------------------------------------------------------------------------------------ sources
def _source_urls(mod, cfg: dict) -> list[str]:
    """The URLs a pending download will start with (mirrors: any one answering is enough): the
    source module's `probe_urls`, else its `urls` (mirrors) or `url`; none for files from the hub."""
    if hasattr(mod, "probe_urls"):
        return mod.probe_urls(cfg)
    if "urls" in cfg:
        return list(cfg["urls"])
    return [cfg["url"]] if cfg.get("url") else []


def _disk_gb(mod, cfg: dict) -> float:
    d = mod.DISK_GB  # every source module states its download + extraction estimate
    return float(d[cfg["mode"]] if isinstance(d, dict) else d)


def source_checks(
    params: dict, sources: list[str], raw_root: Path, hub_error: str | None, params_file: str
) -> tuple[list[Check], float]:
    """A row per source (and per manual step) and the GB still to download."""
    from livr.data.download import read_manifest
    from livr.data.sources._common import check_cfg

    rows, pending_gb = [], 0.0
    to_probe: dict[str, list[str]] = {}
    mods = {s: importlib.import_module(SOURCES[s]) for s in sources}
    cfgs = {}
    for s in sources:
        cfgs[s] = check_cfg(mods[s].DEFAULTS, (params.get("sources") or {}).get(s), s)
        if read_manifest(raw_root / s) is None:
            to_probe[s] = _source_urls(mods[s], cfgs[s])
    answers = probe_all([u for urls in to_probe.values() for u in urls])
    download = f"livr data download --source {{s}} --raw-dir {raw_root} --params {params_file}"
    for s in sources:
        raw, mod = raw_root / s, mods[s]
        manifest = read_manifest(raw)
        if manifest is not None:
            rows.append(Check("source", s, READY, f"downloaded into {raw} ({manifest.get('finished_at', '?')})"))
            continue
        if s in MANUAL_SOURCES:
            manual = mod.MANUAL
            if manual.done(raw):
                rows.append(Check("manual step", s, READY, f"{manual.what}: imported"))
            else:
                rows.append(
                    Check(
                        "manual step",
                        s,
                        MISSING,
                        f"{manual.what}: no public download; get it at {manual.ask_at}; layout: {manual.layout}",
                        manual.command(raw_root),
                    )
                )
            if not manual.subdir:
                continue  # the whole source is manual: nothing to download
        urls = to_probe.get(s, [])
        dead = {u: answers[u] for u in urls if answers[u]}
        fix = download.format(s=s) + "   (where there is internet; then copy " + str(raw) + " here)"
        if s in HUB_SOURCES and hub_error:
            rows.append(Check("source", s, MISSING, f"not downloaded; the hub cannot be used ({hub_error})", fix))
            continue
        mirrors = "urls" in cfgs[s]
        if urls and ((mirrors and len(dead) == len(urls)) or (not mirrors and dead)):
            hosts = dict.fromkeys(f"{_host(u)} ({e})" for u, e in dead.items())
            rows.append(Check("source", s, MISSING, "not downloaded; unreachable: " + ", ".join(hosts), fix))
            continue
        gb = _disk_gb(mod, cfgs[s])
        pending_gb += gb
        rows.append(Check("source", s, PENDING, f"not downloaded yet; the workflow fetches it (~{gb:g} GB)"))
    return rows, pending_gb


def _host(url: str) -> str:
    return urlparse(url).netloc or url


# ------------------------------------------------------------------------------------ checks
def run_checks(params: dict, exp_name: str, gpus: str = "local", params_file: str = "params.yaml") -> list[Check]:
    exp = lc.experiment(params, exp_name)
    data_root = Path(params["paths"]["data"])
    raw_root = data_root / "raw"
    real = [b for b in exp["backbones"] if not REGISTRY[b].tiny]
    tasks = lc.datasets_of(params, exp_name)  # tasks, comparison training sets, benchmarks
    paper = exp["suite"] == "paper"
    rows: list[Check] = []

    from huggingface_hub import constants

    released = [lc.released_weights(params, m) for m in exp["methods"]]
    from_hub = real or any(s and not lc.is_local_weights(s) for s in released)  # backbones', released checkpoints'
    hub_error = hub_state() if (from_hub or paper) else None  # weights; BLINK and PixMo-Count annotations
    if from_hub or paper:
        hub_row = Check(
            "hub",
            hub_endpoint(),
            READY,
            ("reachable" if hub_error is None else hub_error)
            + f"; HF cache {constants.HF_HUB_CACHE}"
            + ("" if hub_offline() else "; HF_HUB_OFFLINE unset"),
        )
        rows.append(hub_row)

    # backbones: weights
    weight_rows, weights_gb = _weight_checks(params, exp["backbones"], hub_error)
    rows += weight_rows
    released_rows, released_gb = _released_checks(params, exp["methods"], hub_error)
    rows += released_rows
    weights_gb += released_gb

    # data: sources, manual steps, de-dup models, built datasets
    pending_gb = 0.0
    if paper:
        data_rows, pending_gb = _paper_data_checks(params, exp_name, tasks, raw_root, hub_error, params_file)
        rows += data_rows
    else:
        rows += _synthetic_data_checks(params, exp_name, tasks)

    # GPUs against each real backbone's training need
    if real:
        rows += gpu_checks(exp_name, _training_need(params, exp_name, real), gpus, params_file)

    # disk for pending downloads (data) and weights (HF cache)
    if pending_gb:
        rows.append(_disk_check(data_root, pending_gb, f"or set paths.data in {params_file} to a larger disk"))
    if weights_gb:
        rows.append(_disk_check(Path(constants.HF_HUB_CACHE), weights_gb, "or point HF_HOME at a larger disk"))
    if hub_error and any(r.status == MISSING and "hub cannot be used" in r.detail for r in rows):
        hub_row.status = MISSING
        hub_row.fix = (
            "give this machine access to the hub (or unset HF_HUB_OFFLINE), or fill the HF cache and "
            "data/raw where it has it (the fixes below)"
        )
    return rows


def _weight_checks(params: dict, backbones: list[str], hub_error: str | None) -> tuple[list[Check], float]:
    """A row per backbone's weights, and the GB of real weights still to download."""
    from livr.ops.job_memory import architecture, param_count

    rows: list[Check] = []
    weights_gb = 0.0
    for b in backbones:
        spec = REGISTRY[b]
        if spec.pretrained:  # ships inside the package (livr/model/pretrained/)
            path = shipped_dir(b)
            shipped = (path / "config.json").is_file()
            rows.append(
                Check(
                    "weights",
                    b,
                    READY if shipped else MISSING,
                    f"pretrained tiny base shipped with the package ({path})" if shipped else f"{path} is missing",
                    ""
                    if shipped
                    else "restore it from git, or rebuild it with the command in its manifest.json "
                    "(livr pretrain-tiny)",
                )
            )
            continue
        if spec.tiny:
            built = (Path(params["paths"]["models"]) / b / "config.json").is_file()
            rows.append(
                Check(
                    "weights",
                    b,
                    READY if built else PENDING,
                    "tiny offline build" + ("" if built else "; the workflow builds it (livr build-tiny)"),
                )
            )
            continue
        rows.append(_hub_check("weights", b, spec.hf_id, hub_error))
        if rows[-1].status == PENDING:
            weights_gb += param_count(architecture(b))["total"] * 2 / 1e9  # bf16 safetensors
    return rows, weights_gb


def _released_checks(params: dict, methods: list[str], hub_error: str | None) -> tuple[list[Check], float]:
    """A row per released checkpoint (methods.<m>.weights_from), as a backbone's weights: a local directory
    must hold a saved model, a hub id must be cached or downloadable; and the GB still to download."""
    from livr.ops.job_memory import architecture, param_count

    rows: list[Check] = []
    weights_gb = 0.0
    for m in methods:
        source = lc.released_weights(params, m)
        if source is None:
            continue
        item = f"{m} (released)"
        if lc.is_local_weights(source):
            saved = (Path(source).expanduser() / "config.json").is_file()
            rows.append(
                Check(
                    "weights",
                    item,
                    READY if saved else MISSING,
                    f"local directory {source}" + ("" if saved else ": no config.json"),
                    "" if saved else f"save the model there, or set methods.{m}.weights_from to its hub id",
                )
            )
            continue
        rows.append(_hub_check("weights", item, source, hub_error))
        backbone = params["methods"][m]["backbone"]
        if rows[-1].status == PENDING and not REGISTRY[backbone].tiny:
            weights_gb += param_count(architecture(backbone))["total"] * 2 / 1e9  # bf16 safetensors
    return rows, weights_gb


def _dataset_sources(name: str) -> list[str]:
    """The sources a dataset is built from: a paper task's builder, a comparison training set or a benchmark."""
    return list(spec_of(name).sources)


def _paper_data_checks(
    params: dict, exp_name: str, tasks: list[str], raw_root: Path, hub_error: str | None, params_file: str
) -> tuple[list[Check], float]:
    """Paper suite: the tasks' data sources, their de-dup CLIP models and built datasets; and the GB of data
    still to download."""
    from livr.data.download import MANIFEST

    task_sources = {t: _dataset_sources(t) for t in tasks}
    sources = list(dict.fromkeys(s for t in tasks for s in task_sources[t]))
    src_rows, pending_gb = source_checks(params, sources, raw_root, hub_error, params_file)
    rows = list(src_rows)
    blocked = {r.item for r in src_rows if r.status == MISSING}
    for t in tasks:
        clip = ((params.get("paper_data") or {}).get(t) or {}).get("clip_model")
        if clip:
            rows.append(_hub_check("weights", f"{t} de-dup CLIP", clip, hub_error))
    for t in tasks:
        out = Path(lc.task_dir(params, exp_name, t))
        missing_src = [s for s in task_sources[t] if s in blocked]
        if (out / MANIFEST).is_file():
            rows.append(Check("dataset", t, READY, f"built ({out})"))
        elif missing_src:
            rows.append(
                Check(
                    "dataset",
                    t,
                    PENDING,
                    f"built by the workflow once {', '.join(missing_src)} (MISSING above) is in place",
                )
            )
        else:
            rows.append(Check("dataset", t, PENDING, f"the workflow builds it into {out}"))
    return rows, pending_gb


def _synthetic_data_checks(params: dict, exp_name: str, tasks: list[str]) -> list[Check]:
    """Synthetic suite: nothing to download, only whether each task's dataset is built."""
    from livr.data.download import MANIFEST

    rows = []
    for t in tasks:
        out = Path(lc.task_dir(params, exp_name, t))
        rows.append(
            Check(
                "dataset", t, READY if (out / MANIFEST).is_file() else PENDING, f"synthetic, built offline into {out}"
            )
        )
    return rows


def _training_need(params: dict, exp_name: str, real: list[str]) -> dict[str, tuple]:
    """Per real backbone, its most memory-hungry training job over the experiment's train sets and trained
    methods: (estimated GiB, images per example, sequence length, max_pixels, method or None, its
    resolved training settings), as `gpu_checks` takes it."""
    from livr.ops.job_memory import gpu_memory_gib, job_images

    need = {}
    for b in real:
        pixels = lc.backbone_settings(params, b).get("max_pixels")
        for ts in lc.train_sets(params, exp_name):
            images = job_images(lc.train_data(params, exp_name, ts))  # what it trains on, as the job's own request
            trained = [m for m in lc.trained_methods(params, exp_name) if lc.trains_on(params, exp_name, m, ts)]
            for m in trained or [None]:
                training = resolve_training(params, exp_name, m)
                est = gpu_memory_gib(b, pixels, images, training, params["methods"][m]["train"] if m else None)
                if est["total"] > need.get(b, (0,))[0]:
                    need[b] = (est["total"], images, est["sequence"], pixels, m, training)
    return need


def _disk_check(path: Path, need_gb: float, alternative: str) -> Check:
    free = _free_gb(path)
    ok = free >= need_gb
    return Check(
        "disk",
        str(path),
        READY if ok else MISSING,
        f"{free:.0f} GB free, ~{need_gb:.0f} GB still to download",
        "" if ok else f"free {need_gb - free:.0f} GB there, {alternative}",
    )


def gpu_checks(exp: str, need: dict, gpus: str, params_file: str) -> list[Check]:
    """A row per real backbone: its largest training job against this machine's GPUs (local), or only
    its need (cluster; a WARNING when that is more than one 80 GB GPU, with what to do)."""
    from livr.ops.job_memory import fit_advice

    biggest = max(v[0] for v in need.values())
    rows = []
    if gpus == "cluster":
        for b, (gib, images, seq, pixels, method, training) in need.items():
            advice = fit_advice(exp, b, method, gib, training, params_file=params_file)
            rows.append(
                Check(
                    "gpu",
                    b,
                    WARNING if advice else PENDING,
                    f"jobs run on cluster nodes: each needs 1 GPU with >= {gib:.0f} GiB "
                    f"(estimate; {_job(method, images, pixels, seq)})",
                    advice or "",
                )
            )
        return rows
    found = visible_gpus()
    if not found:
        where = os.environ.get("CUDA_VISIBLE_DEVICES")
        shown = f" (CUDA_VISIBLE_DEVICES={where!r})" if where is not None else ""
        return [
            Check(
                "gpu",
                "devices",
                MISSING,
                "no CUDA GPU visible" + shown,
                f"run on a machine with a GPU of >= {biggest:.0f} GiB (or submit with "
                "--workflow-profile workflow/profiles/slurm)",
            )
        ]
    rows.append(Check("gpu", "devices", READY, f"{len(found)} visible: " + ", ".join(f"{g:.0f} GiB" for g in found)))
    for b, (gib, images, seq, pixels, method, training) in need.items():
        ok = max(found) >= gib
        fix = fit_advice(exp, b, method, gib, training, max(found), "this machine's largest GPU", params_file)
        rows.append(
            Check(
                "gpu",
                b,
                READY if ok else MISSING,
                f"training needs ~{gib:.1f} GiB (estimate; {_job(method, images, pixels, seq)}); "
                f"largest GPU {max(found):.0f} GiB",
                fix or "",
            )
        )
    return rows


def _job(method: str | None, images: int, pixels: int, seq: int) -> str:
    return (f"method {method}, " if method else "") + f"{images} images x max_pixels {pixels}, {seq} tokens"


def _free_gb(path: Path) -> float:
    p = Path(path).resolve()
    while not p.exists():
        p = p.parent
    return shutil.disk_usage(p).free / 1e9


# ------------------------------------------------------------------------------------ output
def format_table(rows: list[Check]) -> str:
    head = ("status", "check", "item", "detail")
    cells = [(r.status, r.area, r.item, r.detail) for r in rows]
    w = [max(len(c[i]) for c in [head, *cells]) for i in range(3)]
    lines = ["  ".join(h.ljust(w[i]) if i < 3 else h for i, h in enumerate(head))]
    for r, c in zip(rows, cells):
        lines.append("  ".join(c[i].ljust(w[i]) for i in range(3)) + "  " + c[3])
        if r.fix:
            lines.append(" " * (sum(w) + 6) + "fix: " + r.fix)
    n_missing = sum(r.status == MISSING for r in rows)
    warned = sum(r.status == WARNING for r in rows)
    lines.append(
        f"{n_missing} missing, {sum(r.status == PENDING for r in rows)} pending (the workflow does them), "
        + (f"{warned} warnings (they do not block), " if warned else "")
        + f"{sum(r.status == READY for r in rows)} ready"
    )
    return "\n".join(lines)


def configure(parser) -> None:
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    parser.add_argument("--experiment", help="experiment (default: the params file's `experiment:`)")
    parser.add_argument(
        "--gpus",
        choices=("local", "cluster"),
        default="local",
        help="local: check this machine's GPUs (default); cluster: the jobs run elsewhere, only report what they need",
    )
    parser.add_argument("--stamp", type=Path, help="write this JSON file when nothing is missing")
    parser.add_argument("--json", action="store_true", help="print one JSON object per check instead of the table")


def main(args) -> int:
    from livr.io import write_json

    params = lc.load_params(args.params)
    exp = args.experiment or params["experiment"]
    lc.experiment(params, exp)
    rows = run_checks(params, exp, gpus=args.gpus, params_file=args.params)
    if args.json:
        for r in rows:
            print(json.dumps(dataclasses.asdict(r)))
    else:
        print(f"livr doctor: experiment {exp!r}")
        print(format_table(rows))
    missing = [r for r in rows if r.status == MISSING]
    if args.stamp is not None:
        args.stamp.unlink(missing_ok=True)
        if not missing:  # deterministic content: no sizes or times, so reruns do not change it
            write_json(args.stamp, {"experiment": exp, "checks": [[r.area, r.item, r.status] for r in rows]})
    return 1 if missing else 0
