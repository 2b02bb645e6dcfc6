"""The job planner both front ends share: `jobs` (the jobs of one experiment, their inputs, settings
and resources, for the Snakemake rules) and `dvc_cells` (the same jobs as the lists dvc.yaml
iterates over, written to workflow/dvc/cells.yaml)."""
