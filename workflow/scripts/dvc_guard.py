"""The first stage of every `dvc repro` / `dvc exp run`: stop before DVC touches any output when
workflow/dvc/cells.yaml (the job lists dvc.yaml iterates over) was generated for another
experiment than params.yaml selects.

Every other stage depends on the stamp this writes, so DVC runs this one first; and no output is
DVC-cached, so the checkout `dvc exp run` does before running anything deletes nothing either.
Under `dvc exp run -S experiment=X` (DVC sets DVC_EXP_BASELINE_REV) params.yaml has already been
rewritten by DVC, which drops its comments' alignment, anchors and nulls: when the only change from
the baseline commit is `experiment`, the baseline's file is put back byte for byte.

    usage: dvc_guard.py CELLS_EXPERIMENT PARAMS_EXPERIMENT STAMP
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

PARAMS = Path("params.yaml")
STAMP_TEXT = "workflow/dvc/cells.yaml matches params.yaml\n"  # stable: a rerun invalidates no stage


def restore_params(baseline: str) -> bool:
    """Put back the baseline commit's params.yaml when DVC's rewrite changed only `experiment`."""
    shown = subprocess.run(["git", "show", f"{baseline}:{PARAMS}"], capture_output=True, text=True)
    if shown.returncode != 0:
        return False
    before, now = yaml.safe_load(shown.stdout), yaml.safe_load(PARAMS.read_text())
    if (
        not isinstance(before, dict)
        or not isinstance(now, dict)
        or {**now, "experiment": before.get("experiment")} != before
    ):
        return False
    PARAMS.write_text(shown.stdout)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.rsplit("usage: ", 1)[1].strip(), file=sys.stderr)
        return 2
    cells_exp, params_exp, stamp = argv
    if cells_exp == params_exp:
        Path(stamp).parent.mkdir(parents=True, exist_ok=True)
        if not Path(stamp).is_file() or Path(stamp).read_text() != STAMP_TEXT:
            Path(stamp).write_text(STAMP_TEXT)
        return 0
    baseline = os.environ.get("DVC_EXP_BASELINE_REV")
    restored = "; params.yaml restored" if baseline and restore_params(baseline) else ""
    print(
        f"dvc.yaml: workflow/dvc/cells.yaml lists the jobs of experiment '{cells_exp}' but params.yaml selects "
        f"'{params_exp}'; nothing was run or deleted{restored}. Regenerate it first: "
        f"python workflow/scripts/dvc_cells.py --experiment {params_exp}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
