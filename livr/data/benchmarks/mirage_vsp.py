"""Mirage's Visual Spatial Planning (the paper's Mirage comparison): the training set `mirage_vsp`
(Mirage's train_direct rows: map image + question -> the plan "\\boxed{...}" Mirage trains on; the
helper image, the map with the path drawn, is kept in the record's `helper_image`, outside
`images`, so only Mirage's latent target sees it) and the benchmark `mirage_vsp` test split (test_direct, 400 maps,
scored by simulating the plan, `mirage_vsp` scorer). Mirage's text puts the map at "<image>"
inside the question; the record format puts images first, so the placeholder is removed. Test
rows have no gold plan: the answer recorded is a shortest safe plan found by breadth-first search
(a reference only; scoring simulates the model's plan)."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from livr.data.benchmarks.records import Collector, carve, merge
from livr.data.benchmarks.scoring import extract_boxed_content
from livr.data.schema import Record
from livr.data.sources import mirage
from livr.errors import InputError

TRAIN_DEFAULTS = {
    "n_train": None,  # None = every train_direct row not used for val
    "n_val": 100,  # NOT SPECIFIED (Mirage has no val split): carved from train_direct
}
TEST_DEFAULTS: dict = {}
MOVE_WORDS = {(0, -1): "LEFT", (1, 0): "DOWN", (0, 1): "RIGHT", (-1, 0): "UP"}  # (row, col) step -> Mirage's word


def question_text(text_input: str) -> str:
    return text_input.replace("<image>", "").strip()


def shortest_plan(map_desc: list[list[int]]) -> str:
    """A shortest hole-free move sequence from the start (1) to the goal (2), in Mirage's words."""
    cells = {(r, c): v for r, row in enumerate(map_desc) for c, v in enumerate(row)}
    start = next((p for p, v in cells.items() if v == 1), None)
    if start is None:
        raise InputError(f"map {map_desc}: no start cell")
    prev, queue = {start: None}, deque([start])
    while queue:
        p = queue.popleft()
        if cells[p] == 2:
            moves = []
            while prev[p] is not None:
                q, step = prev[p]
                moves.append(MOVE_WORDS[step])
                p = q
            return ", ".join(reversed(moves))
        for step in MOVE_WORDS:
            n = (p[0] + step[0], p[1] + step[1])
            if n in cells and n not in prev and cells[n] != -1:
                prev[n] = (p, step)
                queue.append(n)
    raise InputError(f"map {map_desc}: the goal cannot be reached")


def _record(split: str, row: dict, answer: str, reference: bool) -> Record:
    return Record(
        id=f"mirage_vsp-{split}-{row['row']}",
        task="mirage_vsp",
        split=split,
        images=[],
        question=question_text(row["text_input"]),
        choices=[],
        answer=answer,
        source="mirage:vsp_spatial_planning",
        meta={
            "map_id": str(row.get("map_id")),
            "map_desc": row["map_desc"],
            "target": answer,
            "answer_is_reference_plan": reference,
        },
    )


def build_train(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(TRAIN_DEFAULTS, cfg, "mirage_vsp")
    rows = mirage.read_rows(Path(raw_root) / "mirage", "train")
    train, val = carve(rows, cfg["n_val"], cfg["n_train"], seed, "mirage_vsp")
    col = Collector()
    for split, part in (("train", train), ("val", val)):
        for r in part:
            plan = extract_boxed_content(r["text_output"])
            if plan == "None":
                raise InputError(f"Mirage train row {r['row']}: no \\boxed{{...}} plan in text_output")
            col.add(_record(split, r, "\\boxed{" + plan + "}", False), [r["image"]], helper=r["helper"])
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.mirage_vsp.build_train",
            "task": "mirage_vsp",
            "seed": seed,
            "params": cfg,
            "sources": ["mirage"],
            "source_rows": len(rows),
        },
    )


def build_test(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(TEST_DEFAULTS, cfg, "mirage_vsp_test")
    col = Collector()
    for r in mirage.read_rows(Path(raw_root) / "mirage", "test"):
        col.add(_record("test", r, "\\boxed{" + shortest_plan(r["map_desc"]) + "}", True), [r["image"]])
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.mirage_vsp.build_test",
            "task": "mirage_vsp",
            "seed": seed,
            "params": cfg,
            "sources": ["mirage"],
        },
    )
