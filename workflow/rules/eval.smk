# Evaluation: one job per cell (experiment, backbone, train set, method, test task). Methods
# that do not train evaluate the base model, or another method's checkpoint (`checkpoint_of`).
# A cell of a trained checkpoint is evaluated again with the run's unselected checkpoint
# (evaluate_unselected), so every such cell is in the database at both candidate weights.
# `params.settings` is the resolved eval config (livr.settings.EvalConfig): the params rerun trigger.


rule evaluate:
    input:
        eval_inputs,
        doctor_gate,
    output:
        predictions=L.cell_file("{exp}", "{backbone}", "{train_set}", "{method}", "{task}"),
        summary=L.cell_summary("{exp}", "{backbone}", "{train_set}", "{method}", "{task}"),
    log:
        L.log("{exp}", "evaluate", "{backbone}", "{train_set}", "{method}", "{task}"),
    benchmark:
        L.timing("{exp}", "evaluate", "{backbone}", "{train_set}", "{method}", "{task}")
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=eval_mem_mb,  # livr/ops/job_memory.py: a documented estimate per backbone and task
    params:
        settings=eval_settings,
        params_file=PARAMS_FILE,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"


rule evaluate_unselected:
    input:
        unselected_eval_inputs,
    output:
        predictions=L.unselected_cell_file("{exp}", "{backbone}", "{train_set}", "{method}", "{task}"),
        summary=L.unselected_cell_summary("{exp}", "{backbone}", "{train_set}", "{method}", "{task}"),
    log:
        L.log("{exp}", "evaluate_unselected", "{backbone}", "{train_set}", "{method}", "{task}"),
    benchmark:
        L.timing("{exp}", "evaluate_unselected", "{backbone}", "{train_set}", "{method}", "{task}")
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=eval_mem_mb,  # the same job as evaluate, with the run's other checkpoint
    params:
        settings=unselected_eval_settings,
        params_file=PARAMS_FILE,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp} --unselected"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"
