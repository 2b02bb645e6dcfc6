"""The backbone families, one module each (livr/model/family.py says what a family provides).

To add a family: write its module with a `FAMILY = Family(...)` and add it to FAMILIES below
(docs/EXTENDING.md, "A backbone").
"""

from __future__ import annotations

from livr.model.families import llava_ov_1_5, qwen2_5_vl, qwen3_vl
from livr.model.family import Family

FAMILIES: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in (qwen2_5_vl, qwen3_vl, llava_ov_1_5)}


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(f"unknown backbone family {name!r}; families: {', '.join(FAMILIES)}")
    return FAMILIES[name]
