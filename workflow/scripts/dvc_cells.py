"""Write workflow/dvc/cells.yaml from params.yaml (livr/workflow/dvc_cells.py; --help)."""

import sys

from livr.workflow.dvc_cells import main

if __name__ == "__main__":
    sys.exit(main())
