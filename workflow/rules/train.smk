# Training: one job per (experiment, backbone, train set, trained method, seed of the experiment's `seeds`).
#
# The declared outputs are only runs/<exp>/<backbone>/<train_set>/<method>/seed<S>/final/ (the kept model)
# and unselected/ (the other candidate: last step or best validation accuracy): intermediate
# checkpoints beside them survive a killed job (Snakemake deletes only declared outputs), so the
# rerun (--rerun-incomplete) resumes from them.
#
# `params.settings` is the cell's fully resolved training config (livr.settings.TrainConfig):
# Snakemake's params rerun trigger reruns exactly the jobs whose settings changed when
# params.yaml is edited, and their evaluations follow through the changed checkpoint.


rule train:
    input:
        per_job(jobs.train_inputs),
        doctor_gate,
    output:
        final=directory(L.checkpoint_dir("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}")),
        unselected=directory(L.unselected_checkpoint_dir("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}")),
    log:
        L.log("{exp}", "train", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}")),
    benchmark:
        L.timing("{exp}", "train", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}"))
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=per_job(jobs.train_mem_mb),  # livr/ops/job_memory.py: a documented estimate per backbone and task
    params:
        settings=per_job(jobs.train_settings),
        run_dir=run_dir_of,
        params_file=PARAMS_FILE,
    shell:
        "livr train --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --seed {wildcards.seed} --out {params.run_dir} --threads {threads} > {log} 2>&1"


rule analyze:
    """The paper's analyses of a trained model with latent tokens (Sec. 4.3.1, Appendix C): the
    answer->latent attention share per task and t-SNE points of final-layer hidden states."""
    input:
        per_job(jobs.analysis_inputs),
        doctor_gate,
    output:
        L.analysis_file("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}"),
    log:
        L.log("{exp}", "analyze", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}")),
    benchmark:
        L.timing("{exp}", "analyze", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}"))
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=per_job(jobs.train_mem_mb),  # the run's training estimate bounds its analysis (same model and data, no gradients)
    params:
        settings=per_job(jobs.analysis_settings),
        params_file=PARAMS_FILE,
    shell:
        "livr analyze --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --seed {wildcards.seed} --out {output} --threads {threads} > {log} 2>&1"
