"""ViGoRL's released datasets (Sarch et al., 2025), hub dataset `gsarch/vigorl_datasets`: the SAT-2
subset the paper's Table 3 trains on ("SAT-32k": 32k train, 1k val sampled by ViGoRL).

What was verified, and where:
- The hub repo holds one tarball per domain, `spatial_reasoning.tar` among them (11.2 GB), each
  extracted under one data root (Gabesarch/grounded-rl download_data.py; the dataset card).
- ViGoRL's GRPO run on SAT-2 reads `$DATA_ROOT/spatial_reasoning/vigorl_sat2_train_RL.jsonl` and
  `.../vigorl_sat2_val_RL.jsonl` (grounded-rl src/trainer/rl/examples/run_vigorl.sh), with image
  paths relative to the data root (data.image_root=$DATA_ROOT).
- Row fields of those RL files: EasyR1's config reads `problem`, `answer` and `images`
  (src/trainer/rl/examples/config.yaml); a third-party reader of the same file reads
  `image_paths` instead (a list), and shows the problem text as "<image>...Question: ...
  Answer Choices:\\nA. x\\nB. y\\nAnswer with the text of the option." with `answer` equal to one
  choice's text. Both image keys are accepted here; a row with neither is an error.
- ViGoRL's own evaluation file `spatial_reasoning/sat2_test/sat2_test.jsonl` uses the LLaVA
  conversation form ({id, image, conversations: [human, gpt]}, scripts/evaluation/eval_spatial.sh
  and src/vlmsearch/datasets/data_loader.py); `read_rows` reads that form too.
NOT verified offline: the tarball's full member list and the RL files' exact line count (the paper
says 32k / 1k); the manifest records what the download actually holds.

`download` fetches the configured tarballs (huggingface_hub resumes interrupted transfers), checks
an optional sha256, extracts each into data/raw/vigorl/extracted_<name>/ with livr's safe
extraction, and writes the manifest (every .jsonl with its line count). All hub access goes
through `_hub_file`, which tests replace.
"""

from __future__ import annotations

import re
from pathlib import Path

from livr.data.download import require_manifest, safe_extract, sha256_file, write_manifest
from livr.data.sources._common import is_finished
from livr.errors import InputError
from livr.io import json_lines

SOURCE = "vigorl"
DEFAULTS = {
    "repo_id": "gsarch/vigorl_datasets",
    "revision": None,  # a commit sha pins the data; None = main
    "archives": ["spatial_reasoning.tar"],
    "sha256": {},  # archive -> expected sha256 (the hub publishes LFS sha256s per file)
    "keep_archive": False,
}
DISK_GB = 23  # estimate: spatial_reasoning.tar (11.2 GB) plus its extracted copy


def _hub_file(repo_id: str, filename: str, local_dir: Path, revision: str | None) -> Path:
    """Download one file of the hub dataset repo into local_dir (resumable); its local path."""
    from huggingface_hub import hf_hub_download

    return Path(
        hf_hub_download(
            repo_id=repo_id, filename=filename, repo_type="dataset", local_dir=str(local_dir), revision=revision
        )
    )


def data_root(raw_dir, archive: str = "spatial_reasoning.tar") -> Path:
    """The directory ViGoRL calls DATA_ROOT for one extracted archive."""
    return Path(raw_dir) / f"extracted_{Path(archive).stem}"


def download(raw_dir, cfg: dict | None = None) -> Path:
    raw_dir = Path(raw_dir)
    cfg = {**DEFAULTS, **(cfg or {})}
    if is_finished(raw_dir):
        return raw_dir
    files, jsonl = [], {}
    for name in cfg["archives"]:
        target = data_root(raw_dir, name)
        if not target.is_dir():
            archive = _hub_file(cfg["repo_id"], name, raw_dir, cfg["revision"])
            got = sha256_file(archive)
            want = (cfg["sha256"] or {}).get(name)
            if want and got != want.lower():
                archive.unlink()
                raise InputError(f"{archive}: sha256 {got} differs from sources.vigorl.sha256.{name} = {want}")
            safe_extract(archive, target)
            files.append({"file": name, "sha256": got})
            if not cfg["keep_archive"]:
                archive.unlink()
        else:
            files.append({"file": name, "sha256": None, "note": "already extracted"})
        for p in sorted(target.rglob("*.jsonl")):
            with open(p, "rb") as f:
                jsonl[str(p.relative_to(raw_dir))] = sum(1 for line in f if line.strip())
    write_manifest(
        raw_dir,
        {
            "source": SOURCE,
            "repo_id": cfg["repo_id"],
            "revision": cfg["revision"],
            "files": files,
            "jsonl_rows": jsonl,
            "dropped": [],
        },
    )
    return raw_dir


_CHOICE = re.compile(r"^([A-Z])[.)]\s*(.*)$")


def parse_problem(problem: str, where: str) -> tuple[str, list[str]]:
    """ViGoRL's SAT prompt -> (question text without image placeholders, choice texts)."""
    text = problem.replace("<image>", "").strip()
    head, sep, tail = text.partition("Answer Choices:")
    if not sep:
        raise InputError(f"{where}: no 'Answer Choices:' in the problem text {problem[:120]!r}")
    question = re.sub(r"^Question:\s*", "", head.strip())
    choices = []
    for line in tail.strip().splitlines():
        m = _CHOICE.match(line.strip())
        if m:
            if m.group(1) != "ABCDEFGHIJ"[len(choices)]:
                raise InputError(f"{where}: choice line {line!r} out of order")
            choices.append(m.group(2).strip())
        elif line.strip() and choices:
            break  # the closing instruction ("Answer with the text of the option.")
    if len(choices) < 2:
        raise InputError(f"{where}: fewer than 2 answer choices parsed from {tail[:120]!r}")
    return question, choices


def read_rows(raw_dir, relpath: str, archive: str = "spatial_reasoning.tar") -> list[dict]:
    """Rows of a ViGoRL jsonl (RL form {problem, answer, images|image_paths} or conversation form
    {image, conversations}) as {row, question, choices, answer_text, images (absolute), prompt}."""
    raw_dir = Path(raw_dir)
    require_manifest(raw_dir, SOURCE)
    root = data_root(raw_dir, archive)
    path = root / relpath
    if not path.is_file():
        found = sorted(str(p.relative_to(root)) for p in root.rglob("*.jsonl"))
        raise InputError(f"{path}: not found; the ViGoRL download holds: {', '.join(found) or 'no .jsonl files'}")
    out = []
    for i, (where, row) in enumerate(json_lines(path)):
        if "conversations" in row:
            problem, answer = row["conversations"][0]["value"], row["conversations"][1]["value"]
            images = row.get("image")
        elif "problem" in row:
            problem, answer = row["problem"], row["answer"]
            images = row.get("images", row.get("image_paths"))
        else:
            raise InputError(f"{where}: neither 'problem' nor 'conversations'; keys {sorted(row)}")
        if not images:
            raise InputError(f"{where}: no image ('images', 'image_paths' or 'image')")
        images = [images] if isinstance(images, str) else list(images)
        question, choices = parse_problem(problem, where)
        answer = str(answer).strip()
        if answer not in choices:
            raise InputError(f"{where}: answer {answer!r} is not one of its choices {choices}")
        paths = [root / p for p in images]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise InputError(f"{where}: image file(s) missing: {missing}")
        out.append(
            {
                "row": i,
                "id": str(row.get("id", i)),
                "question": question,
                "choices": choices,
                "answer_text": answer,
                "images": paths,
                "prompt": problem.replace("<image>", "").strip(),
            }
        )
    if not out:
        raise InputError(f"{path}: no rows")
    return out
