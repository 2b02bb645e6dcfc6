"""Pretrained tiny backbones shipped with the package, one directory per registry name.

Each directory is what `livr pretrain-tiny` writes (weights, tokenizer, image processor and a
manifest.json saying how it was made); backbones with `pretrained=True` in the registry load
from here, so a fresh clone never retrains them. Rebuild one with the `command` in its manifest.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    return ROOT / name


def rebuild_command(name: str, out: str) -> str:
    """The `livr pretrain-tiny` command that made the shipped `name` (its manifest's), writing to `out`."""
    import json
    import shlex

    words = shlex.split(json.loads((shipped_dir(name) / "manifest.json").read_text())["command"])
    at = words.index("--out")
    return shlex.join([*words[:at], "--out", out, *words[at + 2 :]])
