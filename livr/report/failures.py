"""Report section 4: for each LIVR cell, the test examples where LIVR is wrong or LIVR and SFT
disagree, with question, image thumbnails, gold, and both models' raw and parsed outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from livr import config as livr_config
from livr.data.schema import read_split
from livr.report.html import esc, img_tag, parsed_html, png_uri

LIVR, BASELINE = "livr", "sft"
THUMB = 128  # px: thumbnails keep the page small
CATEGORIES = {  # failure category -> (label, sort order)
    "livr_wrong_sft_right": ("LIVR wrong, SFT right", 0),
    "livr_right_sft_wrong": ("LIVR right, SFT wrong", 1),
    "both_wrong": ("both wrong", 2),
    "livr_wrong_no_sft": ("LIVR wrong (no SFT cell)", 3),
}

FAILURES_SQL = """
SELECT l.backbone, l.train_set, l.task, l.id, l.gold,
       l.raw_output AS livr_raw, l.parsed AS livr_parsed, l.correct AS livr_correct,
       s.raw_output AS sft_raw, s.parsed AS sft_parsed, s.correct AS sft_correct,
       CASE WHEN s.id IS NULL THEN 'livr_wrong_no_sft'
            WHEN NOT l.correct AND s.correct THEN 'livr_wrong_sft_right'
            WHEN l.correct AND NOT s.correct THEN 'livr_right_sft_wrong'
            ELSE 'both_wrong' END AS category
FROM predictions l
LEFT JOIN predictions s
  ON s.experiment = l.experiment AND s.backbone = l.backbone AND s.train_set = l.train_set
 AND s.task = l.task AND s.id = l.id AND s.method = $baseline AND s.selected
 AND s.seed IS NOT DISTINCT FROM l.seed  -- several training seeds: LIVR's seed s against SFT's seed s
WHERE l.experiment = $experiment AND l.method = $livr AND l.selected
  AND (NOT l.correct OR (s.id IS NOT NULL AND s.correct <> l.correct))
ORDER BY l.backbone, l.train_set, l.task, l.id
"""


class Thumbnails:
    """Thumbnails of test images, each encoded once."""

    def __init__(self):
        self.cache: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        if path not in self.cache:
            from PIL import Image

            with Image.open(path) as im:
                im = im.convert("RGB")
                im.thumbnail((THUMB, THUMB))
                self.cache[path] = png_uri(im)
        return self.cache[path]


def test_records(params: dict, experiment: str, task: str) -> tuple[Path, dict]:
    """(task dir, id -> Record of its test split); an empty dict when the data is not there."""
    d = Path(livr_config.task_dir(params, experiment, task))
    if not (d / "test.jsonl").is_file():
        return d, {}
    return d, {r.id: r for r in read_split(d, "test", check_images=False)}


def failure_rows(con, experiment: str) -> pd.DataFrame:
    """Every example where LIVR is wrong or LIVR and SFT disagree, with its category."""
    frame = con.execute(FAILURES_SQL, {"experiment": experiment, "livr": LIVR, "baseline": BASELINE}).fetchdf()
    frame = frame.astype(object).where(frame.notna(), None)  # NULL stays None (unparsable), not NaN
    if not frame.empty:
        frame["order"] = frame["category"].map(lambda c: CATEGORIES[c][1])
        frame = frame.sort_values(["backbone", "train_set", "task", "order", "id"], kind="stable").drop(columns="order")
    return frame


def _row_html(r: dict, rec, task_dir: Path, thumbs: Thumbnails) -> str:
    images = "".join(img_tag(thumbs(task_dir / p), "thumb", p) for p in rec.images) if rec else ""
    question = esc(rec.question) if rec else '<span class="note">(record not found)</span>'
    sft = (
        parsed_html(r["sft_parsed"], r["sft_correct"]) + f"<pre>{esc(r['sft_raw'])}</pre>"
        if r["sft_raw"] is not None
        else '<span class="note">(no SFT cell)</span>'
    )
    return (
        f'<tr class="fail-row {r["category"]}" data-id="{esc(r["id"])}">'
        f'<td>{esc(r["id"])}<br><span class="cat">{esc(CATEGORIES[r["category"]][0])}</span></td>'
        f'<td><pre class="q">{question}</pre></td><td>{images}</td><td><b>{esc(r["gold"])}</b></td>'
        f"<td>{parsed_html(r['livr_parsed'], r['livr_correct'])}<pre>{esc(r['livr_raw'])}</pre></td>"
        f"<td>{sft}</td></tr>"
    )


def failures_section(con, params, experiment: str, max_examples: int) -> tuple[str, list[str]]:
    """(HTML, ids listed); '' without LIVR cells."""
    frame = failure_rows(con, experiment)
    if (
        frame.empty
        and not con.execute(
            "SELECT count(*) FROM runs WHERE experiment = ? AND method = ? AND selected", [experiment, LIVR]
        ).fetchone()[0]
    ):
        return "", []
    if frame.empty:
        return '<p class="note">No failures: LIVR is right wherever it was evaluated and agrees with SFT.</p>', []
    acc = {
        (r[0], r[1], r[2], r[3]): r[4]
        for r in con.execute(
            "SELECT backbone, train_set, task, method, accuracy FROM metrics WHERE experiment = ? AND method IN (?, "
            "?) AND selected",
            [experiment, LIVR, BASELINE],
        ).fetchall()
    }
    thumbs = Thumbnails()
    parts, listed = [], []
    for (backbone, train_set, task), g in frame.groupby(["backbone", "train_set", "task"], sort=False):
        counts = g["category"].value_counts()
        summary = ", ".join(f"{CATEGORIES[c][0]}: {counts[c]}" for c in CATEGORIES if c in counts)
        shown = g.head(max_examples)
        task_dir, records = test_records(params, experiment, task)
        accs = " · ".join(
            f"{'LIVR' if m == LIVR else 'SFT'} {acc[(backbone, train_set, task, m)]:.2f}%"
            for m in (LIVR, BASELINE)
            if (backbone, train_set, task, m) in acc
        )
        parts.append(
            f'<details class="cell"{" open" if not parts else ""}><summary><b>{esc(backbone)}</b> / trained on '
            f"{esc(train_set)} / test {esc(task)} ({accs}): {summary} (showing {len(shown)} of {len(g)})</summary>"
        )
        if not records:
            parts.append(f'<p class="warn">{esc(task_dir)}: test data not found; questions and images omitted</p>')
        parts.append(
            '<table class="fail"><tr><th style="width:12%">id / category</th><th style="width:26%">question</th>'
            '<th style="width:20%">images</th><th style="width:6%">gold</th>'
            "<th>LIVR: parsed / raw</th><th>SFT: parsed / raw</th></tr>"
        )
        for r in shown.to_dict("records"):
            parts.append(_row_html(r, records.get(r["id"]), task_dir, thumbs))
            listed.append(r["id"])
        parts.append("</table></details>")
    return "".join(parts), listed
