# Evaluation: one job per cell (experiment, backbone, train set, method, seed, test task). Methods
# that do not train evaluate the base model (`evaluate_base`: no seed, once), or another method's
# checkpoint (`checkpoint_of`), at each seed it was trained at.
# A trained method's cells and those of its test-time variants (`checkpoint_of` it) on one test
# task are one job (livr.workflow.jobs.evaluate_jobs, as DVC's): the checkpoint is loaded once
# and each image's vision features computed once (rule `evaluate_<method>` per such group).
# A cell of a trained checkpoint is evaluated again with the run's unselected checkpoint
# (evaluate_unselected), so every such cell is in the database at both candidate weights.
# `params.settings` is the resolved eval config (livr.settings.EvalConfig): the params rerun trigger.


rule evaluate:
    input:
        per_job(jobs.eval_inputs),
        doctor_gate,
    output:
        predictions=L.cell_file("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}", "{task}"),
        summary=L.cell_summary("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}", "{task}"),
    log:
        L.log("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}", "{task}")),
    benchmark:
        L.timing("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}", "{task}"))
    wildcard_constraints:
        method=_one_of(single_eval_methods(trained=True)),
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=per_job(jobs.eval_mem_mb),  # livr/ops/job_memory.py: a documented estimate per backbone and task
    params:
        settings=per_job(jobs.eval_settings),
        params_file=PARAMS_FILE,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --seed {wildcards.seed} --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"


rule evaluate_base:
    """A cell of the untrained base model (zero-shot): no seed."""
    input:
        per_job(jobs.eval_inputs),
        doctor_gate,
    output:
        predictions=L.cell_file("{exp}", "{backbone}", "{train_set}", "{method}", None, "{task}"),
        summary=L.cell_summary("{exp}", "{backbone}", "{train_set}", "{method}", None, "{task}"),
    log:
        L.log("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", "{method}", None, "{task}")),
    benchmark:
        L.timing("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", "{method}", None, "{task}"))
    wildcard_constraints:
        method=_one_of(single_eval_methods(trained=False)),
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=per_job(jobs.eval_mem_mb),
    params:
        settings=per_job(jobs.eval_settings),
        params_file=PARAMS_FILE,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp}"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"


for _methods in jobs.merged_eval_groups(config, EXP):

    rule:
        name:
            f"evaluate_{_methods[0]}"
        input:
            per_job(jobs.eval_inputs, method=_methods[0]),
            doctor_gate,
        output:
            predictions=group_cell_files(_methods, L.cell_file),
            summaries=group_cell_files(_methods, L.cell_summary),
        log:
            L.log("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", _methods[0], "{seed}", "{task}")),
        benchmark:
            L.timing("{exp}", "evaluate", *job_parts("{backbone}", "{train_set}", _methods[0], "{seed}", "{task}"))
        wildcard_constraints:
            exp=re.escape(EXP),
        threads: threads_of
        resources:
            gpu=gpus_of,
            mem_mb=per_job(jobs.eval_mem_mb, method=_methods[0]),  # as one cell's: the passes run one after another
        params:
            settings=per_job(jobs.group_eval_settings, methods=_methods),
            outs=group_out_args(_methods),
            method=_methods[0],
            params_file=PARAMS_FILE,
        shell:
            "livr evaluate --params {params.params_file} --experiment {wildcards.exp}"
            " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {params.method}"
            " --seed {wildcards.seed} --task {wildcards.task} --out {params.outs} --threads {threads} > {log} 2>&1"


rule evaluate_unselected:
    input:
        per_job(jobs.eval_inputs, unselected=True),
    output:
        predictions=L.unselected_cell_file("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}", "{task}"),
        summary=L.unselected_cell_summary("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}", "{task}"),
    log:
        L.log("{exp}", "evaluate_unselected", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}", "{task}")),
    benchmark:
        L.timing(
            "{exp}", "evaluate_unselected", *job_parts("{backbone}", "{train_set}", "{method}", "{seed}", "{task}")
        )
    threads: threads_of
    resources:
        gpu=gpus_of,
        mem_mb=per_job(jobs.eval_mem_mb),  # the same job as evaluate, with the run's other checkpoint
    params:
        settings=per_job(jobs.eval_settings, unselected=True),
        params_file=PARAMS_FILE,
    shell:
        "livr evaluate --params {params.params_file} --experiment {wildcards.exp} --unselected"
        " --backbone {wildcards.backbone} --train-set {wildcards.train_set} --method {wildcards.method}"
        " --seed {wildcards.seed} --task {wildcards.task} --out {output.predictions} --threads {threads} > {log} 2>&1"
