# Evaluation: one job per cell (experiment, backbone, train set, method, test task). Methods
# that do not train evaluate the base model, or another method's checkpoint (`checkpoint_of`).
# `params.settings` is the resolved eval config (livr.config.eval_config): the params rerun trigger.


rule evaluate:
    input:
        eval_inputs,
        doctor_gate,
    output:
        predictions=f"{RESULTS}/cells/{{exp}}/{{backbone}}/{{train_set}}/{{method}}/{{task}}.jsonl",
        summary=f"{RESULTS}/cells/{{exp}}/{{backbone}}/{{train_set}}/{{method}}/{{task}}.json",
    params:
        settings=lambda wildcards: jobs.eval_settings(
            config, wildcards.exp, wildcards.backbone, wildcards.train_set, wildcards.method, wildcards.task),
        params_file=PARAMS_FILE,
    log:
        "logs/{exp}/evaluate/{backbone}/{train_set}/{method}/{task}.log",
    benchmark:
        "benchmarks/{exp}/evaluate/{backbone}/{train_set}/{method}/{task}.tsv"
    threads: threads_of
    resources:
        gpu=gpus_of,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"
