# LIVR reproduction: the Snakemake front end. Thin on purpose: every job is one `livr` CLI call
# with explicit paths (workflow/rules/*.smk); the cells and their settings come from livr.config.
#
#   snakemake --cores all results/table1.csv                         # the experiment named in params.yaml
#   snakemake --cores all --config experiment=ci results/table1.csv  # another experiment
#   snakemake --workflow-profile workflow/profiles/slurm results/table1.csv
import sys

import yaml

from livr import config as livr_config

PARAMS_FILE = "params.yaml"


configfile: PARAMS_FILE


def _check_config(config):
    """Validate the effective config (params.yaml + --config) the way the livr CLI does."""
    # Jobs call the livr CLI with `--params params.yaml --experiment E`, so only `experiment` may be
    # overridden on the command line: anything else would be seen by Snakemake but not by the jobs.
    on_disk = yaml.safe_load(open(PARAMS_FILE))
    changed = sorted(k for k in config if k != "experiment" and config.get(k) != on_disk.get(k))
    if changed:
        sys.exit(
            f"error: --config may only set 'experiment' (the jobs read {PARAMS_FILE}); "
            f"edit {PARAMS_FILE} to change: {', '.join(changed)}"
        )
    try:
        livr_config.validate_params(config, f"{PARAMS_FILE} (with --config overrides)")
    except livr_config.ConfigError as e:
        sys.exit(f"error: {e}")


_check_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/doctor.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        f"{RESULTS}/table1.csv",
    default_target: True
