# LIVR reproduction: the Snakemake front end. Thin on purpose: every job is one `livr` CLI call
# with explicit paths (workflow/rules/*.smk); the cells and their settings come from livr.config
# and livr.settings, the paths from livr.layout.
#
#   snakemake --cores all results/table1.csv                         # the experiment named in params.yaml
#   snakemake --cores all results/table1.csv --config experiment=ci  # another experiment
#   snakemake --workflow-profile workflow/profiles/slurm results/table1.csv
PARAMS_FILE = "params.yaml"


configfile: PARAMS_FILE


include: "workflow/rules/validate.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/doctor.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/report.smk"


# A run of tiny backbones on this machine forks its `livr` jobs from one process that has imported
# torch and transformers already (livr/ops/warm_jobs.py; LIVR_WARM_JOBS=0 turns it off).
_warm = []


onstart:
    if workflow.local_exec and jobs.starts_warm(config, EXP):
        _warm.append(warm_jobs.start(L.log(EXP, "warm_jobs"), jobs.job_threads(config, EXP)))


onsuccess:
    for server in _warm:
        warm_jobs.stop(server)


onerror:
    for server in _warm:
        warm_jobs.stop(server)


rule all:
    default_target: True
    input:
        L.published("table1.csv"),
