import numpy as np
import pytest
from photo_fixtures import fake_hub_snapshot, natural, write_blink_hub, write_coco
from PIL import Image

from livr.cli import main
from livr.data.download import write_manifest
from livr.data.schema import Record, read_split, write_task_dir
from livr.data.sources import blink
from livr.data.tasks.common import image_writer


def _task_dir(tmp_path):
    imgs, splits = {}, {}
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        recs = []
        for i in range(n):
            rels = [f"images/{split}/{i}_{k}.png" for k in range(2)]
            for k, rel in enumerate(rels):
                imgs[rel] = natural(100 * i + 10 * k + len(split))
            recs.append(
                Record(
                    id=f"{split}-{i}",
                    task="jigsaw",
                    split=split,
                    images=rels,
                    question="Which one?\nSelect from the following choices.\n(A) x\n(B) y",
                    choices=["x", "y"],
                    answer="AB"[i % 2],
                    source="fixture",
                )
            )
        splits[split] = recs
    d = tmp_path / "task"
    write_task_dir(d, splits, {"builder": "fixture"}, image_writer(imgs))
    return d


def test_inspect_prints_balance_and_writes_contact_sheet(tmp_path, capsys):
    d = _task_dir(tmp_path)
    out = tmp_path / "sheet.png"
    assert main(["data", "inspect", "--task-dir", str(d), "--out", str(out), "--n", "2"]) == 0
    text = capsys.readouterr().out
    assert "train n=    4" in text and "A: 2 (50%)" in text and "test  n=    2" in text
    im = np.asarray(Image.open(out).convert("RGB"))
    assert im.shape[0] > 600 and im.shape[1] >= 800
    assert im.std() > 20  # images and text, not a blank canvas
    # the question text area is drawn (dark pixels in the white text region under each panel)
    assert (im < 50).mean() > 0.001


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["data", "build", "--task", "nope", "--out", "x"], "unknown task 'nope'; valid tasks: counting, jigsaw"),
        (["data", "download", "--source", "nope"], "unknown source 'nope'; valid sources: pixmo_count, coco2017"),
    ],
)
def test_unknown_names_error_clearly(argv, msg, capsys):
    assert main(argv) == 2
    assert msg in capsys.readouterr().err


def test_unknown_params_key_errors_with_valid_keys(tmp_path, capsys):
    p = tmp_path / "params.yaml"
    p.write_text("paper_data:\n  seed: 1\n  localization:\n    n_trian: 5\n")
    assert main(["data", "build", "--task", "localization", "--out", str(tmp_path / "o"), "--params", str(p)]) == 2
    err = capsys.readouterr().err
    assert "paper_data.localization" in err and "n_trian" in err and "iou_min" in err and "n_train" in err


def test_build_through_cli_with_params(tmp_path, monkeypatch, capsys):
    raw = tmp_path / "raw"
    anns = lambda i, w, h: [((40, 30, 0.55 * w, 0.55 * h), 0.8, 0, 1)]  # noqa: E731
    write_coco(raw / "coco2017", "train2017", [natural(i) for i in range(8)], anns, start_id=1)
    write_coco(raw / "coco2017", "val2017", [natural(50 + i) for i in range(4)], anns, start_id=100)
    write_manifest(raw / "coco2017", {"source": "coco2017"})
    write_blink_hub(tmp_path / "hub", {"Object_Localization": [[natural(90)], [natural(91)]]})
    monkeypatch.setattr(blink, "hub_snapshot", fake_hub_snapshot(tmp_path / "hub"))
    p = tmp_path / "params.yaml"
    p.write_text(
        "sources:\n  blink:\n    configs: [Object_Localization]\n"
        "paper_data:\n  seed: 7\n  localization:\n    n_train: 6\n    n_val: 2\n"
    )
    assert main(["data", "download", "--source", "blink", "--raw-dir", str(raw), "--params", str(p)]) == 0
    out = tmp_path / "loc"
    assert (
        main(["data", "build", "--task", "localization", "--raw-root", str(raw), "--out", str(out), "--params", str(p)])
        == 0
    )
    assert [len(read_split(out, s)) for s in ("train", "val", "test")] == [6, 2, 2]
    import json

    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 7 and m["params"]["n_train"] == 6 and m["params"]["iou_min"] == 0.2


def test_import_through_cli_then_download_is_done(tmp_path, capsys):
    import relational_fixtures as fx

    src = fx.make_funkpoint(tmp_path / "given")
    raw = tmp_path / "raw"
    assert main(["data", "import", "funkpoint", "--from", str(src), "--raw-dir", str(raw)]) == 0
    assert f"imported funkpoint from {src}" in capsys.readouterr().out
    assert main(["data", "download", "--source", "funkpoint", "--raw-dir", str(raw)]) == 0  # nothing left to fetch


@pytest.mark.parametrize(
    "argv,msg",
    [
        (
            ["data", "import", "coco2017", "--from", "x"],
            "source 'coco2017' has no manual step (use `livr data download "
            "--source coco2017`); sources with one: funkpoint, mid",
        ),
        (
            ["data", "import", "mid", "--from", "/nonexistent/albedo.zip"],
            "/nonexistent/albedo.zip: no such file or directory",
        ),
        (["data", "download", "--source", "funkpoint"], "livr data import funkpoint --from PATH"),
    ],
)
def test_import_and_manual_errors_are_one_line(argv, msg, tmp_path, capsys):
    argv = argv + ["--raw-dir", str(tmp_path / "raw")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_sources_key_errors_with_valid_keys(tmp_path, capsys):
    p = tmp_path / "params.yaml"
    p.write_text("sources:\n  nights:\n    mdoe: full\n")
    assert main(["data", "download", "--source", "nights", "--raw-dir", str(tmp_path), "--params", str(p)]) == 2
    err = capsys.readouterr().err
    assert "params.yaml sources.nights: unknown key(s) ['mdoe']" in err and "mode" in err and "need" in err


def test_failed_download_is_one_line_naming_the_url(tmp_path, capsys):
    from _httpserver import Files, serve

    files = Files()  # serves nothing: every path answers 404
    with serve(files) as base:
        url = f"{base}/artbench.tar"
        p = tmp_path / "params.yaml"
        p.write_text(f"sources:\n  artbench10:\n    urls: [{url}]\n    retries: 0\n")
        assert (
            main(["data", "download", "--source", "artbench10", "--raw-dir", str(tmp_path / "raw"), "--params", str(p)])
            == 1
        )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]  # after the per-mirror warnings
    assert last == f"livr data download: failed: artbench10: every mirror failed: {url}: HTTP 404 Not Found"
    assert not (tmp_path / "raw" / "artbench10" / "manifest.json").exists()
