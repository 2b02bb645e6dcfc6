# Training: one job per (experiment, backbone, train set, trained method).
#
# The declared output is only runs/<exp>/<backbone>/<train_set>/<method>/final/: intermediate
# checkpoints beside it survive a killed job (Snakemake deletes only declared outputs), so the
# rerun (--rerun-incomplete) resumes from them.
#
# `params.settings` is the cell's fully resolved training config (livr.settings.TrainConfig):
# Snakemake's params rerun trigger reruns exactly the jobs whose settings changed when
# params.yaml is edited, and their evaluations follow through the changed checkpoint.


rule train:
    input:
        train_inputs,
        doctor_gate,
    output:
        directory(L.checkpoint_dir("{exp}", "{backbone}", "{train_set}", "{method}")),
    params:
        settings=train_settings,
        run_dir=run_dir_of,
        params_file=PARAMS_FILE,
    log:
        L.log("{exp}", "train", "{backbone}", "{train_set}", "{method}"),
    benchmark:
        L.benchmark("{exp}", "train", "{backbone}", "{train_set}", "{method}")
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=train_mem_mb,  # livr/job_memory.py: a documented estimate per backbone and task
    shell:
        "livr train --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --out {params.run_dir} --threads {threads} > {log} 2>&1"
