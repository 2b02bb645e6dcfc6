# Training: one job per (experiment, backbone, train set, trained method).
#
# The declared output is only runs/<exp>/<backbone>/<train_set>/<method>/final/: intermediate
# checkpoints beside it survive a killed job (Snakemake deletes only declared outputs), so the
# rerun (--rerun-incomplete) resumes from them.
#
# `params.settings` is the cell's fully resolved training config (livr.config.train_config):
# Snakemake's params rerun trigger reruns exactly the jobs whose settings changed when
# params.yaml is edited, and their evaluations follow through the changed checkpoint.


rule train:
    input:
        train_inputs,
        doctor_gate,
    output:
        directory(f"{RUNS}/{{exp}}/{{backbone}}/{{train_set}}/{{method}}/final"),
    params:
        settings=lambda wildcards: jobs.train_settings(
            config, wildcards.exp, wildcards.backbone, wildcards.train_set, wildcards.method),
        run_dir=lambda wildcards: jobs.run_dir(
            config, wildcards.exp, wildcards.backbone, wildcards.train_set, wildcards.method),
        params_file=PARAMS_FILE,
    log:
        "logs/{exp}/train/{backbone}/{train_set}/{method}.log",
    benchmark:
        "benchmarks/{exp}/train/{backbone}/{train_set}/{method}.tsv"
    threads: threads_of
    resources:
        gpu=gpus_of,
    shell:
        "livr train --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --out {params.run_dir} --threads {threads} > {log} 2>&1"
