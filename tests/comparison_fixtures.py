"""Fixtures in the comparison sources' own formats (see each source module's docstring for where
the layout was read): ViGoRL's spatial_reasoning.tar, Mirage's VSP archives, MMVP's hub folder,
V* Bench's hub folder, RoboSpatial-Home's DatasetDict, LVR's Visual-CoT json + split image tar."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

from photo_fixtures import jpeg_bytes, natural, png_bytes
from PIL import Image


def tar_bytes(root: Path, members: list[str], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for m in members:
            tf.add(root / m, arcname=m)
    return buf.getvalue()


def fake_hub_file(hub_dir: Path, calls: list | None = None):
    """Stand-in for a source's `_hub_file`: copies one file of a local 'repo' into local_dir."""

    def fetch(repo_id, filename, local_dir, revision=None):
        if calls is not None:
            calls.append(filename)
        src = Path(hub_dir) / filename
        if not src.is_file():
            raise FileNotFoundError(f"{repo_id}: no {filename}")
        dest = Path(local_dir) / filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return dest

    return fetch


# ---------------------------------------------------------------------------------------- ViGoRL
SAT_ROWS = [  # (question, choices, gold text, number of images)
    ("Is the lamp to the left of the sofa from the camera's view?", ["left", "right"], "right", 1),
    (
        "How did the camera move between the two frames?",
        ["rotated left", "rotated right", "did not move"],
        "did not move",
        2,
    ),
    ("Which object is closer to the camera?", ["the chair", "the table"], "the chair", 1),
    ("Were any of the objects moved?", ["Chair was moved left", "Chair was moved right"], "Chair was moved right", 1),
    ("Is the mug on the table?", ["yes", "no"], "yes", 1),
    ("Which way should I turn to face the door?", ["left", "right"], "left", 1),
]


def sat_problem(question: str, choices: list[str], n_images: int) -> str:
    lines = "\n".join(f"{'ABCDE'[i]}. {c}" for i, c in enumerate(choices))
    return (
        "<image>" * n_images + f"\nQuestion: {question}\nAnswer Choices:\n{lines}\nAnswer with the text of the option."
    )


def make_vigorl_hub(hub: Path, n_train: int = 6, n_val: int = 3, blink: list[tuple] = ()) -> dict:
    """hub/spatial_reasoning.tar holding spatial_reasoning/vigorl_sat2_{train,val}_RL.jsonl (RL
    rows: problem, answer, images | image_paths), sat2_test/sat2_test.jsonl (conversation rows),
    blink/blink_validation.jsonl (conversation rows, as ViGoRL's data_loader reads them: id, image,
    conversations; one per (id, question, choices, gold) of `blink`; the prompt is worded like
    ViGoRL's SAT rows, which for its BLINK file is NOT verified) and the images they name (paths
    relative to the data root). Returns the rows written."""
    stage = hub / "stage"
    base = stage / "spatial_reasoning"
    members, written = [], {}
    for split, n, image_key in (("train", n_train, "images"), ("val", n_val, "image_paths")):
        rows = []
        for i in range(n):
            q, ch, gold, k = SAT_ROWS[i % len(SAT_ROWS)]
            paths = []
            for j in range(k):
                rel = f"spatial_reasoning/sat2/images/{split}_{i}_{j}.png"
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                natural(100 * i + j + (0 if split == "train" else 5000), (64, 48)).save(stage / rel)
                members.append(rel)
                paths.append(rel)
            rows.append({"problem": sat_problem(q, ch, k), "answer": gold, image_key: paths})
        rel = f"spatial_reasoning/vigorl_sat2_{split}_RL.jsonl"
        (stage / rel).write_text("".join(json.dumps(r) + "\n" for r in rows))
        members.append(rel)
        written[split] = rows
    (base / "sat2_test/images").mkdir(parents=True, exist_ok=True)
    conv = []
    for k, (gold, other) in enumerate((("left", "right"), ("right", "left"), ("left", "right"))):
        rel = f"spatial_reasoning/sat2_test/images/{k}_merged.png"
        natural(9999 - k, (64, 48)).save(stage / rel)
        members.append(rel)
        conv.append(
            {
                "id": k,
                "image": rel,
                "conversations": [
                    {"from": "human", "value": sat_problem(f"Is it {gold} ({k})?", sorted([gold, other]), 1)},
                    {"from": "gpt", "value": gold},
                ],
                "source": "SAT2_base",
            }
        )
    (base / "sat2_test/sat2_test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in conv))
    members.append("spatial_reasoning/sat2_test/sat2_test.jsonl")
    written["conv"] = conv
    rows = []
    for k, (row_id, question, choices, gold) in enumerate(blink):
        rel = f"spatial_reasoning/blink/images/{k}.png"
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        natural(7000 + k, (64, 48)).save(stage / rel)
        members.append(rel)
        rows.append(
            {
                "id": row_id,
                "image": rel,
                "conversations": [
                    {"from": "human", "value": sat_problem(question, choices, 1)},
                    {"from": "gpt", "value": gold},
                ],
            }
        )
    if rows:
        (base / "blink/blink_validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        members.append("spatial_reasoning/blink/blink_validation.jsonl")
    written["blink"] = rows
    (hub / "spatial_reasoning.tar").write_bytes(tar_bytes(stage, members))
    return written


# ---------------------------------------------------------------------------------------- Mirage
MAPS = [
    [[2, -1, 1], [0, 0, 0], [0, 0, 0]],
    [[2, 0, 0], [1, -1, 0], [0, 0, 0]],
    [[0, 0, 0, 0], [-1, 0, -1, 2], [1, 0, 0, 0], [0, -1, 0, 0]],
    [[1, 0, 2], [-1, -1, 0], [0, 0, 0]],
    [[0, 1, 0], [0, -1, 0], [0, 2, 0]],
]
PLAN_TEXT = (
    "\nAs a professional maze solver, ...\n\nHere is the map: <image>\n\nPlease provide your action plan.\n"
    " The final answer MUST BE put in \\boxed{}."
)


def make_mirage_archives(stage: Path, train_plans: list[str]) -> tuple[bytes, bytes]:
    """(train .tar.gz, test .tar.gz) in Mirage's layout: train_direct.jsonl + img/level_N/<id>/
    map_NxN_step_0.png and the helper image map_reasoning_path.png; test_direct.jsonl +
    imgs_test/levelN/img/<id>.png."""
    train, test = stage / "train", stage / "test"
    rows, members = [], []
    for i, plan in enumerate(train_plans):
        m = MAPS[i % len(MAPS)]
        n = len(m)
        rel = f"img/level_{n}/{i}/map_{n}x{n}_step_0.png"
        helper = f"img/level_{n}/{i}/map_reasoning_path.png"
        (train / rel).parent.mkdir(parents=True, exist_ok=True)
        natural(i, (48, 48)).save(train / rel)
        natural(700 + i, (48, 48)).save(train / helper)
        members += [rel, helper]
        rows.append(
            {
                "text_input": PLAN_TEXT,
                "image_input": f"./data/vsp_spatial_planning/{rel}",
                "image_output": f"./data/vsp_spatial_planning/img/level_{n}/{i}/map_reasoning_path.png",
                "text_output": "\\boxed{" + plan + "}",
                "map_id": i,
                "map_desc": m,
            }
        )
    (train / "train_direct.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    members.append("train_direct.jsonl")
    train_tar = tar_bytes(train, members, "w:gz")
    rows, members = [], []
    for i, m in enumerate(MAPS):
        rel = f"imgs_test/level{len(m)}/img/{i}.png"
        (test / rel).parent.mkdir(parents=True, exist_ok=True)
        natural(50 + i, (48, 48)).save(test / rel)
        members.append(rel)
        rows.append(
            {
                "text_input": PLAN_TEXT,
                "image_input": f"./data/vsp_spatial_planning/{rel}",
                "map_id": str(i),
                "map_desc": m,
            }
        )
    (test / "test_direct.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    members.append("test_direct.jsonl")
    return train_tar, tar_bytes(test, members, "w:gz")


# ------------------------------------------------------------------------------------------ MMVP
def make_mmvp_hub(hub: Path, n_pairs: int = 3) -> list[dict]:
    """hub/Questions.csv (Index, Question, Options, Correct Answer) + hub/MMVP Images/<i>.jpg."""
    import csv

    (hub / "MMVP Images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(1, 2 * n_pairs + 1):
        rows.append(
            {
                "Index": str(i),
                "Question": f"Are the butterfly's wings closer to being open or closed? ({i})",
                "Options": "(a) Open (b) Closed",
                "Correct Answer": "(a)" if i % 2 else "(b)",
            }
        )
        (hub / "MMVP Images" / f"{i}.jpg").write_bytes(jpeg_bytes(natural(i, (48, 48))))
    with open(hub / "Questions.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["Index", "Question", "Options", "Correct Answer"])
        w.writeheader()
        w.writerows(rows)
    return rows


# -------------------------------------------------------------------------------------------- V*
def make_vstar_hub(hub: Path, n_direct: int = 3, n_relative: int = 2) -> list[dict]:
    rows = []
    for cat, n, choices in (
        ("direct_attributes", n_direct, ["red", "blue", "green", "white"]),
        ("relative_position", n_relative, ["left", "right"]),
    ):
        (hub / cat).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = f"{cat}/sa_{len(rows)}.jpg"
            (hub / img).write_bytes(jpeg_bytes(natural(200 + len(rows), (64, 48))))
            (hub / img).with_suffix(".json").write_text("{}")
            opts = "\n".join(f"({'ABCD'[j]}) {c}" for j, c in enumerate(choices))
            rows.append(
                {
                    "question_id": len(rows),
                    "image": img,
                    "category": cat,
                    "text": f"What is the colour of object {i}?\n{opts}\n"
                    "Answer with the option's letter from the given choices directly.",
                    "label": "ABCD"[i % len(choices)],
                }
            )
    (hub / "test_questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


# ------------------------------------------------------------------------------ RoboSpatial-Home
def robospatial_dataset(n: dict | None = None):
    """A datasets.DatasetDict like chanhee-luke/RoboSpatial-Home: splits context / compatibility /
    configuration with category, question, answer, img, depth_image, mask."""
    import datasets

    n = n or {"configuration": 3, "compatibility": 2, "context": 1}
    feats = datasets.Features(
        {
            "category": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "img": datasets.Image(),
            "depth_image": datasets.Image(),
            "mask": datasets.Image(),
        }
    )
    out = {}
    for split, k in n.items():
        cols = {c: [] for c in feats}
        for i in range(k):
            cols["category"].append(split)
            cols["question"].append(f"Can the mug fit on the shelf ({split} {i})? Answer yes or no.")
            cols["answer"].append(
                "Yes" if i % 2 == 0 else "No" if split != "context" else "[(0.1, 0.1), (0.2, 0.1), (0.2, 0.2)]"
            )
            cols["img"].append({"bytes": png_bytes(natural(300 + i, (48, 40))), "path": None})
            cols["depth_image"].append({"bytes": png_bytes(Image.new("L", (48, 40))), "path": None})
            cols["mask"].append(None)
        out[split] = datasets.Dataset.from_dict(cols, features=feats)
    return datasets.DatasetDict(out)


# ------------------------------------------------------------------------- LVR Visual-CoT + images
def make_visual_cot(hub: Path, n: int = 6, n_parts: int = 3, missing: int = 1) -> tuple[bytes, list[dict]]:
    """(LVR's training json bytes, its rows); hub/cot_images_tar_split/cot_images_00.. holding one
    tar (cot/<dataset>/<file>.jpg) split into `n_parts` byte chunks. The last `missing` rows name
    images that the tar lacks."""
    stage = hub / "stage"
    rows, members = [], []
    for i in range(n):
        ds = ("flickr30k", "gqa")[i % 2]
        name = f"{1000 + i}.jpg"
        rows.append(
            {
                "dataset": ds,
                "split": "train",
                "question_id": i,
                "image": [f"viscot/{ds}/{name}"],
                "conversations": [
                    {"from": "human", "value": f"<image>\nWhat is object {i}?\nProvide a short and direct response."},
                    {"from": "gpt", "value": f"<lvr>\n<answer> thing {i} </answer>"},
                ],
                "bboxes": [[0.1, 0.2, 0.5, 0.4 + 0.05 * i]],
            }
        )
        if i < n - missing:
            rel = f"cot/{ds}/{name}"
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_bytes(jpeg_bytes(natural(400 + i, (40, 40))))
            members.append(rel)
    blob = tar_bytes(stage, members)
    (hub / "cot_images_tar_split").mkdir(parents=True, exist_ok=True)
    step = -(-len(blob) // n_parts)
    for k in range(n_parts):
        (hub / "cot_images_tar_split" / f"cot_images_{k:02d}").write_bytes(blob[k * step : (k + 1) * step])
    return json.dumps(rows).encode(), rows
