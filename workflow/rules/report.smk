# Results: one process builds the experiment's DuckDB from every cell file (DuckDB has one
# writer: never from parallel jobs), SQL writes the tables, and the selected experiment's tables
# are published as results/table1.csv etc. (the main target, for every experiment).


localrules:
    collect,
    tables,
    publish,
    publish_report,


rule collect:
    input:
        cells=lambda wildcards: cell_files(wildcards.exp) + unselected_cell_files(wildcards.exp),
        analyses=lambda wildcards: analysis_files(wildcards.exp),
        job_timings=lambda wildcards: train_timings(wildcards.exp)
        + eval_timings(wildcards.exp)
        + analysis_timings(wildcards.exp),
        checkpoints=lambda wildcards: checkpoints_of(wildcards.exp),
        datasets=lambda wildcards: report_data(wildcards.exp),
    output:
        L.database("{exp}"),
    log:
        L.log("{exp}", "collect", "collect"),
    benchmark:
        L.timing("{exp}", "collect", "collect")
    threads: 1
    params:
        train_metrics=lambda wildcards: train_metrics_files(wildcards.exp),
    shell:
        "livr collect --cells {input.cells} --analyses {input.analyses} --job-timings {input.job_timings}"
        " --train-metrics {params.train_metrics} --experiment {wildcards.exp} --datasets {input.datasets}"
        " --out {output} > {log} 2>&1"


rule tables:
    """The paper's tables as CSV, and the experiment's DVC metrics (metrics/) and plots
    (val_curves.csv) from the same database."""
    input:
        L.database("{exp}"),
    output:
        [L.result_file("{exp}", name) for name in jobs.TABLES],
        selection=L.result_file("{exp}", jobs.SELECTION),
        metrics=directory(L.result_file("{exp}", jobs.METRICS)),
        curves=directory(L.result_file("{exp}", jobs.VAL_CURVES)),
    log:
        L.log("{exp}", "tables", "tables"),
    benchmark:
        L.timing("{exp}", "tables", "tables")
    threads: 1
    params:
        out_dir=lambda wildcards: L.experiment_dir(wildcards.exp),
        paper_backbones=lambda wildcards: jobs.paper_backbone_args(config, wildcards.exp),
    shell:
        "livr tables --db {input} --experiment {wildcards.exp} --out-dir {params.out_dir}"
        " --paper-backbone {params.paper_backbones} > {log} 2>&1"


rule publish:
    """The selected experiment's database and tables at the top of results/ (copies)."""
    input:
        db=L.database(EXP),
        tables=[L.result_file(EXP, name) for name in jobs.TABLES],
    output:
        db=L.published(jobs.DATABASE),
        tables=[L.published(name) for name in jobs.TABLES],
    log:
        L.log("shared", "publish", "publish"),
    benchmark:
        L.timing("shared", "publish", "publish")
    threads: 1
    params:
        experiment=EXP,
        out_dir=lambda wildcards, output: str(Path(output.db).parent),
    shell:
        "(cp {input.db} {output.db} && cp {input.tables} {params.out_dir}/) > {log} 2>&1"


rule report:
    """results/<exp>/report.html: tables, LIVR-SFT deltas beside the paper's, training curves,
    latent-to-image attention maps (loads each LIVR checkpoint: a GPU for real backbones) and
    per-example failures, in one self-contained page (livr/report/)."""
    input:
        db=L.database("{exp}"),
        checkpoints=lambda wildcards: livr_checkpoints(wildcards.exp),
        data=lambda wildcards: report_data(wildcards.exp),
        models=lambda wildcards: report_models(wildcards.exp),
    output:
        L.result_file("{exp}", jobs.REPORT),
    log:
        L.log("{exp}", "report", "report"),
    benchmark:
        L.timing("{exp}", "report", "report")
    threads: threads_of
    resources:
        gpu=lambda wildcards: report_gpus(wildcards.exp),
    params:
        params_file=PARAMS_FILE,
    shell:
        "livr report --params {params.params_file} --experiment {wildcards.exp} --db {input.db}"
        " --out {output} --threads {threads} > {log} 2>&1"


rule publish_report:
    """The selected experiment's report at results/report.html (a copy)."""
    input:
        L.result_file(EXP, jobs.REPORT),
    output:
        L.published(jobs.REPORT),
    log:
        L.log("shared", "publish_report", "publish_report"),
    benchmark:
        L.timing("shared", "publish_report", "publish_report")
    threads: 1
    shell:
        "cp {input} {output} > {log} 2>&1"
