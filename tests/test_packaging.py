"""A non-editable install (a wheel) carries every data file the code reads: params schema, SQL,
paper numbers, report template, model configs. The wheel is unpacked outside the source tree and
the code that reads those files runs from it."""

import subprocess
import sys
import zipfile

from workflow_helpers import REPO, copy_repo

CHECK = r"""
import sys
from pathlib import Path
import livr
assert not str(Path(livr.__file__)).startswith(sys.argv[2]), livr.__file__  # not the source tree
from livr import config
params = config.load_params(sys.argv[1])          # the JSON schema
assert config.cells(params, "ci")
from livr.results import db, tables                 # SQL, paper CSVs
assert db.read_paper() and db.read_paper_datasets() and "CREATE TABLE" in db.SCHEMA_SQL and tables.TABLE_CELLS_SQL
import livr.report                                  # the page template
assert "$tables" in livr.report.PAGE.template
from livr.model.real_configs import load_real_config, shipped_backbones  # shipped hub configs
for name in shipped_backbones():
    assert load_real_config(name)
print("ok")
"""


def test_wheel_carries_every_data_file_the_code_reads(tmp_path):
    src = copy_repo(tmp_path / "src")  # a clean copy: no build/ left over from another build
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("livr-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(REPO / "params.yaml"), str(REPO / "livr")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
