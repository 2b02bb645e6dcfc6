"""Look at a built task directory: counts per split, answer balance, and a contact sheet PNG of
rendered examples (each example's images side by side, the exact question and the gold answer
drawn underneath), so a person sees what the model sees."""

from __future__ import annotations

import collections
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from livr.data.schema import SPLITS, read_split
from livr.errors import InputError
from livr.io import atomic_path


def summarize(task_dir) -> dict:
    """{split: {"n": count, "answers": {answer: count}}} for the splits present."""
    task_dir = Path(task_dir)
    out = {}
    for split in SPLITS:
        if not (task_dir / f"{split}.jsonl").is_file():
            continue
        recs = read_split(task_dir, split, check_images=False)
        ans = collections.Counter(r.answer for r in recs)
        key = (lambda kv: int(kv[0])) if all(a.lstrip("-").isdigit() for a in ans) else (lambda kv: kv[0])
        out[split] = {"n": len(recs), "answers": dict(sorted(ans.items(), key=key))}
    if not out:
        raise InputError(f"{task_dir}: no split files (train/val/test.jsonl)")
    return out


def format_summary(task_dir, summary: dict) -> str:
    lines = [f"{task_dir}"]
    for split, s in summary.items():
        bal = ", ".join(f"{a}: {n} ({100 * n / s['n']:.0f}%)" for a, n in s["answers"].items())
        lines.append(f"  {split:5s} n={s['n']:5d}  answers: {bal}")
    return "\n".join(lines)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # old Pillow
        return ImageFont.load_default()


def render_example(task_dir: Path, rec, thumb_h: int = 220, width: int = 900, font_size: int = 14) -> Image.Image:
    """One panel: the record's images (scaled to thumb_h, in order, numbered), then the id,
    question text and answer."""
    thumbs = []
    for rel in rec.images:
        try:
            with Image.open(task_dir / rel) as im:
                im = im.convert("RGB")
        except OSError as e:  # truncated or not an image: PIL's message names no file
            raise InputError(f"{task_dir / rel}: cannot read image of record {rec.id} ({e})") from None
        s = thumb_h / im.height
        thumbs.append(im.resize((max(1, round(im.width * s)), thumb_h)))
    row_w = sum(t.width for t in thumbs) + 8 * (len(thumbs) - 1)
    if row_w > width:  # shrink to fit the panel width
        s = width / row_w
        thumbs = [t.resize((max(1, round(t.width * s)), max(1, round(t.height * s)))) for t in thumbs]
    font = _font(font_size)
    chars = max(20, int(width / (font_size * 0.55)))
    text = [f"[{rec.split}] {rec.id}"]
    for para in rec.question.split("\n"):
        text += textwrap.wrap(para, chars) or [""]
    gold = rec.answer if not rec.choices else f"{rec.answer} ({rec.choices['ABCDE'.index(rec.answer)]})"
    text.append(f"ANSWER: {gold}")
    line_h = font_size + 4
    h_img = max(t.height for t in thumbs)
    panel = Image.new("RGB", (width, h_img + 10 + line_h * len(text) + 10), "white")
    d = ImageDraw.Draw(panel)
    x = 0
    for i, t in enumerate(thumbs, 1):
        panel.paste(t, (x, 0))
        d.rectangle([x, 0, x + 18, 16], fill="black")
        d.text((x + 4, 1), str(i), fill="white", font=_font(12))
        x += t.width + 8
    y = h_img + 10
    for line in text:
        color = (0, 110, 0) if line.startswith("ANSWER:") else (0, 0, 0)
        d.text((4, y), line, fill=color, font=font)
        y += line_h
    return panel


def contact_sheet(task_dir, out_png, n_per_split: int = 2, seed: int = 0, splits=SPLITS, width: int = 900) -> Path:
    """Write a PNG stacking `n_per_split` random examples of each split present."""
    task_dir, out_png = Path(task_dir), Path(out_png)
    rng = random.Random(seed)
    panels = []
    for split in splits:
        if not (task_dir / f"{split}.jsonl").is_file():
            continue
        recs = read_split(task_dir, split)
        for rec in rng.sample(recs, min(n_per_split, len(recs))):
            panels.append(render_example(task_dir, rec, width=width))
    if not panels:
        raise InputError(f"{task_dir}: no examples to render")
    sheet = Image.new("RGB", (width, sum(p.height for p in panels) + 6 * len(panels)), (200, 200, 200))
    y = 0
    for p in panels:
        sheet.paste(p, (0, y))
        y += p.height + 6
    with atomic_path(out_png) as tmp:
        sheet.save(tmp, format="PNG")
    return out_png
