#!/bin/sh
# First command of every dvc.yaml stage: stop when workflow/dvc/cells.yaml (the job lists DVC
# iterates over) was generated for another experiment than params.yaml selects.
# usage: dvc_guard.sh CELLS_EXPERIMENT PARAMS_EXPERIMENT
[ "$1" = "$2" ] && exit 0
echo "dvc.yaml: workflow/dvc/cells.yaml lists the jobs of experiment '$1' but params.yaml selects '$2'." >&2
echo "Regenerate it first: python workflow/scripts/dvc_cells.py --experiment $2" >&2
exit 1
