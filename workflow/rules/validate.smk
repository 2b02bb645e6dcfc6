# The effective config (params.yaml + --config) is checked before anything else, the way the
# livr CLI checks it (livr.config.validate_params: JSON schema, then names and ranges).
import sys

import yaml

from livr import config as livr_config


def check_config(config):
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


check_config(config)
